package alertin

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
)

// PagerDutyChangeAccepted is the body of the 202 answer to an accepted
// change event, as PagerDuty's Change Events API answers it.
var PagerDutyChangeAccepted = PagerDutyResponse{Status: "success", Message: "Change event processed"}

// PagerDutyChange is one event sent to the Change Events API's enqueue
// endpoint: the routing key that names the integration (and so the
// service), and the change it reports.
type PagerDutyChange struct {
	RoutingKey string
	Change     nightjar.Change
}

// DecodePagerDutyChange reads a PagerDuty Change Events API event. Like
// PagerDuty it requires routing_key (32 characters) and a payload with a
// summary (at most 1024 characters); payload.timestamp (any ISO 8601 date
// and time) defaults to now, payload.source and payload.custom_details
// are optional, and links must be http or https URLs. The change has no
// service or project yet: they are the routing key's. Every problem is a
// field error naming the field, such as payload.summary.
func DecodePagerDutyChange(body []byte, now time.Time) (*PagerDutyChange, error) {
	if len(body) > PagerDutyMaxBody {
		return nil, nightjar.Errorf(nightjar.EINVALID, "the event is larger than PagerDuty's limit of 512 KB")
	}
	o, err := readBody(body)
	if err != nil {
		return nil, err
	}
	e := &PagerDutyChange{RoutingKey: o.str("routing_key", true, 0)}
	if o.err == nil && utf8.RuneCountInString(e.RoutingKey) != PagerDutyRoutingKeyLength {
		o.fail("routing_key", "must be %d characters: the integration key", PagerDutyRoutingKeyLength)
	}
	p := o.obj("payload")
	if p == nil && o.err == nil {
		o.fail("payload", "is required")
	}
	if o.err != nil {
		return nil, o.err
	}
	c := &e.Change
	c.Summary = p.str("summary", true, nightjar.MaxChangeSummaryLength)
	c.Source = p.str("source", false, MaxSummaryLength)
	c.At = p.time("timestamp", false)
	c.Details = p.details("custom_details")
	p.oneLine("summary", c.Summary)
	p.oneLine("source", c.Source)
	if p.err != nil {
		return nil, p.err
	}
	if c.Links, err = o.links(); err != nil {
		return nil, err
	}
	if c.At.IsZero() {
		c.At = now
	}
	return e, nil
}

// DecodeChange reads a change sent to Nightjar's own API by a deploy
// script: {service, summary, at, source, links, details}, where at (RFC
// 3339) defaults to now. Every problem is a field error naming the field.
func DecodeChange(body []byte, now time.Time) (*nightjar.Change, error) {
	o, err := readBody(body)
	if err != nil {
		return nil, err
	}
	c := &nightjar.Change{
		Service: o.str("service", true, nightjar.MaxServiceLength),
		Summary: o.str("summary", true, nightjar.MaxChangeSummaryLength),
		Source:  o.str("source", false, MaxSummaryLength),
		At:      o.time("at", false),
		Details: o.details("details"),
	}
	o.oneLine("summary", c.Summary)
	o.oneLine("source", c.Source)
	if o.err != nil {
		return nil, o.err
	}
	if c.Links, err = o.links(); err != nil {
		return nil, err
	}
	if c.At.IsZero() {
		c.At = now
	}
	return c, nil
}

// oneLine refuses a change's text that would break the one line a
// notification shows it on.
func (o *object) oneLine(field, s string) {
	if o.err == nil && strings.IndexFunc(s, unicode.IsControl) >= 0 {
		o.fail(o.name(field), "must not contain control characters such as line breaks or tabs")
	}
}
