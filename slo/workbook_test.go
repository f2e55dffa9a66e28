package slo_test

import (
	"math"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/slo"
)

// The default rules are the SRE Workbook's table of recommended
// parameters for a 30-day window (2% of the budget in 1h, 5% in 6h, 10% in
// 1d and 3d, giving 14.4, 6, 3 and 1), and scale as Sloth scales them to
// other lengths (13.44, 5.6, 2.8 and 0.93 for 28 days).
func TestDefaultThresholdsAreTheWorkbooks(t *testing.T) {
	for _, tc := range []struct {
		rolling string
		want    []float64
	}{
		{"30d", []float64{14.4, 6, 3, 1}},
		{"28d", []float64{13.44, 5.6, 2.8, 28.0 / 30}},
		{"4w", []float64{13.44, 5.6, 2.8, 28.0 / 30}},
		{"90d", []float64{43.2, 18, 9, 3}},
	} {
		o := build(t, availability(99.9, tc.rolling))
		got := o.Thresholds(o.Length(t0))
		for i := range tc.want {
			if !near(got[i], tc.want[i]) {
				t.Errorf("%s: thresholds %v, want %v", tc.rolling, got, tc.want)
				break
			}
		}
	}
	// A fixed burn rate is not scaled.
	d := availability(99.9, "28d")
	d.Alerting.Rules = []slo.Rule{{Severity: "page", LongWindow: "1h", ShortWindow: "5m", BurnRate: 14.4}}
	if got := build(t, d).Thresholds(28 * 24 * time.Hour); got[0] != 14.4 {
		t.Errorf("fixed burn rate scaled to %v", got)
	}
}

// The Workbook's table of burn rates and the time a 30-day budget lasts at
// each: 1 → 30 days, 2 → 15 days, 10 → 3 days, 1000 (every request failing
// against 99.9%) → 43 minutes.
func TestTimeToExhaustionTable(t *testing.T) {
	const month = 30 * 24 * time.Hour
	for _, tc := range []struct {
		burn float64
		want time.Duration
	}{
		{1, month},
		{2, 15 * 24 * time.Hour},
		{10, 3 * 24 * time.Hour},
		{1000, 43*time.Minute + 12*time.Second},
		{14.4, 50 * time.Hour},
	} {
		got, ok := slo.Exhaustion(1, month, tc.burn)
		if !ok || (got-tc.want).Abs() > time.Second {
			t.Errorf("burn %v: %v, %v; want %v", tc.burn, got, ok, tc.want)
		}
	}
	if got, ok := slo.Exhaustion(0.5, month, 2); !ok || got != 7*24*time.Hour+12*time.Hour {
		t.Errorf("half a budget at burn 2 lasts %v, %v; want 7.5 days", got, ok)
	}
	if _, ok := slo.Exhaustion(1, month, 0); ok {
		t.Error("a budget that is not being spent must never be exhausted")
	}
	if got, ok := slo.Exhaustion(-0.1, month, 3); !ok || got != 0 {
		t.Errorf("a spent budget is exhausted now; got %v, %v", got, ok)
	}

	// And the same through a whole evaluation: every request fails for
	// the last hour of an otherwise clean month.
	o := build(t, availability(99.9, "30d"))
	s := slo.NewSeries(o.Retention())
	start := t0.Add(-month)
	steady(s, start, t0.Add(-time.Hour), 1000, 1000)
	steady(s, t0.Add(-time.Hour), t0, 0, 1000)
	d := o.Evaluate(s, t0)
	if !near(d.BurnRate, 1000) {
		t.Fatalf("burn rate %v, want 1000", d.BurnRate)
	}
	// 60,000 bad requests against a budget of 43,200.
	if !near(d.Budget.Consumed, 60000.0/43200) || !d.Exhausts || d.TimeToExhaustion != 0 {
		t.Errorf("budget %+v, exhausted in %v (%v); want 138.9%% consumed and exhausted now", d.Budget, d.TimeToExhaustion, d.Exhausts)
	}
}

// detection simulates a clean month at 10,000 requests a minute, then a
// constant bad ratio from t0 on, and returns the first minute (counted from
// t0) at which a rule of the severity fires, with the decision then.
func detection(t *testing.T, o *slo.Objective, ratio float64, sev nightjar.Severity, limit int) (int, slo.Decision) {
	t.Helper()
	length := o.Length(t0)
	s := slo.NewSeries(o.Retention())
	steady(s, t0.Add(-length), t0, 10000, 10000)
	bad := uint64(math.Round(ratio * 10000))
	for m := 1; m <= limit; m++ {
		s.Add(t0.Add(time.Duration(m-1)*time.Minute), slo.Counts{Good: 10000 - bad, Total: 10000})
		d := o.Evaluate(s, t0.Add(time.Duration(m)*time.Minute))
		invariants(t, o, &d)
		if d.Firing(sev) {
			return m, d
		}
	}
	return -1, slo.Decision{}
}

