package slo

import (
	"fmt"
	"math"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
)

// Definition is an objective as people write it: in the API's JSON, in the
// YAML configuration, in the console's forms and as the OpenSLO importer
// produces it. Durations are text (5m, 1h, 30d) so that every front door
// hands the same thing to [New] and every mistake comes back as one field
// error naming the field as written, such as "alerting.rules[1].long_window".
type Definition struct {
	// Service is the service the objective belongs to; alerts are routed
	// by it.
	Service string `json:"service" yaml:"service"`
	// Name tells the service's objectives apart, such as checkout-availability.
	Name string `json:"name" yaml:"name"`
	// Description is shown beside the objective; it may be empty.
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Indicator says which requests count and which of them are good.
	Indicator Indicator `json:"indicator" yaml:"indicator"`
	// Objective is the target share of good requests in per cent, such as
	// 99.9; it is more than 0 and less than 100.
	Objective float64 `json:"objective" yaml:"objective"`
	// Window is the stretch of time the objective is judged over.
	Window Window `json:"window" yaml:"window"`
	// Alerting overrides the default burn-rate rules and guard.
	Alerting Alerting `json:"alerting,omitzero" yaml:"alerting,omitempty"`
}

// Indicator kinds.
const (
	// KindAvailability counts a request as good unless it failed.
	KindAvailability = "availability"
	// KindLatency counts a request as good when it took at most the
	// threshold.
	KindLatency = "latency"
)

// Indicator says which requests an objective counts and which are good.
type Indicator struct {
	// Kind is availability or latency.
	Kind string `json:"kind" yaml:"kind"`
	// Selector picks the requests counted.
	Selector Selector `json:"selector" yaml:"selector"`
	// Errors refines what counts as a failure; availability only.
	Errors *ErrorRules `json:"errors,omitempty" yaml:"errors,omitempty"`
	// Threshold is the slowest good request, such as 300ms; latency only.
	Threshold string `json:"threshold,omitempty" yaml:"threshold,omitempty"`
	// Prometheus, when set, reads the good and total requests from a
	// Prometheus server instead of counting spans or events; the selector,
	// errors and threshold are then empty, because the queries decide.
	Prometheus *PromQuery `json:"prometheus,omitempty" yaml:"prometheus,omitempty"`
}

// PromQuery is an indicator measured by a Prometheus server: two PromQL
// expressions whose values are counters, one of the good requests and one
// of all of them, such as
//
//	good:  http_requests_total{job="checkout",code!~"5.."}
//	total: http_requests_total{job="checkout"}
//
// The per-minute counts are the counters' increases, minute by minute
// (package promsli reads them). Plain counter selectors are best: counter
// resets are then told apart per series.
type PromQuery struct {
	// URL is the Prometheus server's base URL, such as
	// http://prometheus:9090; its HTTP API is under /api/v1/.
	URL string `json:"url" yaml:"url"`
	// Good is the PromQL expression counting good requests.
	Good string `json:"good" yaml:"good"`
	// Total is the PromQL expression counting all requests.
	Total string `json:"total" yaml:"total"`
}

// CountedService is the service whose spans or events the objective
// counts: its selector's, or its own when the selector names none. Ingest
// follows each counted service's customers once, whichever of its
// objectives count their requests.
func (d Definition) CountedService() string {
	if d.Indicator.Selector.Service != "" {
		return d.Indicator.Selector.Service
	}
	return d.Service
}

// Selector picks requests: spans of one service's operation, or events of
// one operation. Every field given must match; a span's kind must be SERVER
// unless another kind is named, because the server span is where a request
// is answered.
type Selector struct {
	// Service is the service whose spans or events count; the definition's
	// service when empty.
	Service string `json:"service,omitempty" yaml:"service,omitempty"`
	// SpanName, when set, is the span name that must match exactly.
	SpanName string `json:"span_name,omitempty" yaml:"span_name,omitempty"`
	// Route, when set, is the http.route attribute that must match exactly,
	// such as /api/orders/{id}.
	Route string `json:"route,omitempty" yaml:"route,omitempty"`
	// SpanKind is SERVER (the default), CLIENT, INTERNAL, PRODUCER or
	// CONSUMER.
	SpanKind string `json:"span_kind,omitempty" yaml:"span_kind,omitempty"`
	// Attributes are further attributes that must be equal.
	Attributes map[string]string `json:"attributes,omitempty" yaml:"attributes,omitempty"`
	// Operation, when set, selects plain events of that operation instead
	// of spans; span_name, route and span_kind must then be empty.
	Operation string `json:"operation,omitempty" yaml:"operation,omitempty"`
}

