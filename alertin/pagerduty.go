package alertin

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
)

// PagerDuty Events API v2 event actions.
const (
	PagerDutyTrigger     = "trigger"
	PagerDutyAcknowledge = "acknowledge"
	PagerDutyResolve     = "resolve"
)

// Limits of PagerDuty's Events API v2, which Nightjar keeps so that a
// client that works with PagerDuty works here and the other way round.
// PagerDuty documents no limit for source, component, group, class,
// client and link texts; Nightjar bounds them at MaxSummaryLength.
const (
	PagerDutyRoutingKeyLength = 32
	PagerDutyMaxDedupKey      = 255
	PagerDutyMaxBody          = 512 * 1024
)

// PagerDutyEvent is one event sent to the Events API v2 enqueue endpoint.
// Payload fields are set for triggers only; PagerDuty ignores them on the
// other actions, and so does Nightjar.
type PagerDutyEvent struct {
	RoutingKey string
	Action     string
	// DedupKey is the client's dedup key or, for a trigger without one,
	// a generated key (Generated is then set); it is what the response
	// returns, and what later acknowledge and resolve events name.
	DedupKey  string
	Generated bool

	Summary   string
	Source    string
	Severity  string
	Timestamp time.Time
	Component string
	Group     string
	Class     string
	Details   map[string]string
	Links     []nightjar.Link
}

// DecodePagerDuty reads a PagerDuty Events API v2 event. Like PagerDuty it
// requires routing_key (32 characters) and event_action; a dedup_key (at
// most 255 characters) for acknowledge and resolve; and for a trigger a
// payload with summary (at most 1024 characters), source and severity
// (critical, error, warning or info). A trigger without a dedup_key gets
// one from newKey, which must return a fresh unique key each call, as
// PagerDuty generates one and answers it back. timestamp may be any
// ISO 8601 date and time; links and images must be http or https URLs.
// Unknown fields are ignored. Every problem is a field error naming the
// field, such as payload.summary.
func DecodePagerDuty(body []byte, newKey func() string) (*PagerDutyEvent, error) {
	if len(body) > PagerDutyMaxBody {
		return nil, nightjar.Errorf(nightjar.EINVALID, "the event is larger than PagerDuty's limit of 512 KB")
	}
	o, err := readBody(body)
	if err != nil {
		return nil, err
	}
	e := &PagerDutyEvent{
		RoutingKey: o.str("routing_key", true, 0),
		Action:     o.oneOf("event_action", true, PagerDutyTrigger, PagerDutyAcknowledge, PagerDutyResolve),
		DedupKey:   o.str("dedup_key", false, PagerDutyMaxDedupKey),
	}
	if o.err == nil && utf8.RuneCountInString(e.RoutingKey) != PagerDutyRoutingKeyLength {
		o.fail("routing_key", "must be %d characters: the integration key", PagerDutyRoutingKeyLength)
	}
	switch {
	case o.err != nil:
		return nil, o.err
	case e.Action != PagerDutyTrigger:
		if e.DedupKey == "" {
			return nil, nightjar.FieldError("dedup_key", "is required to %s an alert", e.Action)
		}
		return e, nil
	}
	p := o.obj("payload")
	if p == nil && o.err == nil {
		o.fail("payload", "is required for a trigger")
	}
	if o.err != nil {
		return nil, o.err
	}
	e.Summary = p.str("summary", true, MaxSummaryLength)
	e.Source = p.str("source", true, MaxSummaryLength)
	e.Severity = p.oneOf("severity", true, "critical", "error", "warning", "info")
	e.Timestamp = p.time("timestamp", false)
	e.Component = p.str("component", false, MaxSummaryLength)
	e.Group = p.str("group", false, MaxSummaryLength)
	e.Class = p.str("class", false, MaxSummaryLength)
	e.Details = p.details("custom_details")
	if p.err != nil {
		return nil, p.err
	}
	if e.Links, err = o.links(); err != nil {
		return nil, err
	}
	for _, img := range o.list("images") {
		src := img.webURL("src", true)
		link := nightjar.Link{Href: img.webURL("href", false), Text: img.str("alt", false, MaxSummaryLength), Image: src}
		if img.err != nil {
			return nil, img.err
		}
		if link.Href == "" {
			link.Href = src
		}
		e.Links = append(e.Links, link)
	}
	client := o.str("client", false, MaxSummaryLength)
	if u := o.webURL("client_url", false); u != "" {
		text := "View in " + client
		if client == "" {
			text = "View in the monitoring tool"
		}
		e.Links = append(e.Links, nightjar.Link{Href: u, Text: text})
	}
	if o.err != nil {
		return nil, o.err
	}
	if e.DedupKey == "" {
		e.DedupKey, e.Generated = newKey(), true
	}
	return e, nil
}

