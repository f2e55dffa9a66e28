package uptime_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/uptime"
)

func TestSizes(t *testing.T) {
	for _, tc := range []struct {
		n      int
		factor float64
		want   []int
	}{
		{1, 2, []int{1}},
		{10, 2, []int{1, 2, 4, 8, 10}},
		{8, 2, []int{1, 2, 4, 8}},
		{43200, 4, []int{1, 4, 16, 64, 256, 1024, 4096, 16384, 43200}},
		{5, 1, []int{1, 2, 3, 4, 5}}, // factor raised to 1.1
		{0, 2, nil},
	} {
		if got := uptime.Sizes(tc.n, tc.factor); !slices.Equal(got, tc.want) {
			t.Errorf("Sizes(%d, %v) = %v, want %v", tc.n, tc.factor, got, tc.want)
		}
	}
}

// Windowed user-uptime from running totals equals the brute-force minimum
// over every window of every size.
func TestWindowedMatchesBruteForce(t *testing.T) {
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 3))
		minutes := make([]uptime.UserTime, 1+rng.IntN(200))
		for i := range minutes {
			if rng.IntN(5) > 0 { // some minutes have nobody
				minutes[i] = uptime.UserTime{UpMs: rng.Int64N(600000), DownMs: rng.Int64N(60000) * int64(rng.IntN(2))}
			}
		}
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		sizes := uptime.Sizes(len(minutes), 1.5)
		got := uptime.Windowed(start, minutes, append(slices.Clone(sizes), 0, len(minutes)+1))
		if len(got) != len(sizes) {
			t.Fatalf("seed %d: %d points for %d sizes (0 and n+1 must be left out)", seed, len(got), len(sizes))
		}
		for k, w := range sizes {
			want := uptime.Point{Window: time.Duration(w) * time.Minute}
			for i := 0; i+w <= len(minutes); i++ {
				var u uptime.UserTime
				for _, m := range minutes[i : i+w] {
					u.UpMs += m.UpMs
					u.DownMs += m.DownMs
				}
				if r, ok := u.Ratio(); ok && (!want.OK || r < want.Min) {
					want.Min, want.At, want.OK = r, start.Add(time.Duration(i)*time.Minute), true
				}
			}
			if got[k] != want {
				t.Fatalf("seed %d size %d: %+v, want %+v", seed, w, got[k], want)
			}
		}
	}
}

// The paper's point: a flaky day (a bad minute every hour) and a one-hour
// outage lose the same user-time, and windowed user-uptime tells them
// apart: the flaky day is bad in one-minute windows and fine in hours, the
// outage bad in every window up to an hour.
func TestWindowedTellsFlakinessFromOutage(t *testing.T) {
	flaky := make([]uptime.UserTime, 24*60)
	outage := make([]uptime.UserTime, 24*60)
	for i := range flaky {
		flaky[i] = uptime.UserTime{UpMs: 60000}
		outage[i] = uptime.UserTime{UpMs: 60000}
		if i%60 == 30 && i/60 < 60 {
			flaky[i] = uptime.UserTime{DownMs: 60000}
		}
	}
	for i := 600; i < 624; i++ { // the 24 bad minutes in one stretch
		outage[i] = uptime.UserTime{DownMs: 60000}
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	sizes := []int{1, 24, 60, 24 * 60}
	f, o := uptime.Windowed(start, flaky, sizes), uptime.Windowed(start, outage, sizes)
	for i, w := range sizes {
		t.Logf("%4d min: flaky %.4f, outage %.4f", w, f[i].Min, o[i].Min)
	}
	if f[0].Min != 0 || o[0].Min != 0 || f[1].Min < 0.95 || o[1].Min != 0 || f[2].Min < 0.98 || o[2].Min > 0.61 || f[3].Min != o[3].Min {
		t.Errorf("flaky %+v\noutage %+v", f, o)
	}
}
