package slo_test

import (
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/slo"
)

// diurnal fills [from, to) with a shop's traffic: 300 good requests a
// minute from 06:00 to 22:00 UTC and 2 at night.
func diurnal(s *slo.Series, from, to time.Time) {
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		n := uint64(2)
		if h := t.Hour(); h >= 6 && h < 22 {
			n = 300
		}
		s.Add(t, slo.Counts{Good: n, Total: n})
	}
}

func heldBy(d *slo.Decision, sev nightjar.Severity) []string {
	var out []string
	for _, r := range d.Rules {
		if r.Severity == sev && r.Held != "" {
			out = append(out, r.Held)
		}
	}
	return out
}

// Three failed requests at 4 a.m. burn at hundreds over five minutes and
// at 25 over the hour, far above 14.4; but they are 0.03% of what the
// month allows, so nobody is paged.
func TestThreeFailuresAtFourAMPageNobody(t *testing.T) {
	o := build(t, availability(99.9, "30d"))
	s := slo.NewSeries(o.Retention())
	night := time.Date(2024, 5, 1, 4, 10, 0, 0, time.UTC)
	diurnal(s, night.Add(-30*24*time.Hour), night)
	s.Add(night, slo.Counts{Good: 0, Total: 3})
	d := o.Evaluate(s, night.Add(time.Minute))
	page := d.Rules[0]
	if page.LongBurn < 14.4 || page.ShortBurn < 14.4 {
		t.Fatalf("the scenario must burn above the page threshold: %+v", page)
	}
	if d.Firing(nightjar.SeverityPage) || page.Held != "budget_share" {
		t.Errorf("page firing %v, held by %q; want held by budget_share (share %.4f%%, required %.2f%%)",
			d.Firing(nightjar.SeverityPage), page.Held, page.BudgetShare*100, page.Required*100)
	}

	// The same failures in a service that sees a request every ten
	// minutes are held by the minimum traffic: 6 requests in the hour, 36
	// in six. They are 70% of what its month allows (4,320 requests at
	// 99.9%), so the day's rule opens a ticket instead.
	s = slo.NewSeries(o.Retention())
	for t := night.Add(-30 * 24 * time.Hour); t.Before(night); t = t.Add(10 * time.Minute) {
		s.Add(t, slo.Counts{Good: 1, Total: 1})
	}
	s.Add(night, slo.Counts{Good: 0, Total: 3})
	d = o.Evaluate(s, night.Add(time.Minute))
	if held := heldBy(&d, nightjar.SeverityPage); d.Firing(nightjar.SeverityPage) || len(held) != 2 || held[0] != "min_events" || held[1] != "min_events" {
		t.Errorf("tiny service: page firing %v, held by %v; want both page rules held by min_events", d.Firing(nightjar.SeverityPage), held)
	}
	if !d.Firing(nightjar.SeverityTicket) {
		t.Errorf("tiny service: 70%% of the budget gone in an hour must open a ticket: %+v", d.Rules[2])
	}

	// Whoever wants those pages lowers the guard.
	def := availability(99.9, "30d")
	def.Alerting.MinEvents = 1
	o = build(t, def)
	if d := o.Evaluate(s, night.Add(time.Minute)); !d.Firing(nightjar.SeverityPage) {
		t.Errorf("with min_events 1 the tiny service's failures must page: %+v", d.Rules[0])
	}
}

// A whole night of failures is real: the 6h rule pages once the night's
// failures are 5% of the month's budget, and resolves once the morning's
// good traffic brings its 30-minute window's burn rate under 6.
func TestANightLongOutagePages(t *testing.T) {
	o := build(t, availability(99.9, "30d"))
	s := slo.NewSeries(o.Retention())
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	diurnal(s, start.Add(-30*24*time.Hour), start)
	var st slo.State
	var timeline []string
	for at := start; at.Before(start.Add(8 * time.Hour)); at = at.Add(time.Minute) {
		if at.Hour() < 6 {
			s.Add(at, slo.Counts{Good: 0, Total: 2})
		} else {
			diurnal(s, at, at.Add(time.Minute))
		}
		d := o.Evaluate(s, at.Add(time.Minute))
		invariants(t, o, &d)
		for _, a := range o.Apply(&st, &d) {
			timeline = append(timeline, d.At.Format("15:04")+" "+string(a.Severity)+" "+string(a.Status)+" "+a.Details["budget_remaining"]+" left")
		}
	}
	// The month allows 0.1% of 8.67 million requests, 8,669 bad ones; 5%
	// of that is 434, which two failures a minute reach at 03:37. From
	// 06:00 each good minute brings 300 requests: after 16 of them the
	// window's 28 failures are under 0.6% of its requests.
	diffLines(t, "night", timeline, []string{
		"03:37 page firing 94.99% left",
		"06:16 page resolved 91.69% left",
	})
}