// links reads the links member: objects with an http or https href and
// an optional text.
func (o *object) links() ([]nightjar.Link, error) {
	var out []nightjar.Link
	for _, l := range o.list("links") {
		link := nightjar.Link{Href: l.webURL("href", true), Text: l.str("text", false, MaxSummaryLength)}
		if l.err != nil {
			return nil, l.err
		}
		out = append(out, link)
	}
	if o.err != nil {
		return nil, o.err
	}
	return out, nil
}

// details reads custom_details: an object's members become details, a
// string member as it is and any other value as compact JSON; a value
// that is not an object is kept whole as the detail custom_details.
func (o *object) details(field string) map[string]string {
	v := o.raw(field)
	if v == nil {
		return nil
	}
	if !utf8.Valid(v) {
		o.fail(o.name(field), "must be valid UTF-8 text without NUL bytes")
		return nil
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(v, &members) != nil {
		return map[string]string{field: o.detail(o.name(field), v)}
	}
	out := make(map[string]string, len(members))
	for _, k := range slices.Sorted(maps.Keys(members)) {
		if !nightjar.ValidText(k) {
			o.fail(o.name(field), "member names must be valid UTF-8 text without NUL bytes")
			return nil
		}
		out[k] = o.detail(o.name(field)+"."+k, members[k])
	}
	return out
}

// detail returns a JSON value as detail text: a string's text, or the
// value's compact JSON.
func (o *object) detail(field string, v json.RawMessage) string {
	if len(v) > 0 && v[0] == '"' {
		s, _ := o.text("", field, string(v))
		return s
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		o.fail(field, "expected a JSON value")
		return ""
	}
	return b.String()
}

// AlertKey returns the dedup key of the event's alert in Nightjar. It
// holds the integration's id, since PagerDuty matches dedup keys within
// one integration only, and it never holds the routing key, which is a
// secret.
func (e *PagerDutyEvent) AlertKey(to Target) string {
	return SourcePagerDuty + ":" + to.Integration + ":" + e.DedupKey
}

// Alert returns the alert change of a trigger (firing) or resolve
// (resolved) event for the integration its routing key named, or nil for
// an acknowledge, which acknowledges the incident holding the alert
// rather than changing the alert. now is when the event arrived; a
// trigger without a timestamp started then. Severity maps critical and
// error to page, warning to ticket and info to info. Labels hold the
// payload's severity, source, component, group and class as sent, for
// routes and silences to match.
func (e *PagerDutyEvent) Alert(to Target, now time.Time) *nightjar.Alert {
	a := &nightjar.Alert{
		ProjectID: to.ProjectID,
		DedupKey:  e.AlertKey(to),
		Source:    SourcePagerDuty,
		SourceID:  to.Integration,
		Service:   to.Service,
	}
	switch e.Action {
	case PagerDutyResolve:
		a.Status, a.EndsAt = nightjar.AlertResolved, now
		return a
	case PagerDutyTrigger:
	default:
		return nil
	}
	a.Status = nightjar.AlertFiring
	a.Summary = e.Summary
	a.Severity = PagerDutySeverity(e.Severity)
	a.StartsAt = e.Timestamp
	if a.StartsAt.IsZero() {
		a.StartsAt = now
	}
	a.Details = e.Details
	a.Links = e.Links
	a.Labels = map[string]string{"severity": e.Severity, "source": e.Source}
	for k, v := range map[string]string{"component": e.Component, "group": e.Group, "class": e.Class} {
		if v != "" {
			a.Labels[k] = v
		}
	}
	return a
}

// PagerDutySeverity maps a PagerDuty severity to Nightjar's, as
// PagerDuty's own dynamic urgency does: critical and error page, warning
// is a ticket, info is recorded only.
func PagerDutySeverity(s string) nightjar.Severity {
	switch s {
	case "warning":
		return nightjar.SeverityTicket
	case "info":
		return nightjar.SeverityInfo
	}
	return nightjar.SeverityPage
}

// PagerDutyResponse is the JSON body of the Events API's answers.
type PagerDutyResponse struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

// PagerDutyAccepted is the body of the 202 answer to an accepted event,
// with the dedup key the client must use for later events.
func PagerDutyAccepted(dedupKey string) PagerDutyResponse {
	return PagerDutyResponse{Status: "success", Message: "Event processed", DedupKey: dedupKey}
}

// PagerDutyRejected is the body of the 400 answer to an invalid event, in
// PagerDuty's shape; its one error is err's user-safe message, which
// names the field at fault.
func PagerDutyRejected(err error) PagerDutyResponse {
	return PagerDutyResponse{Status: "invalid event", Message: "Event object is invalid", Errors: []string{nightjar.ErrorMessage(err)}}
}
