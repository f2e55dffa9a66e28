package checks

import (
	"reflect"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// What the cache hands out and what it keeps share nothing: changing a
// check's tags, channels, metric rules or last metrics after committing it,
// or on a copy the cache returned, leaves the cached check as it was.
func TestCacheCopiesDeeply(t *testing.T) {
	c := newCache(10)
	from, to := store.WriteMark{Changes: 1}, store.WriteMark{Changes: 2}
	c.begin(from)
	newCheck := func() *nightjar.Check {
		return &nightjar.Check{ID: "a", Tags: []string{"prod"}, Channels: []string{"ch1"}, MetricRules: []string{"bytes > 0"},
			State: nightjar.CheckState{LastMetrics: map[string]float64{"bytes": 1}}}
	}
	want := newCheck()
	committed := newCheck()
	c.commit(from, to, []*nightjar.Check{committed})
	mutate := func(ch *nightjar.Check) {
		ch.Tags[0], ch.Channels[0], ch.MetricRules[0] = "changed", "changed", "changed"
		ch.State.LastMetrics["bytes"] = 2
		ch.State.LastMetrics["rows"] = 3
	}
	mutate(committed)
	got := c.get("a")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("a change to the committed check reached the cache: %+v", got)
	}
	mutate(got)
	if again := c.get("a"); !reflect.DeepEqual(again, want) {
		t.Fatalf("a change to a returned check reached the cache: %+v", again)
	}

	// A check that tells all its channels (nil) stays so; one that tells
	// none (empty) stays so too.
	all, none := newCheck(), newCheck()
	all.ID, all.Channels = "all", nil
	none.ID, none.Channels = "none", []string{}
	c.commit(to, to, []*nightjar.Check{all, none})
	if got := c.get("all"); got.Channels != nil {
		t.Fatalf("nil channels came back as %#v", got.Channels)
	}
	if got := c.get("none"); got.Channels == nil || len(got.Channels) != 0 {
		t.Fatalf("no channels came back as %#v", got.Channels)
	}
}

// deepCopy copies every slice and map a check holds, including any added
// to the type later: this fills each with a value, changes the copy's, and
// looks for the change in the original.
func TestDeepCopyCoversEveryField(t *testing.T) {
	filled := func() *nightjar.Check {
		c := &nightjar.Check{}
		eachReference(t, reflect.ValueOf(c).Elem(), "Check", func(f reflect.Value, _ string) {
			if f.Kind() == reflect.Slice {
				f.Set(reflect.MakeSlice(f.Type(), 1, 1))
			} else {
				f.Set(reflect.MakeMap(f.Type()))
				f.SetMapIndex(reflect.Zero(f.Type().Key()), reflect.Zero(f.Type().Elem()))
			}
		})
		return c
	}
	orig, want := filled(), filled()
	cp := deepCopy(orig)
	eachReference(t, reflect.ValueOf(cp).Elem(), "Check", func(f reflect.Value, name string) {
		if f.Kind() == reflect.Slice {
			f.Index(0).Set(nonZero(t, f.Type().Elem(), name))
		} else {
			f.SetMapIndex(nonZero(t, f.Type().Key(), name), reflect.Zero(f.Type().Elem()))
		}
	})
	if !reflect.DeepEqual(orig, want) {
		t.Fatalf("a change to a copy reached the original:\n%+v\nwant\n%+v", orig, want)
	}
}

// eachReference calls fn for every slice and map field of the struct v,
// nested structs included, and fails on fields that refer to shared data
// in other ways (pointers, interfaces, channels, functions), which this
// test cannot judge.
func eachReference(t *testing.T, v reflect.Value, path string, fn func(f reflect.Value, name string)) {
	t.Helper()
	for i := 0; i < v.NumField(); i++ {
		f, name := v.Field(i), path+"."+v.Type().Field(i).Name
		switch f.Kind() {
		case reflect.Struct:
			if f.Type().PkgPath() != "time" {
				eachReference(t, f, name, fn)
			}
		case reflect.Slice, reflect.Map:
			fn(f, name)
		case reflect.Pointer, reflect.Interface, reflect.Chan, reflect.Func:
			t.Fatalf("%s is a %s: make deepCopy copy it and this test cover it", name, f.Kind())
		}
	}
}

func nonZero(t *testing.T, typ reflect.Type, name string) reflect.Value {
	t.Helper()
	v := reflect.New(typ).Elem()
	switch typ.Kind() {
	case reflect.String:
		v.SetString("changed")
	case reflect.Int, reflect.Int64:
		v.SetInt(1)
	case reflect.Float64:
		v.SetFloat(1)
	default:
		t.Fatalf("%s holds %s: teach this test to change one", name, typ)
	}
	return v
}
