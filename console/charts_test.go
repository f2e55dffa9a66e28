package console

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
)

func TestUptimeDays(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	created := time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)
	flip := func(day, hour int, from, to string) *nightjar.Flip {
		return &nightjar.Flip{CreatedAt: time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC), From: from, To: to}
	}
	// Newest first, as the store returns them: up on the 7th at 06:00,
	// down on the 8th 18:00 to the 9th 06:00, paused the 10th 06:00.
	flips := []*nightjar.Flip{
		flip(10, 6, "up", "paused"),
		flip(9, 6, "down", "up"),
		flip(8, 18, "up", "down"),
		flip(7, 6, "new", "up"),
	}
	days := uptimeDays(created, flips, nightjar.StatusPaused, now, 5)
	h := time.Hour
	want := []struct{ observed, down time.Duration }{
		{0, 0},          // the 6th: before the check existed
		{18 * h, 0},     // the 7th: new until 06:00
		{24 * h, 6 * h}, // the 8th: down from 18:00
		{24 * h, 6 * h}, // the 9th: down until 06:00
		{6 * h, 0},      // the 10th: paused from 06:00
	}
	for i, w := range want {
		if days[i].Observed != w.observed || days[i].Down != w.down {
			t.Errorf("day %s: observed %s down %s, want %s %s", days[i].Day.Format("01-02"), days[i].Observed, days[i].Down, w.observed, w.down)
		}
	}
	svg := string(uptimeBar(days))
	for _, want := range []string{"2026-03-06: no data", "2026-03-07: 100.00% up", "2026-03-08: 75.00% up", `class="day-down"`, "Up 83.33% of the 3 days it has been watched"} {
		if !strings.Contains(svg, want) {
			t.Errorf("uptime bar lacks %q", want)
		}
	}
	// No flips at all: the current status holds since creation.
	days = uptimeDays(created, nil, nightjar.StatusUp, now, 2)
	if days[0].Observed != 24*h || days[1].Observed != 12*h || days[1].Down != 0 {
		t.Errorf("no flips: %+v", days)
	}
}

func TestDurationChart(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	pings := []*nightjar.Ping{ // newest first
		{N: 4, Kind: nightjar.PingFail, Duration: 30 * time.Second, CreatedAt: at},
		{N: 3, Kind: nightjar.PingStart, CreatedAt: at},
		{N: 2, Kind: nightjar.PingSuccess, Duration: time.Minute, CreatedAt: at},
		{N: 1, Kind: nightjar.PingLog, CreatedAt: at},
	}
	svg := string(durationChart(pings))
	if strings.Count(svg, "<rect") != 2 || !strings.Contains(svg, `class="bar-fail"`) || !strings.Contains(svg, "longest 1 min") ||
		!strings.Contains(svg, `text-anchor="end">1 min</text>`) || !strings.Contains(svg, `text-anchor="end">30 s</text>`) || !strings.Contains(svg, "Mar 1 02:00 UTC") {
		t.Fatalf("chart: %s", svg)
	}
	if strings.Index(svg, "#2 ") > strings.Index(svg, "#4 ") {
		t.Fatal("runs are not oldest first")
	}
	if durationChart(pings[1:2]) != "" {
		t.Fatal("a chart without runs")
	}
}

// A check watched for minutes says so, instead of a figure for 90 days.
func TestUptimeSummaryOfAYoungCheck(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		observed, down time.Duration
		want           string
	}{
		{0, 0, "No data yet"},
		{40 * time.Minute, 39 * time.Minute, "Up 2.50% of the 40 min it has been watched"},
		{90 * 24 * time.Hour, 0, "Up 100% of the last 90 days."},
		{90 * 24 * time.Hour, 9 * 24 * time.Hour, "Up 90% of the last 90 days."},
	} {
		if got := uptimeSummary(c.observed, c.down, 90); !strings.Contains(got, c.want) {
			t.Errorf("%s watched, %s down: %q, want %q", c.observed, c.down, got, c.want)
		}
	}
}

// Each metric the pings sent gets a chart with its unit on the axis.
func TestMetricCharts(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	pings := []*nightjar.Ping{ // newest first
		{N: 3, Kind: nightjar.PingSuccess, CreatedAt: at.Add(2 * time.Hour), Metrics: map[string]float64{"bytes": 2.5e6, "rows": 1200}},
		{N: 2, Kind: nightjar.PingFail, CreatedAt: at.Add(time.Hour), Metrics: map[string]float64{"bytes": 1e6}},
		{N: 1, Kind: nightjar.PingSuccess, CreatedAt: at},
	}
	charts := metricCharts(pings)
	if len(charts) != 2 || charts[0].Name != "bytes" || charts[1].Name != "rows" {
		t.Fatalf("charts: %+v", charts)
	}
	svg := string(charts[0].Chart)
	for _, want := range []string{">2.5 MB</text>", ">1.25 MB</text>", ">0 B</text>", `class="bar-fail"`, "Mar 1 03:00", "Mar 1 04:00 UTC"} {
		if !strings.Contains(svg, want) {
			t.Errorf("bytes chart lacks %q:\n%s", want, svg)
		}
	}
	if strings.Count(svg, "<rect") != 2 || !strings.Contains(string(charts[1].Chart), ">1.2 k</text>") {
		t.Errorf("rows chart: %s", charts[1].Chart)
	}
}

// An axis's ticks are evenly spaced multiples of 1, 2 or 5 times a power
// of ten that cover the data, as few as fit: never -750, -325, 100.
func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		most   int
		want   []float64
	}{
		{0, 100, 6, []float64{0, 20, 40, 60, 80, 100}},
		{0, 100, 3, []float64{0, 50, 100}},
		{-733.3, 100, 6, []float64{-800, -600, -400, -200, 0, 200}},
		{-40, 100, 6, []float64{-50, 0, 50, 100}},
		{0, 137, 5, []float64{0, 50, 100, 150}},
		{0, 1, 5, []float64{0, 0.5, 1}},
		{97.3, 100, 5, []float64{97, 98, 99, 100}},
		{99, 100, 5, []float64{99, 99.5, 100}},
		{0, 0.7, 5, []float64{0, 0.2, 0.4, 0.6, 0.8}},
		{0, 12345, 5, []float64{0, 5000, 10000, 15000}},
		{5, 5, 5, []float64{5, 5.5, 6}},
	} {
		got := niceTicks(c.lo, c.hi, c.most)
		if !slices.Equal(got, c.want) {
			t.Errorf("niceTicks(%v, %v, %d) = %v, want %v", c.lo, c.hi, c.most, got, c.want)
		}
		// Whatever the case, the ticks cover the data in at most most
		// even steps of 1, 2 or 5 × 10^k.
		if len(got) < 2 || len(got) > c.most || got[0] > c.lo || got[len(got)-1] < c.hi {
			t.Errorf("niceTicks(%v, %v, %d) = %v: does not cover the data in at most %d ticks", c.lo, c.hi, c.most, got, c.most)
			continue
		}
		step := got[1] - got[0]
		mant := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9))
		if math.Abs(mant-1) > 1e-9 && math.Abs(mant-2) > 1e-9 && math.Abs(mant-5) > 1e-9 {
			t.Errorf("niceTicks(%v, %v, %d) = %v: step %v is not 1, 2 or 5 × 10^k", c.lo, c.hi, c.most, got, step)
		}
		for i := 1; i < len(got); i++ {
			if d := got[i] - got[i-1]; math.Abs(d-step) > step*1e-9 {
				t.Errorf("niceTicks(%v, %v, %d) = %v: uneven steps", c.lo, c.hi, c.most, got)
				break
			}
		}
	}
}
