package slo

import (
	"slices"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// Objective is a compiled, valid definition. It is immutable, so one may be
// shared between goroutines.
type Objective struct {
	def       Definition
	target    float64 // good share, 0.999
	budget    float64 // bad share allowed, 0.001
	sel       selector
	errors    errorRules
	threshold time.Duration
	rolling   time.Duration
	calendar  string
	loc       *time.Location
	rules     []rule
	minEvents int64
	external  bool // counted elsewhere (Prometheus), never from requests
}

type selector struct {
	service, spanName, route, spanKind, operation string
	attrs                                         [][2]string
}

type errorRules struct {
	status    bool
	httpFrom  int
	httpCodes []int
}

type rule struct {
	severity    nightjar.Severity
	long, short time.Duration
	share       float64 // of the budget, 0.02; zero when rate is fixed
	rate        float64 // fixed threshold; zero when share is set
}

// Definition returns the definition the objective was compiled from.
func (o *Objective) Definition() Definition { return o.def }

// Target returns the objective as a fraction, 0.999 for 99.9 per cent.
func (o *Objective) Target() float64 { return o.target }

// Request is a span or an event as an objective sees it, already decoded by
// ingest.
type Request struct {
	// Service is the service that reported it (resource service.name).
	Service string
	// SpanName and SpanKind are the span's name and kind (SERVER, CLIENT,
	// ...); both are empty for an event.
	SpanName, SpanKind string
	// Route is the http.route attribute, when there is one.
	Route string
	// Operation is an event's operation; empty for a span.
	Operation string
	// Attributes are the span's or event's other attributes.
	Attributes map[string]string
	// Failed is true when the span's status is ERROR or the event says it
	// failed.
	Failed bool
	// HTTPStatus is the response status, zero when there is none.
	HTTPStatus int
	// Duration is how long the request took.
	Duration time.Duration
}

// Matches reports whether the objective counts the request. An objective
// whose indicator reads Prometheus counts none: its counts come from there.
func (o *Objective) Matches(r *Request) bool {
	if o.external {
		return false
	}
	s := &o.sel
	if r.Service != s.service {
		return false
	}
	if s.operation != "" {
		if r.Operation != s.operation || r.SpanKind != "" {
			return false
		}
	} else if r.Operation != "" || r.SpanKind != s.spanKind ||
		(s.spanName != "" && r.SpanName != s.spanName) || (s.route != "" && r.Route != s.route) {
		return false
	}
	for _, kv := range s.attrs {
		if v, ok := r.Attributes[kv[0]]; !ok || v != kv[1] {
			return false
		}
	}
	return true
}

// Good reports whether a counted request is good: for availability, that
// it did not fail; for latency, that it took at most the threshold.
// Latency objectives judge failed requests by their duration too; failures
// are the availability objective's to count.
func (o *Objective) Good(r *Request) bool {
	if o.threshold > 0 {
		return r.Duration <= o.threshold
	}
	e := &o.errors
	switch {
	case e.status && r.Failed:
		return false
	case r.HTTPStatus != 0 && r.HTTPStatus >= e.httpFrom:
		return false
	case r.HTTPStatus != 0 && slices.Contains(e.httpCodes, r.HTTPStatus):
		return false
	}
	return true
}

// Observe adds one request to a minute's bucket if the objective counts
// it: the step ingest takes for every span and event.
func (o *Objective) Observe(b *Bucket, r *Request) bool {
	if !o.Matches(r) {
		return false
	}
	b.Total++
	if o.Good(r) {
		b.Good++
	}
	b.Latency.Observe(r.Duration)
	return true
}

// Period returns the window the budget is judged over at now: the last
// rolling length, or the calendar month or quarter that now falls in, from
// its start to its end (which is after now).
func (o *Objective) Period(now time.Time) (start, end time.Time) {
	if o.rolling > 0 {
		end = now.Truncate(time.Minute)
		return end.Add(-o.rolling), end
	}
	t := now.In(o.loc)
	month := t.Month()
	step := 1
	if o.calendar == CalendarQuarter {
		month, step = (month-1)/3*3+1, 3
	}
	start = time.Date(t.Year(), month, 1, 0, 0, 0, 0, o.loc)
	end = time.Date(t.Year(), month+time.Month(step), 1, 0, 0, 0, 0, o.loc)
	return start.UTC(), end.UTC()
}

// Length returns the length of the window at now: the rolling length, or
// the length of the calendar period now falls in (28 to 31 days for a
// month, give or take a daylight-saving hour).
func (o *Objective) Length(now time.Time) time.Duration {
	start, end := o.Period(now)
	return end.Sub(start)
}

// Retention is how many minutes of buckets an evaluation reads: the
// longest window the objective can have, plus one minute.
func (o *Objective) Retention() int {
	longest := o.rolling
	switch o.calendar {
	case CalendarMonth:
		longest = 31*24*time.Hour + time.Hour
	case CalendarQuarter:
		longest = 92*24*time.Hour + time.Hour
	}
	return int(longest/time.Minute) + 1
}

// Thresholds returns each rule's burn-rate threshold for a window of the
// given length: its budget share times the window over its long window,
// or its fixed burn rate.
func (o *Objective) Thresholds(length time.Duration) []float64 {
	out := make([]float64, len(o.rules))
	for i, r := range o.rules {
		out[i] = r.threshold(length)
	}
	return out
}

func (r *rule) threshold(length time.Duration) float64 {
	if r.rate > 0 {
		return r.rate
	}
	return r.share * float64(length) / float64(r.long)
}
