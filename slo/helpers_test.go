package slo_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // expectations must not depend on the machine's zoneinfo

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/slo"
)

// availability returns a valid availability definition with a rolling
// window of the given length.
func availability(objective float64, rolling string) slo.Definition {
	return slo.Definition{
		Service:   "checkout",
		Name:      "checkout-availability",
		Indicator: slo.Indicator{Kind: slo.KindAvailability},
		Objective: objective,
		Window:    slo.Window{Rolling: rolling},
	}
}

// build compiles a definition or stops the test.
func build(tb testing.TB, d slo.Definition) *slo.Objective {
	tb.Helper()
	o, err := slo.New(d)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return o
}

// t0 is where the simulated histories start: a Monday, 00:00 UTC.
var t0 = time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)

// steady adds the same counts to every minute of [from, to).
func steady(s *slo.Series, from, to time.Time, good, total uint64) {
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		s.Add(t, slo.Counts{Good: good, Total: total})
	}
}

// checkProblems checks that d's problems are field errors naming the
// given fields, in order, each message starting with its field.
func checkProblems(tb testing.TB, d *slo.Definition, fields []string) {
	tb.Helper()
	problems := d.Problems()
	var got []string
	for _, p := range problems {
		got = append(got, p.Field)
		if p.Code != nightjar.EINVALID || !strings.HasPrefix(p.Message, p.Field+": ") {
			tb.Errorf("problem %+v does not name its field", p)
		}
	}
	if !slices.Equal(got, fields) {
		tb.Errorf("fields %q, want %q (%v)", got, fields, problems)
	}
}

// near reports whether a and b agree to a relative 1e-9.
func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// invariants checks what must hold of every decision: the budget's two
// figures agree, a firing rule burns above its threshold over both windows
// with enough traffic and budget share, and a held one says why.
func invariants(tb testing.TB, o *slo.Objective, d *slo.Decision) {
	tb.Helper()
	if math.Abs(d.Budget.Remaining-(1-d.Budget.Consumed)) > 1e-12 || d.Budget.Counts.Good > d.Budget.Counts.Total {
		tb.Fatalf("%s: budget %+v", d.At, d.Budget)
	}
	for _, r := range d.Rules {
		over := r.LongBurn > r.Threshold && r.ShortBurn > r.Threshold
		switch {
		case r.Firing && (!over || r.Held != "" || r.BudgetShare < r.Required*(1-1e-6)):
			tb.Fatalf("%s: rule fires without cause: %+v", d.At, r)
		case !r.Firing && r.Held != "" && !over:
			tb.Fatalf("%s: rule held although it does not burn: %+v", d.At, r)
		case r.Short.Total > r.Long.Total || r.Long.Bad() < r.Short.Bad():
			tb.Fatalf("%s: the short window holds more than the long one: %+v", d.At, r)
		}
	}
	if d.Firing(nightjar.SeverityPage) != slices.ContainsFunc(d.Rules, func(r slo.RuleStatus) bool { return r.Firing && r.Severity == nightjar.SeverityPage }) {
		tb.Fatalf("%s: Firing disagrees with the rules", d.At)
	}
}

// diffLines reports the first difference between two timelines, with
// both in full.
func diffLines(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	if slices.Equal(got, want) {
		return
	}
	msg := what + ":\n got:\n"
	for _, l := range got {
		msg += "\t" + l + "\n"
	}
	msg += " want:\n"
	for _, l := range want {
		msg += "\t" + l + "\n"
	}
	tb.Error(msg)
}
