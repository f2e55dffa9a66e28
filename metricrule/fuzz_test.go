package metricrule

import (
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{
		"bytes >= 1e6",
		"rows > 0",
		"bytes >= 0.5 * previous",
		"duration < 3600",
		"rows >= previous.rows - 10",
		"a - (b - c) * -d / (e + f) != 2.5E-3",
		`"disk-free" >= previous."disk-free" / 2`,
		`"previous" == previous.previous`,
		"--a <= .5",
		"a / 0 > 1",
		"((a)) > ((1))",
		"a > 0x10",
		"bytes >= ",
		"a < b < c",
		"a > 1e400",
		strings.Repeat("(", 20) + "a" + strings.Repeat(")", 20) + " > 0",
		"a>" + strings.Repeat("1+", 126) + "1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			if r != nil {
				t.Fatalf("ParseRule(%q) returned a rule with error %v", s, err)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseRule(%q) error %v is %T, want *SyntaxError", s, err, err)
			}
			if se.Pos < 1 || se.Pos > len(s)+1 || se.Msg == "" {
				t.Fatalf("ParseRule(%q) error %v has a bad position or message", s, err)
			}
			return
		}
		assertRoundTrip(t, r)

		// Eval never panics and always explains itself, whatever values it
		// meets, including zeros for division and extremes for overflow.
		var names []string
		for _, side := range []*node{r.lhs, r.rhs} {
			side.walk(func(n *node) {
				if n.kind == metricNode || n.kind == previousNode {
					names = append(names, n.text)
				}
			})
		}
		values := []float64{0, 1, -1, 0.5, 1e308, -1e308, 5e-324}
		fill := func(offset int) Metrics {
			m := Metrics{}
			for i, name := range names {
				m[name] = values[(i+offset)%len(values)]
			}
			return m
		}
		for offset := range values {
			for _, prev := range []Metrics{nil, fill(offset + 1)} {
				res := r.Eval(fill(offset), prev)
				if res.Reason == "" {
					t.Fatalf("%q.Eval gave no reason", r)
				}
			}
		}
		if res := r.Eval(nil, nil); res.Reason == "" {
			t.Fatalf("%q.Eval(nil, nil) gave no reason", r)
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"bytes:123456,rows:42",
		"x:1e+06,y:-2.5E-3,z:.5",
		" a : 1 , b:2 ",
		"a:1,a:2",
		"a:NaN",
		"a:1,",
		"1x:1",
		"a:1e400",
		manyPairs(MaxMetrics + 1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseQuery(s)
		if err != nil {
			if m != nil {
				t.Fatalf("ParseQuery(%q) returned metrics with error %v", s, err)
			}
			return
		}
		checkMetrics(t, m)
		// What was accepted reads back the same from its wire form.
		pairs := make([]string, 0, len(m))
		for _, name := range slices.Sorted(maps.Keys(m)) {
			pairs = append(pairs, name+":"+strconv.FormatFloat(m[name], 'g', -1, 64))
		}
		again, err := ParseQuery(strings.Join(pairs, ","))
		if err != nil {
			t.Fatalf("wire form of %v does not parse: %v", m, err)
		}
		if !maps.Equal(m, again) {
			t.Fatalf("wire form of %v parses to %v", m, again)
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"metrics": {"bytes": 1000, "rows": 42}}`,
		`{"bytes": 1e6, "status": "ok", "nested": {"x": 1}}`,
		`{"metrics": {"bytes": "12"}}`,
		`{"metrics": null}`,
		`{"huge": 1e400}`,
		`[1, 2]`,
		"backup done\n",
		`{"a":1}{"b":2}`,
		flatJSON(MaxMetrics + 1),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseJSON(body)
		if err != nil {
			if m != nil {
				t.Fatalf("ParseJSON(%q) returned metrics with error %v", body, err)
			}
			return
		}
		if m != nil && len(m) == 0 {
			t.Fatalf("ParseJSON(%q) returned an empty non-nil map", body)
		}
		checkMetrics(t, m)
	})
}

// checkMetrics asserts the invariants every parsed Metrics holds.
func checkMetrics(t *testing.T, m Metrics) {
	t.Helper()
	if len(m) > MaxMetrics {
		t.Fatalf("%d metrics, more than %d", len(m), MaxMetrics)
	}
	for name, v := range m {
		if err := checkName(name); err != nil {
			t.Fatalf("accepted bad name: %v", err)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("accepted non-finite value %v for %q", v, name)
		}
	}
}