// ErrorRules say what an availability objective counts as a failure. A
// request failed when its span status is ERROR or its event says it failed
// (unless IgnoreStatus is set), when its HTTP status is at least HTTPFrom,
// or when its HTTP status is one of HTTPCodes.
type ErrorRules struct {
	// IgnoreStatus ignores span status and event outcome, for services
	// whose spans mark client mistakes as errors.
	IgnoreStatus bool `json:"ignore_status,omitempty" yaml:"ignore_status,omitempty"`
	// HTTPFrom is the lowest HTTP status that counts as a failure: 500
	// unless set, 400 to count client errors too, 600 to count no range.
	HTTPFrom int `json:"http_from,omitempty" yaml:"http_from,omitempty"`
	// HTTPCodes are statuses that count as failures besides, such as 429.
	HTTPCodes []int `json:"http_codes,omitempty" yaml:"http_codes,omitempty"`
}

// Window is a rolling or a calendar window; exactly one of Rolling and
// Calendar is set.
type Window struct {
	// Rolling is the length of a rolling window in whole days or weeks,
	// from 7d to 92d, such as 28d, 30d or 4w.
	Rolling string `json:"rolling,omitempty" yaml:"rolling,omitempty"`
	// Calendar is month or quarter: the window is the calendar period so
	// far, starting at midnight on its first day in TimeZone.
	Calendar string `json:"calendar,omitempty" yaml:"calendar,omitempty"`
	// TimeZone is the IANA zone of a calendar window, UTC when empty.
	TimeZone string `json:"time_zone,omitempty" yaml:"time_zone,omitempty"`
}

// Calendar window kinds.
const (
	CalendarMonth   = "month"
	CalendarQuarter = "quarter"
)

// Alerting configures burn-rate alerts; its zero value means the defaults.
type Alerting struct {
	// Rules replace the default rules when there are any.
	Rules []Rule `json:"rules,omitempty" yaml:"rules,omitempty"`
	// MinEvents is how many requests a rule's long window must count
	// before the rule may fire: 100 when zero. Set 1 to let any traffic
	// page.
	MinEvents int64 `json:"min_events,omitempty" yaml:"min_events,omitempty"`
}

// Rule is one multi-window burn-rate rule. It fires while the burn rate
// over both windows exceeds its threshold, which is either derived from
// BudgetPercent (the share of the window's error budget that burning at
// the threshold for the whole long window consumes) or fixed by BurnRate.
// Exactly one of them is set.
type Rule struct {
	// Severity is page or ticket.
	Severity string `json:"severity" yaml:"severity"`
	// LongWindow and ShortWindow are lengths such as 1h and 5m; the short
	// window is shorter than the long one.
	LongWindow  string `json:"long_window" yaml:"long_window"`
	ShortWindow string `json:"short_window" yaml:"short_window"`
	// BudgetPercent is the share of the error budget, in per cent, that
	// the long window must burn.
	BudgetPercent float64 `json:"budget_percent,omitempty" yaml:"budget_percent,omitempty"`
	// BurnRate is a fixed threshold, not scaled by the window's length.
	BurnRate float64 `json:"burn_rate,omitempty" yaml:"burn_rate,omitempty"`
}

// DefaultRules are the SRE Workbook's recommended rules for a 30-day
// window, as shares of the budget so they scale to other windows.
var DefaultRules = []Rule{
	{Severity: "page", LongWindow: "1h", ShortWindow: "5m", BudgetPercent: 2},
	{Severity: "page", LongWindow: "6h", ShortWindow: "30m", BudgetPercent: 5},
	{Severity: "ticket", LongWindow: "1d", ShortWindow: "2h", BudgetPercent: 10},
	{Severity: "ticket", LongWindow: "3d", ShortWindow: "6h", BudgetPercent: 10},
}

// Limits on a definition. They bound what one objective costs the
// evaluator and the store, far above what a team writes.
const (
	DefaultMinEvents   = 100
	MaxNameLength      = 100
	MaxDescLength      = 1000
	MaxAttributes      = 20
	MaxAttributeLength = 200
	MaxRules           = 10
	MaxHTTPCodes       = 20
	MinRollingDays     = 7
	MaxRollingDays     = 92
	MaxBurnRate        = 100000
	MaxThreshold       = 10 * time.Minute
	MaxPromURLLength   = 1000
	MaxPromQLLength    = 2000
	maxMinEvents       = 1_000_000_000
)

