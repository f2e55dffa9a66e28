package slo_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/slo"
	"go.yaml.in/yaml/v3"
)

func TestDefinitionProblemsNameTheirFields(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(d *slo.Definition)
		fields []string
	}{
		{"valid", func(d *slo.Definition) {}, nil},
		{"empty", func(d *slo.Definition) { *d = slo.Definition{} }, []string{"service", "name", "indicator.kind", "objective", "window"}},
		{"objective 100", func(d *slo.Definition) { d.Objective = 100 }, []string{"objective"}},
		{"objective as a fraction", func(d *slo.Definition) { d.Objective = -0.999 }, []string{"objective"}},
		{"name with a line break", func(d *slo.Definition) { d.Name = "a\nb" }, []string{"name"}},
		{"invalid UTF-8", func(d *slo.Definition) { d.Service = "\xff" }, []string{"service"}},
		{"latency without threshold", func(d *slo.Definition) { d.Indicator.Kind = slo.KindLatency }, []string{"indicator.threshold"}},
		{"latency with error rules", func(d *slo.Definition) {
			d.Indicator = slo.Indicator{Kind: slo.KindLatency, Threshold: "300ms", Errors: &slo.ErrorRules{}}
		}, []string{"indicator.errors"}},
		{"threshold too long", func(d *slo.Definition) { d.Indicator = slo.Indicator{Kind: slo.KindLatency, Threshold: "1h"} }, []string{"indicator.threshold"}},
		{"availability with threshold", func(d *slo.Definition) { d.Indicator.Threshold = "1s" }, []string{"indicator.threshold"}},
		{"bad error rules", func(d *slo.Definition) {
			d.Indicator.Errors = &slo.ErrorRules{HTTPFrom: 200, HTTPCodes: []int{429, 700}}
		}, []string{"indicator.errors.http_from", "indicator.errors.http_codes[1]"}},
		{"span kind", func(d *slo.Definition) { d.Indicator.Selector.SpanKind = "server-ish" }, []string{"indicator.selector.span_kind"}},
		{"operation with span fields", func(d *slo.Definition) {
			d.Indicator.Selector = slo.Selector{Operation: "signup", Route: "/x"}
		}, []string{"indicator.selector.route"}},
		{"attribute value", func(d *slo.Definition) {
			d.Indicator.Selector.Attributes = map[string]string{"region": strings.Repeat("x", 201)}
		}, []string{"indicator.selector.attributes.region"}},
		{"both windows", func(d *slo.Definition) { d.Window.Calendar = "month" }, []string{"window"}},
		{"rolling in whole days of hours", func(d *slo.Definition) { d.Window.Rolling = "720h" }, nil},
		{"rolling in part days", func(d *slo.Definition) { d.Window.Rolling = "200h" }, []string{"window.rolling"}},
		{"rolling too short", func(d *slo.Definition) { d.Window.Rolling = "3d" }, []string{"window.rolling"}},
		{"rolling with a zone", func(d *slo.Definition) { d.Window.TimeZone = "UTC" }, []string{"window.time_zone"}},
		{"calendar week", func(d *slo.Definition) { d.Window = slo.Window{Calendar: "week"} }, []string{"window.calendar"}},
		{"calendar zone", func(d *slo.Definition) { d.Window = slo.Window{Calendar: "month", TimeZone: "Mars/Olympus"} }, []string{"window.time_zone"}},
		{"rules", func(d *slo.Definition) {
			d.Alerting.Rules = []slo.Rule{
				{Severity: "critical", LongWindow: "1h", ShortWindow: "5m", BudgetPercent: 2},
				{Severity: "page", LongWindow: "5m", ShortWindow: "1h", BurnRate: 14.4},
				{Severity: "page", LongWindow: "1h", ShortWindow: "5m"},
				{Severity: "ticket", LongWindow: "31d", ShortWindow: "1x", BudgetPercent: 200},
			}
		}, []string{"alerting.rules[0].severity", "alerting.rules[1].short_window", "alerting.rules[2]",
			"alerting.rules[3].long_window", "alerting.rules[3].short_window", "alerting.rules[3].budget_percent"}},
		{"default rules do not fit a week", func(d *slo.Definition) { d.Window.Rolling = "7d" }, nil},
		{"min events", func(d *slo.Definition) { d.Alerting.MinEvents = -1 }, []string{"alerting.min_events"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := availability(99.9, "30d")
			tc.change(&d)
			checkProblems(t, &d, tc.fields)
			_, err := slo.New(d)
			if (err == nil) != (len(tc.fields) == 0) || (err == nil) != (d.Validate() == nil) {
				t.Errorf("New says %v and Validate %v, want them to agree with the problems", err, d.Validate())
			}
			var e *nightjar.Error
			if err != nil && (!errors.As(err, &e) || e.Field != tc.fields[0]) {
				t.Errorf("New returned %v, want a field error naming %s", err, tc.fields[0])
			}
		})
	}
}