// The Workbook's detection time for a burn-rate alert is
// long window × threshold × (1 − SLO) / error ratio, and the budget spent
// by then is threshold × long window / window (2% for the 1h rule). With
// minute buckets an alert fires at the end of the minute the formula falls
// in, and the budget spent is at most one minute's worth more.
func TestDetectionTimesMatchTheWorkbook(t *testing.T) {
	o := build(t, availability(99.9, "30d"))
	const budgetEvents = 0.001 * 10000 * 30 * 24 * 60
	for _, tc := range []struct {
		ratio   float64
		sev     nightjar.Severity
		long    time.Duration
		thresh  float64
		minutes int // ceil(formula)
	}{
		{1, nightjar.SeverityPage, time.Hour, 14.4, 1},             // 0.864 min
		{0.1, nightjar.SeverityPage, time.Hour, 14.4, 9},           // 8.64 min
		{0.02, nightjar.SeverityPage, time.Hour, 14.4, 44},         // 43.2 min
		{0.007, nightjar.SeverityPage, 6 * time.Hour, 6, 309},      // 308.57 min
		{0.0035, nightjar.SeverityTicket, 24 * time.Hour, 3, 1235}, // 1234.29 min
		{0.0013, nightjar.SeverityTicket, 72 * time.Hour, 1, 3324}, // 3323.08 min
	} {
		formula := time.Duration(float64(tc.long) * tc.thresh * 0.001 / tc.ratio)
		if got := int(math.Ceil(formula.Minutes())); got != tc.minutes {
			t.Fatalf("table row %v: formula gives %d minutes, the row says %d", tc.ratio, got, tc.minutes)
		}
		m, d := detection(t, o, tc.ratio, tc.sev, tc.minutes+5)
		if m != tc.minutes {
			t.Errorf("bad ratio %v: %s fired after %d minutes, want %d (formula %v)", tc.ratio, tc.sev, m, tc.minutes, formula)
			continue
		}
		spent := tc.thresh * float64(tc.long) / float64(30*24*time.Hour)
		perMinute := tc.ratio * 10000 / budgetEvents
		if d.Budget.Consumed < spent || d.Budget.Consumed > spent+perMinute+1e-12 {
			t.Errorf("bad ratio %v: %.4f%% of the budget spent at detection, want %.4f%% plus at most one minute (%.4f%%)",
				tc.ratio, d.Budget.Consumed*100, spent*100, perMinute*100)
		}
	}
	// A burn rate of one spends the budget exactly over the window: no
	// rule fires in three days.
	if m, _ := detection(t, o, 0.001, nightjar.SeverityTicket, 3*24*60); m != -1 {
		t.Errorf("burn rate 1 opened a ticket after %d minutes", m)
	}
	if m, _ := detection(t, o, 0.01, nightjar.SeverityPage, 6*60); m != 217 {
		// 1% is burn 10: the 1h rule (14.4) never fires and the 6h rule
		// (6) fires once 3.6h have passed, in the minute after.
		t.Errorf("burn 10 paged after %d minutes, want 217", m)
	}
}

// After the errors stop, a page resolves once the short window of every
// firing rule is clean: within five minutes when only the 1h rule fired, as
// the Workbook's reset time says, and within thirty when the outage was
// long enough for the 6h rule too.
func TestAlertsResolveWithTheShortWindow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		outage int // minutes, from 00:02
		want   []string
	}{
		{"two minutes: 2.3% of the budget", 2, []string{
			"00:03 page firing",
			"00:09 page resolved",
		}},
		{"ten minutes: 23% of the budget", 10, []string{
			"00:03 page firing",
			"00:07 ticket firing",
			"00:42 page resolved",
			"06:12 ticket resolved", // the 3d rule's 6h short window
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := build(t, availability(99.9, "30d"))
			s := slo.NewSeries(o.Retention())
			steady(s, t0.Add(-30*24*time.Hour), t0, 1000, 1000)
			var st slo.State
			var timeline []string
			for m := 0; m < 7*60; m++ {
				at := t0.Add(time.Duration(m) * time.Minute)
				good := uint64(1000)
				if m >= 2 && m < 2+tc.outage {
					good = 0
				}
				s.Add(at, slo.Counts{Good: good, Total: 1000})
				d := o.Evaluate(s, at.Add(time.Minute))
				invariants(t, o, &d)
				for _, a := range o.Apply(&st, &d) {
					timeline = append(timeline, d.At.Format("15:04")+" "+string(a.Severity)+" "+string(a.Status))
				}
			}
			diffLines(t, "alerts", timeline, tc.want)
		})
	}
}