// SpanKinds are the OpenTelemetry span kinds a selector may name.
var SpanKinds = []string{"SERVER", "CLIENT", "INTERNAL", "PRODUCER", "CONSUMER"}

// Problems returns every problem with the definition, each a field error
// naming the field as the JSON and YAML forms spell it, in the order of
// the fields. It is empty for a definition that [New] accepts.
func (d *Definition) Problems() []*nightjar.Error {
	_, problems := compile(d)
	return problems
}

// Validate returns nil for a definition that [New] accepts, and otherwise
// one EINVALID error carrying every problem's message, its field being the
// first problem's, as the domain's other Validate methods do.
func (d *Definition) Validate() error {
	return nightjar.Problems(d.Problems()).Err()
}

// New compiles a definition into an objective, or returns the error
// Validate returns.
func New(d Definition) (*Objective, error) {
	o, problems := compile(&d)
	if len(problems) > 0 {
		return nil, nightjar.Problems(problems).Err()
	}
	return o, nil
}

// checker collects the problems of one definition.
type checker struct{ nightjar.Problems }

func (c *checker) add(field, format string, args ...any) { c.Add(field, format, args...) }

func (c *checker) text(field, s string, max int, required bool) bool {
	return c.Text(field, s, max, required)
}

func compile(d *Definition) (*Objective, []*nightjar.Error) {
	c := &checker{}
	o := &Objective{def: *d}
	c.text("service", d.Service, MaxNameLength, true)
	c.text("name", d.Name, MaxNameLength, true)
	if nightjar.ValidText(d.Description) && utf8.RuneCountInString(d.Description) > MaxDescLength {
		c.add("description", "must be at most %d characters", MaxDescLength)
	} else if !nightjar.ValidText(d.Description) {
		c.Problems = append(c.Problems, nightjar.TextFieldError("description"))
	}
	c.indicator(o, &d.Indicator, d.Service)
	switch {
	case math.IsNaN(d.Objective) || d.Objective <= 0 || d.Objective >= 100:
		c.add("objective", "must be a percentage more than 0 and less than 100, such as 99.9; got %v", d.Objective)
	default:
		o.target = d.Objective / 100
		o.budget = 1 - o.target
	}
	shortest := c.window(o, &d.Window)
	c.alerting(o, &d.Alerting, shortest)
	if len(c.Problems) > 0 {
		return nil, c.Problems
	}
	return o, nil
}

func (c *checker) indicator(o *Objective, in *Indicator, service string) {
	if in.Prometheus != nil {
		c.prometheus(o, in)
		return
	}
	switch in.Kind {
	case KindAvailability:
		o.errors = errorRules{status: true, httpFrom: 500}
		if in.Threshold != "" {
			c.add("indicator.threshold", "is for latency indicators; an availability indicator has none")
		}
		if in.Errors != nil {
			c.errorRules(&o.errors, in.Errors)
		}
	case KindLatency:
		if in.Errors != nil {
			c.add("indicator.errors", "is for availability indicators; a latency indicator counts every selected request by its duration")
		}
		d, err := time.ParseDuration(in.Threshold)
		switch {
		case in.Threshold == "":
			c.add("indicator.threshold", "must be given for a latency indicator, such as 300ms")
		case err != nil:
			c.add("indicator.threshold", "must be a duration such as 300ms or 1.5s; got %.50q", in.Threshold)
		case d < time.Millisecond || d > MaxThreshold:
			c.add("indicator.threshold", "must be from 1ms to %s; got %s", MaxThreshold, in.Threshold)
		default:
			o.threshold = d
		}
	default:
		c.add("indicator.kind", "must be %s or %s; got %.50q", KindAvailability, KindLatency, in.Kind)
	}
	c.selector(o, &in.Selector, service)
}

