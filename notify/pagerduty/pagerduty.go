// Package pagerduty forwards Nightjar's alerts to PagerDuty through the
// Events API v2, for teams that keep PagerDuty for paging. It sits in the
// delivery stage (signals → evaluation → alerts → incidents → delivery).
// A firing alert becomes a trigger event and its resolution a resolve
// event, both under one dedup_key (notify.AlertKey), so PagerDuty keeps
// one incident per alert however often a delivery is retried.
package pagerduty

import (
	"context"
	"net/http"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
)

// maxSummary is the Events API's limit on payload.summary.
const maxSummary = 1024

// Notifier sends events to one PagerDuty service (one routing key). It is
// safe for concurrent use.
type Notifier struct {
	base, key string
	client    *http.Client
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for the channel's integration key, at its base
// URL (PagerDuty's events endpoint by default), sending through client
// (nil: notify.DefaultClient).
func New(ch *nightjar.Channel, client *http.Client) notify.Notifier {
	return &Notifier{base: ch.BaseURL(), key: ch.Config.RoutingKey, client: notify.DefaultClient(client)}
}

// Notify sends msg's events: a trigger for a firing alert, a resolve for a
// resolved one, and for a test a trigger followed by its resolve, so a
// test proves the key works without leaving an incident open. PagerDuty
// answers 202; an unknown key or an invalid event gets 400, permanent;
// 429 means the key sends too fast.
func (n *Notifier) Notify(ctx context.Context, msg notify.Message) (bool, error) {
	for _, ev := range Events(msg, n.key) {
		body, err := notify.EncodeJSON(ev)
		if err != nil {
			return false, err
		}
		if _, retry, err := notify.Send(ctx, n.client, notify.Request{Service: "pagerduty", URL: n.base + "/v2/enqueue", Body: body}, time.Now()); err != nil {
			return retry, err
		}
	}
	return false, nil
}

// Event is an Events API v2 event.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload,omitempty"`
	Links       []Link   `json:"links,omitempty"`
	Images      []Image  `json:"images,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
}

// Payload describes a triggered alert.
type Payload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity"`
	Timestamp     string            `json:"timestamp,omitempty"`
	Component     string            `json:"component,omitempty"`
	Group         string            `json:"group,omitempty"`
	Class         string            `json:"class,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

// Link is a link shown on the incident.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// Image is a picture shown on the incident.
type Image struct {
	Src  string `json:"src"`
	Href string `json:"href,omitempty"`
	Alt  string `json:"alt,omitempty"`
}

// Events are the events sent for msg with routing key key.
func Events(msg notify.Message, key string) []Event {
	dedup := notify.AlertKey(msg)
	resolve := Event{RoutingKey: key, EventAction: "resolve", DedupKey: dedup}
	if msg.Event == notify.EventAlertResolved {
		return []Event{resolve}
	}
	c := notify.Compose(msg)
	a := msg.Alert
	trigger := Event{RoutingKey: key, EventAction: "trigger", DedupKey: dedup, Client: "Nightjar", ClientURL: c.ConsoleURL,
		Payload: &Payload{
			Summary:   notify.Truncate(c.Summary, maxSummary),
			Source:    "nightjar",
			Severity:  severity(a.Severity),
			Component: a.Service,
			Group:     msg.ProjectID,
			Class:     a.Source,
		}}
	if a.Service != "" {
		trigger.Payload.Source = a.Service
	}
	if !a.StartsAt.IsZero() {
		trigger.Payload.Timestamp = a.StartsAt.UTC().Format(time.RFC3339)
	}
	if len(c.Details) > 0 {
		trigger.Payload.CustomDetails = make(map[string]string, len(c.Details))
		for _, f := range c.Details {
			trigger.Payload.CustomDetails[f.Label] = f.Value
		}
	}
	for _, l := range c.Actions() {
		trigger.Links = append(trigger.Links, Link{Href: l.Href, Text: l.Text})
	}
	for _, l := range a.Links {
		if notify.WebAddress(l.Image) {
			img := Image{Src: l.Image, Alt: l.Text}
			if notify.WebAddress(l.Href) {
				img.Href = l.Href
			}
			trigger.Images = append(trigger.Images, img)
		}
	}
	if msg.Event == notify.EventTest {
		trigger.Payload.Severity = "info"
		return []Event{trigger, resolve}
	}
	return []Event{trigger}
}

// severity maps Nightjar's severities to PagerDuty's.
func severity(s nightjar.Severity) string {
	switch s {
	case nightjar.SeverityPage:
		return "critical"
	case nightjar.SeverityTicket:
		return "warning"
	}
	return "info"
}
