package slo_test

import (
	"fmt"
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

// near reports whether a and b agree to a relative 1e-9.
func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// line writes what an evaluation shows an engineer, one line a minute:
//
//	00:09 page firing (1h 15.00× 5m 100.00×) ticket ok; 97.92% left
func line(d *slo.Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", d.At.Format("Jan 2 15:04"))
	for _, sev := range []nightjar.Severity{nightjar.SeverityPage, nightjar.SeverityTicket} {
		state := "ok"
		if d.Firing(sev) {
			state = "firing"
		}
		fmt.Fprintf(&b, " %s %s", sev, state)
	}
	fmt.Fprintf(&b, "; %.2f%% left", d.Budget.Remaining*100)
	return b.String()
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