// prometheus checks an indicator read from Prometheus. Its kind still says
// what the good query counts, for people reading the objective, but the
// span and event fields do not apply.
func (c *checker) prometheus(o *Objective, in *Indicator) {
	const f = "indicator.prometheus."
	o.external = true
	q := *in.Prometheus // the objective is immutable: keep a copy
	o.def.Indicator.Prometheus = &q
	if in.Kind != KindAvailability && in.Kind != KindLatency {
		c.add("indicator.kind", "must be %s or %s; got %.50q", KindAvailability, KindLatency, in.Kind)
	}
	if in.Errors != nil {
		c.add("indicator.errors", "must be empty when prometheus gives the counts; the good query decides what failed")
	}
	if in.Threshold != "" {
		c.add("indicator.threshold", "must be empty when prometheus gives the counts; the good query decides what was fast enough")
	}
	if !reflect.ValueOf(in.Selector).IsZero() {
		c.add("indicator.selector", "must be empty when prometheus gives the counts; the queries select the requests")
	}
	if c.text(f+"url", q.URL, MaxPromURLLength, true) {
		u, err := url.Parse(q.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
			c.add(f+"url", "must be an absolute http or https URL such as http://prometheus:9090; got %.100q", q.URL)
		case u.User != nil:
			c.add(f+"url", "must not contain a user name or password")
		case u.RawQuery != "" || u.Fragment != "":
			c.add(f+"url", "must be the server's base URL, without a query or fragment")
		}
	}
	c.text(f+"good", q.Good, MaxPromQLLength, true)
	c.text(f+"total", q.Total, MaxPromQLLength, true)
}

func (c *checker) errorRules(r *errorRules, in *ErrorRules) {
	r.status = !in.IgnoreStatus
	switch {
	case in.HTTPFrom == 0:
	case in.HTTPFrom < 400 || in.HTTPFrom > 600:
		c.add("indicator.errors.http_from", "must be from 400 to 600 (600 counts no range of statuses); got %d", in.HTTPFrom)
	default:
		r.httpFrom = in.HTTPFrom
	}
	if len(in.HTTPCodes) > MaxHTTPCodes {
		c.add("indicator.errors.http_codes", "must list at most %d statuses", MaxHTTPCodes)
		return
	}
	for i, code := range in.HTTPCodes {
		if code < 100 || code > 599 {
			c.add(fmt.Sprintf("indicator.errors.http_codes[%d]", i), "must be an HTTP status from 100 to 599; got %d", code)
		}
	}
	r.httpCodes = slices.Clone(in.HTTPCodes)
}

func (c *checker) selector(o *Objective, s *Selector, service string) {
	const f = "indicator.selector."
	sel := selector{service: s.Service, spanName: s.SpanName, route: s.Route, spanKind: strings.ToUpper(s.SpanKind), operation: s.Operation}
	if s.Service == "" {
		sel.service = service
	} else {
		c.text(f+"service", s.Service, MaxNameLength, true)
	}
	c.text(f+"span_name", s.SpanName, MaxAttributeLength, false)
	c.text(f+"route", s.Route, MaxAttributeLength, false)
	c.text(f+"operation", s.Operation, MaxNameLength, false)
	if s.Operation != "" {
		for field, v := range map[string]string{"span_name": s.SpanName, "route": s.Route, "span_kind": s.SpanKind} {
			if v != "" {
				c.add(f+field, "must be empty when operation selects events")
			}
		}
	} else if sel.spanKind == "" {
		sel.spanKind = "SERVER"
	} else if !slices.Contains(SpanKinds, sel.spanKind) {
		c.add(f+"span_kind", "must be one of %s; got %.30q", strings.Join(SpanKinds, ", "), s.SpanKind)
	}
	if len(s.Attributes) > MaxAttributes {
		c.add(f+"attributes", "must have at most %d attributes", MaxAttributes)
	} else {
		keys := make([]string, 0, len(s.Attributes))
		for k := range s.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if c.text(f+"attributes", k, MaxNameLength, true) {
				c.text(f+"attributes."+k, s.Attributes[k], MaxAttributeLength, false)
			}
			sel.attrs = append(sel.attrs, [2]string{k, s.Attributes[k]})
		}
	}
	o.sel = sel
}

