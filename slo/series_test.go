package slo_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/slo"
)

// A series answers every window sum as adding its minutes one by one
// would, whatever order the minutes came in, late ones included, and
// forgets exactly the minutes older than it keeps.
func TestSeriesSumsMatchMinuteByMinute(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		keep := 1 + rng.IntN(50)
		s := slo.NewSeries(keep)
		minutes := map[int64]slo.Counts{}
		var newest int64 = -1 << 62
		base := t0.Unix() / 60
		for range 1 + rng.IntN(120) {
			// Mostly forward, sometimes back to around the oldest minute
			// kept, sometimes a gap longer than the series keeps.
			m := base + int64(rng.IntN(40))
			if newest > -1<<62 {
				switch rng.IntN(6) {
				case 0:
					m = newest - int64(keep) + int64(rng.IntN(5)) - 2
				case 1:
					m = newest + int64(keep) + int64(rng.IntN(keep))
				default:
					m = newest + int64(rng.IntN(4)) - 1
				}
			}
			c := slo.Counts{Total: uint64(rng.IntN(100)), UpMs: int64(rng.IntN(60000)), DownMs: int64(rng.IntN(1000))}
			c.Good = uint64(rng.IntN(int(c.Total) + 1))
			// Any instant inside the minute belongs to it.
			at := time.Unix(m*60+int64(rng.IntN(60)), 0)
			accepted := s.Add(at, c)
			oldestKept := max(newest, m) - int64(keep) + 1
			if want := m >= oldestKept; accepted != want {
				t.Fatalf("seed %d: Add(minute %d) = %v with newest %d and %d kept, want %v", seed, m-base, accepted, newest-base, keep, want)
			}
			if accepted {
				minutes[m] = minutes[m].Add(c)
				newest = max(newest, m)
			}
			// Check a few random windows, on and off minute boundaries.
			for range 5 {
				a := newest - int64(keep) - 5 + int64(rng.IntN(keep+10))
				b := a + int64(rng.IntN(keep+10))
				fromOff, toOff := int64(rng.IntN(2))*int64(rng.IntN(60)), int64(rng.IntN(2))*int64(rng.IntN(60))
				from, to := time.Unix(a*60+fromOff, 0), time.Unix(b*60+toOff, 0)
				var want slo.Counts
				first := a
				if fromOff > 0 {
					first++
				}
				for k := max(first, newest-int64(keep)+1); k < b; k++ {
					want = want.Add(minutes[k])
				}
				if got := s.Sum(from, to); got != want {
					t.Fatalf("seed %d: Sum(%d+%ds, %d+%ds) = %+v, want %+v", seed, a-base, fromOff, b-base, toOff, got, want)
				}
			}
		}
	}
}

func TestSeriesStart(t *testing.T) {
	s := slo.NewSeries(10)
	if !s.Start().IsZero() || s.Sum(t0, t0.Add(time.Hour)) != (slo.Counts{}) {
		t.Fatal("an empty series has no start and sums to nothing")
	}
	s.Add(t0.Add(90*time.Second), slo.Counts{Total: 1})
	if got := s.Start(); !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("Start = %v, want the first minute %v", got, t0.Add(time.Minute))
	}
	s.Add(t0.Add(100*time.Minute), slo.Counts{Total: 1})
	if got := s.Start(); !got.Equal(t0.Add(91 * time.Minute)) {
		t.Errorf("Start after wrapping = %v, want the oldest kept minute %v", got, t0.Add(91*time.Minute))
	}
}

func TestHistogram(t *testing.T) {
	var h, g slo.Histogram
	for _, ms := range []int{1, 5, 6, 100, 101, 20000} {
		h.Observe(time.Duration(ms) * time.Millisecond)
	}
	want := slo.Histogram{2, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1}
	if h != want {
		t.Fatalf("histogram %v, want %v (bounds are inclusive)", h, want)
	}
	g.Observe(time.Second)
	g.Merge(&h)
	if g[7] != 1 || g[0] != 2 {
		t.Errorf("merge gave %v", g)
	}
	if q := h.Quantile(0.5); q <= 5*time.Millisecond || q > 10*time.Millisecond {
		t.Errorf("median %v, want within the 5-10ms bucket", q)
	}
	if q := h.Quantile(1); q != 10*time.Second {
		t.Errorf("maximum %v, want the largest bound", q)
	}
	var empty slo.Histogram
	if empty.Quantile(0.99) != 0 {
		t.Error("an empty histogram has no quantile")
	}
	b := slo.Bucket{Counts: slo.Counts{Good: 1, Total: 2}, Latency: h}
	b.Merge(&slo.Bucket{Counts: slo.Counts{Good: 3, Total: 3, UpMs: 5}, Latency: g})
	if b.Good != 4 || b.Total != 5 || b.UpMs != 5 || b.Latency[0] != 4 {
		t.Errorf("merged bucket %+v", b)
	}
}
