package uptime

import (
	"math"
	"time"
)

// Point is windowed user-uptime for one window size: the lowest user-uptime
// of any window of that many consecutive minutes in the period. Reading the
// points from one minute to the whole period tells many short bad stretches
// (low at small sizes, high at large ones) from one long outage (low at
// every size up to its length).
type Point struct {
	// Window is the window size.
	Window time.Duration
	// Min is the lowest ratio among windows of that size with any
	// user-time; At is the start of the first window that has it.
	Min float64
	At  time.Time
	// OK is false when no window of that size had user-time.
	OK bool
}

// Sizes returns window sizes in minutes from one to n in geometric steps of
// the given factor (at least 1.1; 2 gives 1, 2, 4, 8, ...), always ending
// with n itself.
func Sizes(n int, factor float64) []int {
	factor = math.Max(factor, 1.1)
	var out []int
	for w := 1.0; int(w) < n; w *= factor {
		if len(out) == 0 || int(w) > out[len(out)-1] {
			out = append(out, int(w))
		}
	}
	if n > 0 {
		out = append(out, n)
	}
	return out
}

// Windowed computes windowed user-uptime over consecutive minutes starting
// at start, for each window size in minutes (sizes larger than the period
// are left out). It costs one pass over the minutes per size, using running
// totals.
func Windowed(start time.Time, minutes []UserTime, sizes []int) []Point {
	n := len(minutes)
	up := make([]int64, n+1)
	down := make([]int64, n+1)
	for i, m := range minutes {
		up[i+1] = up[i] + m.UpMs
		down[i+1] = down[i] + m.DownMs
	}
	var out []Point
	for _, w := range sizes {
		if w < 1 || w > n {
			continue
		}
		p := Point{Window: time.Duration(w) * time.Minute}
		for i := 0; i+w <= n; i++ {
			u := UserTime{UpMs: up[i+w] - up[i], DownMs: down[i+w] - down[i]}
			if r, ok := u.Ratio(); ok && (!p.OK || r < p.Min) {
				p.Min, p.At, p.OK = r, start.Add(time.Duration(i)*time.Minute), true
			}
		}
		out = append(out, p)
	}
	return out
}