// The API's JSON and the configuration's YAML name the fields alike.
func TestDefinitionJSONAndYAMLAgree(t *testing.T) {
	const doc = `
service: checkout
name: cart-latency
indicator:
  kind: latency
  threshold: 300ms
  selector:
    route: /api/cart
    attributes: {region: eu}
objective: 99.5
window: {calendar: quarter, time_zone: Europe/Berlin}
alerting:
  min_events: 20
  rules:
    - {severity: page, long_window: 1h, short_window: 5m, budget_percent: 2}
    - {severity: ticket, long_window: 3d, short_window: 6h, burn_rate: 1}
`
	var fromYAML, fromJSON slo.Definition
	if err := yaml.Unmarshal([]byte(doc), &fromYAML); err != nil {
		t.Fatal(err)
	}
	build(t, fromYAML)
	data, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"long_window":"1h"`, `"time_zone":"Europe/Berlin"`, `"min_events":20`, `"span_name"`} {
		if strings.Contains(string(data), key) != (key != `"span_name"`) {
			t.Errorf("JSON %s: %s missing or empty field present", data, key)
		}
	}
	if err := json.Unmarshal(data, &fromJSON); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromJSON)
	if string(a) != string(data) {
		t.Errorf("JSON round trip changed the definition:\n%s\n%s", data, a)
	}
}

func TestMatchesAndGood(t *testing.T) {
	d := availability(99.9, "30d")
	d.Indicator.Selector = slo.Selector{Route: "/api/orders/{id}", Attributes: map[string]string{"region": "eu"}}
	d.Indicator.Errors = &slo.ErrorRules{HTTPCodes: []int{429}}
	o := build(t, d)
	req := func(change func(r *slo.Request)) *slo.Request {
		r := &slo.Request{Service: "checkout", SpanName: "GET /api/orders/{id}", SpanKind: "SERVER", Route: "/api/orders/{id}",
			Attributes: map[string]string{"region": "eu", "host": "a"}, HTTPStatus: 200, Duration: 20 * time.Millisecond}
		change(r)
		return r
	}
	for _, tc := range []struct {
		name          string
		r             *slo.Request
		matches, good bool
	}{
		{"ok", req(func(r *slo.Request) {}), true, true},
		{"404 is the client's", req(func(r *slo.Request) { r.HTTPStatus = 404 }), true, true},
		{"429 listed", req(func(r *slo.Request) { r.HTTPStatus = 429 }), true, false},
		{"503", req(func(r *slo.Request) { r.HTTPStatus = 503 }), true, false},
		{"status error", req(func(r *slo.Request) { r.Failed = true }), true, false},
		{"client span", req(func(r *slo.Request) { r.SpanKind = "CLIENT" }), false, true},
		{"other service", req(func(r *slo.Request) { r.Service = "cart" }), false, true},
		{"other route", req(func(r *slo.Request) { r.Route = "/api/orders" }), false, true},
		{"other region", req(func(r *slo.Request) { r.Attributes = map[string]string{"region": "us"} }), false, true},
		{"no region", req(func(r *slo.Request) { r.Attributes = nil }), false, true},
		{"an event", req(func(r *slo.Request) { r.Operation, r.SpanKind = "checkout", "" }), false, true},
	} {
		if got := o.Matches(tc.r); got != tc.matches {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.matches)
		}
		if got := o.Good(tc.r); got != tc.good {
			t.Errorf("%s: Good = %v, want %v", tc.name, got, tc.good)
		}
	}

	// Events of an operation; a latency objective judges by duration.
	d = slo.Definition{Service: "auth", Name: "login-latency", Objective: 99,
		Indicator: slo.Indicator{Kind: slo.KindLatency, Threshold: "250ms", Selector: slo.Selector{Operation: "login"}},
		Window:    slo.Window{Rolling: "28d"}}
	o = build(t, d)
	ev := &slo.Request{Service: "auth", Operation: "login", Failed: true, Duration: 250 * time.Millisecond}
	if !o.Matches(ev) || !o.Good(ev) {
		t.Error("a login event at exactly the threshold is counted and good")
	}
	var b slo.Bucket
	ev.Duration = 251 * time.Millisecond
	if !o.Observe(&b, ev) || o.Observe(&b, &slo.Request{Service: "auth", Operation: "logout"}) || b.Total != 1 || b.Good != 0 || b.Latency[6] != 1 {
		t.Errorf("bucket after one slow login and one logout: %+v", b)
	}
	if o.Matches(&slo.Request{Service: "auth", SpanKind: "SERVER", Operation: "login"}) {
		t.Error("an event objective must not count spans")
	}
}

// Calendar windows are the month or quarter in the objective's zone, and
// their budget counts only the period so far.
func TestCalendarWindows(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	month := slo.Definition{Service: "s", Name: "n", Indicator: slo.Indicator{Kind: slo.KindAvailability}, Objective: 99,
		Window: slo.Window{Calendar: "month", TimeZone: "Europe/Berlin"}}
	o := build(t, month)
	// 1 March 00:30 in Berlin is still February in UTC.
	start, end := o.Period(time.Date(2024, 2, 29, 23, 30, 0, 0, time.UTC))
	if !start.Equal(time.Date(2024, 3, 1, 0, 0, 0, 0, berlin)) || !end.Equal(time.Date(2024, 4, 1, 0, 0, 0, 0, berlin)) {
		t.Errorf("period %v – %v, want March in Berlin", start, end)
	}
	// March 2024 has the clock change: 31 days less an hour.
	if got := o.Length(time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)); got != 31*24*time.Hour-time.Hour {
		t.Errorf("March lasts %v", got)
	}
	quarter := month
	quarter.Window.Calendar = "quarter"
	q := build(t, quarter)
	start, end = q.Period(time.Date(2024, 11, 30, 12, 0, 0, 0, time.UTC))
	if !start.Equal(time.Date(2024, 10, 1, 0, 0, 0, 0, berlin)) || !end.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, berlin)) {
		t.Errorf("quarter %v – %v, want Q4 2024 in Berlin", start, end)
	}

	s := slo.NewSeries(o.Retention())
	feb := time.Date(2024, 2, 29, 22, 0, 0, 0, time.UTC) // 23:00 in Berlin
	steady(s, feb, feb.Add(time.Hour), 0, 10)            // a bad last hour of February
	steady(s, feb.Add(time.Hour), feb.Add(3*time.Hour), 99, 100)
	b := o.Budget(s, feb.Add(3*time.Hour))
	if b.Counts.Total != 12000 || b.Counts.Bad() != 120 || !near(b.Consumed, 1) || math.Abs(b.Remaining) > 1e-9 {
		t.Errorf("March's first two hours: %+v, want February's failures left out and 1%% bad spending the whole budget", b)
	}
	// The thresholds follow the month's length: 2% of March in an hour.
	if got := o.Thresholds(o.Length(feb.Add(2 * time.Hour)))[0]; !near(got, 0.02*(31*24-1)) {
		t.Errorf("March's page threshold %v, want %v", got, 0.02*(31*24-1))
	}
}
