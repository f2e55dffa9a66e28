package uptime_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nightjar-dev/nightjar/uptime"
)

// Replicas that saw different requests of the same users agree on each
// user's last request whatever order they merge in: the later request
// wins, and at the same millisecond a failure wins.
func TestMergeIsOrderFree(t *testing.T) {
	ms := t0.UnixMilli()
	a := []uptime.Last{{Key: 1, AtMs: ms, Failed: true}, {Key: 2, AtMs: ms + 5}, {Key: 3, AtMs: ms + 7}, {Key: 4, AtMs: ms}}
	b := []uptime.Last{{Key: 1, AtMs: ms + 1}, {Key: 2, AtMs: ms + 4, Failed: true}, {Key: 3, AtMs: ms + 7, Failed: true}, {Key: 4, AtMs: ms}}
	want := map[uint64]uptime.Last{1: b[0], 2: a[1], 3: b[2], 4: a[3]}
	for _, m := range []map[uint64]uptime.Last{uptime.Merge(a, b), uptime.Merge(b, a)} {
		for k, l := range want {
			if m[k] != l {
				t.Errorf("user %d: merged %+v, want %+v", k, m[k], l)
			}
		}
	}
	// Any order of many observations ends where the merge does.
	rng := rand.New(rand.NewPCG(1, 2))
	var all []uptime.Last
	for range 2000 {
		all = append(all, uptime.Last{Key: uint64(rng.IntN(50)), AtMs: ms + int64(rng.IntN(100)), Failed: rng.IntN(2) == 0})
	}
	merged := uptime.Merge(all)
	for range 5 {
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		r := uptime.NewRecent()
		for _, l := range all {
			r.Observe(l)
		}
		for k, l := range merged {
			if got, _ := r.Get(k); got != l {
				t.Fatalf("user %d: observed in another order %+v, merged %+v", k, got, l)
			}
		}
	}
}

// Changed hands out each user whose last request changed once, until it
// changes again or MarkChanged puts it back after a failed write.
func TestRecentChanged(t *testing.T) {
	ms := t0.UnixMilli()
	r := uptime.NewRecent()
	keys := func(ls []uptime.Last) []uint64 {
		var out []uint64
		for _, l := range ls {
			out = append(out, l.Key)
		}
		slices.Sort(out)
		return out
	}
	r.Observe(uptime.Last{Key: 1, AtMs: ms})
	r.Observe(uptime.Last{Key: 2, AtMs: ms, Failed: true})
	first := r.Changed()
	if got := keys(first); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("first hand-out %v, want [1 2]", got)
	}
	if got := r.Changed(); len(got) != 0 {
		t.Fatalf("nothing changed, yet %v handed out", got)
	}
	if r.Observe(uptime.Last{Key: 2, AtMs: ms}) {
		t.Error("an ok request at the same millisecond as a failed one replaced it")
	}
	if r.Observe(uptime.Last{Key: 1, AtMs: ms - 1, Failed: true}) {
		t.Error("an older request replaced a later one")
	}
	if got := r.Changed(); len(got) != 0 {
		t.Fatalf("requests that changed nothing handed out %v", got)
	}
	r.Observe(uptime.Last{Key: 1, AtMs: ms + 1, Failed: true})
	if got := r.Changed(); len(got) != 1 || got[0] != (uptime.Last{Key: 1, AtMs: ms + 1, Failed: true}) {
		t.Fatalf("after user 1 failed: %v", got)
	}
	r.MarkChanged(first)
	if got := keys(r.Changed()); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("after a failed write: %v, want [1 2]", got)
	}
	r.Forget(ms + 1)
	if r.Len() != 1 {
		t.Fatalf("forgetting users before %d left %d", ms+1, r.Len())
	}
	if b := r.BadTimeNow(t0, 0); b != (uptime.BadTime{}) {
		t.Errorf("bad time before user 1's last request: %+v", b)
	}
	if b := r.BadTimeNow(t0.Add(1e6), 1e9); b != (uptime.BadTime{Active: 1, Down: 1}) {
		t.Errorf("bad time with user 1 failed: %+v", b)
	}
}