// window checks the window and returns the shortest length it can have,
// which bounds the rules' long windows.
func (c *checker) window(o *Objective, w *Window) time.Duration {
	switch {
	case w.Rolling != "" && w.Calendar != "":
		c.add("window", "must be either rolling or calendar, not both")
	case w.Rolling != "":
		if w.TimeZone != "" {
			c.add("window.time_zone", "is for calendar windows; a rolling window has no time zone")
		}
		d, ok := ParseLength(w.Rolling)
		if !ok || d%(24*time.Hour) != 0 || d < MinRollingDays*24*time.Hour || d > MaxRollingDays*24*time.Hour {
			c.add("window.rolling", "must be whole days or weeks from %dd to %dd, such as 28d, 30d or 4w; got %.30q", MinRollingDays, MaxRollingDays, w.Rolling)
			return 0
		}
		o.rolling = d
		return d
	case w.Calendar == CalendarMonth || w.Calendar == CalendarQuarter:
		o.calendar = w.Calendar
		o.loc = time.UTC
		if w.TimeZone != "" {
			loc, err := nightjar.LoadLocation(w.TimeZone)
			if err != nil {
				c.add("window.time_zone", "must be an IANA time zone name such as Europe/Berlin; got %.100q", w.TimeZone)
			}
			o.loc = loc
		}
		if w.Calendar == CalendarMonth {
			return 28 * 24 * time.Hour
		}
		return 89 * 24 * time.Hour
	case w.Calendar != "":
		c.add("window.calendar", "must be %s or %s; got %.30q", CalendarMonth, CalendarQuarter, w.Calendar)
	default:
		c.add("window", "must have a rolling length such as 30d or a calendar period (month or quarter)")
	}
	return 0
}

func (c *checker) alerting(o *Objective, a *Alerting, shortest time.Duration) {
	o.minEvents = DefaultMinEvents
	switch {
	case a.MinEvents < 0 || a.MinEvents > maxMinEvents:
		c.add("alerting.min_events", "must be from 1 to %d, or 0 for the default %d", maxMinEvents, DefaultMinEvents)
	case a.MinEvents > 0:
		o.minEvents = a.MinEvents
	}
	rules, prefix := a.Rules, "alerting.rules"
	if len(rules) == 0 {
		rules, prefix = DefaultRules, "alerting.default_rules"
	}
	if len(rules) > MaxRules {
		c.add("alerting.rules", "must have at most %d rules", MaxRules)
		return
	}
	for i := range rules {
		c.rule(o, fmt.Sprintf("%s[%d]", prefix, i), &rules[i], shortest)
	}
}

func (c *checker) rule(o *Objective, field string, r *Rule, shortest time.Duration) {
	out := rule{}
	switch r.Severity {
	case string(nightjar.SeverityPage), string(nightjar.SeverityTicket):
		out.severity = nightjar.Severity(r.Severity)
	default:
		c.add(field+".severity", "must be page or ticket; got %.30q", r.Severity)
	}
	long, okLong := ParseLength(r.LongWindow)
	short, okShort := ParseLength(r.ShortWindow)
	if !okLong {
		c.add(field+".long_window", "must be a length in whole minutes, hours or days such as 1h or 3d; got %.30q", r.LongWindow)
	} else if shortest > 0 && long > shortest {
		c.add(field+".long_window", "must not be longer than the objective's window (%s)", lengthString(shortest))
	}
	if !okShort {
		c.add(field+".short_window", "must be a length in whole minutes, hours or days such as 5m or 2h; got %.30q", r.ShortWindow)
	}
	if okLong && okShort && short >= long {
		c.add(field+".short_window", "must be shorter than long_window (%s)", r.LongWindow)
	}
	out.long, out.short = long, short
	hasShare, hasRate := r.BudgetPercent != 0, r.BurnRate != 0
	switch {
	case hasShare == hasRate:
		c.add(field, "must give either budget_percent (a share of the error budget) or burn_rate (a fixed threshold)")
	case hasShare && !(r.BudgetPercent > 0 && r.BudgetPercent <= 100):
		c.add(field+".budget_percent", "must be more than 0 and at most 100; got %v", r.BudgetPercent)
	case hasRate && !(r.BurnRate > 0 && r.BurnRate <= MaxBurnRate):
		c.add(field+".burn_rate", "must be more than 0 and at most %d; got %v", MaxBurnRate, r.BurnRate)
	default:
		out.share, out.rate = r.BudgetPercent/100, r.BurnRate
	}
	o.rules = append(o.rules, out)
}

var lengthRE = regexp.MustCompile(`^([1-9][0-9]{0,5})([mhdw])$`)

// ParseLength parses a length in whole minutes, hours, days or weeks, such
// as 5m, 1h, 30d or 4w. Days are 24 hours: windows are measured in UTC
// minutes, never in a zone's calendar days.
func ParseLength(s string) (time.Duration, bool) {
	m := lengthRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	d := time.Duration(n) * unit
	return d, d <= 400*24*time.Hour
}

// lengthString writes a length the way ParseLength reads it, in the
// largest unit that divides it.
func lengthString(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}
