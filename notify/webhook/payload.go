package webhook

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/nightjar-dev/nightjar/notify"
)

// Payload is the JSON document a webhook receives. It is exported so
// receivers written in Go decode exactly what Nightjar encodes; the package
// documentation describes each field.
type Payload struct {
	// Version is SchemaVersion; receivers should check it before relying
	// on the shape.
	Version int `json:"version"`
	// ID is the message's idempotency key (notify.Message.Key: the outbox
	// id unless the message's producer named it), equal to the
	// Idempotency-Key header, so a receiver can drop a delivery it has
	// already processed.
	ID string `json:"id"`
	// Event is "alert.firing", "alert.resolved" or "test".
	Event string `json:"event"`
	// ProjectID is the Nightjar project the alert belongs to.
	ProjectID string `json:"project_id"`
	// Alert is the alert the notification is about.
	Alert PayloadAlert `json:"alert"`
	// ConsoleURL links to the alert in the console; it is empty when no
	// public URL is configured.
	ConsoleURL string `json:"console_url"`
	// CreatedAt is when the state change happened, not when this attempt
	// was made, so it is the same on every retry.
	CreatedAt time.Time `json:"created_at"`
	// Incident is present when the notification is about an incident
	// (events "incident.*").
	Incident *PayloadIncident `json:"incident,omitempty"`
	// Bundle is present when the message stands for several
	// notifications that fell due together for one person's contact
	// method (notify.Message.Bundle): each of them, oldest first, with
	// its own incident and one-click links. Alert, Incident and CreatedAt
	// are then the first's, for receivers that read only one, and ID is
	// the bundle's own idempotency key.
	Bundle []PayloadItem `json:"bundle,omitempty"`
}

// PayloadItem is one notification of a Payload's bundle.
type PayloadItem struct {
	// ID is the notification's own idempotency key.
	ID        string           `json:"id"`
	Alert     PayloadAlert     `json:"alert"`
	Incident  *PayloadIncident `json:"incident,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
}

// PayloadIncident is the "incident" object of a Payload.
type PayloadIncident struct {
	ID      string    `json:"id"`
	Number  int64     `json:"number"`
	Title   string    `json:"title"`
	Service string    `json:"service"`
	Urgency string    `json:"urgency"`
	Status  string    `json:"status"`
	Since   time.Time `json:"since"`
	// Step and Round say which escalation step paged, from 1; 0 for
	// other events.
	Step       int    `json:"step"`
	Round      int    `json:"round"`
	RunbookURL string `json:"runbook_url,omitempty"`
	// AckURL and ResolveURL act on the incident with one click (a page
	// that asks to confirm); empty when not offered or when no public URL
	// is configured.
	AckURL     string `json:"ack_url,omitempty"`
	ResolveURL string `json:"resolve_url,omitempty"`
	// Changes are the service's last changes (at most 3) made in the day
	// before the incident opened, newest first; an empty array when none.
	Changes []PayloadChange `json:"changes"`
}

// PayloadChange is one of an incident's recent changes.
type PayloadChange struct {
	At      time.Time     `json:"at"`
	Summary string        `json:"summary"`
	Source  string        `json:"source,omitempty"`
	Links   []PayloadLink `json:"links"`
}

// PayloadAlert is the "alert" object of a Payload.
type PayloadAlert struct {
	// DedupKey pairs an alert's firing and resolved notifications.
	DedupKey string `json:"dedup_key"`
	// Service is the service the alert is about.
	Service string `json:"service"`
	// Severity is "page", "ticket" or "info".
	Severity string `json:"severity"`
	// Summary is a one-line human description.
	Summary string `json:"summary"`
	// Details holds extra facts; it is an empty object, never null, when
	// there are none.
	Details map[string]string `json:"details"`
	// Status is "firing" or "resolved".
	Status string `json:"status"`
	// StartsAt is when the alert started firing.
	StartsAt time.Time `json:"starts_at"`
	// EndsAt is when the alert resolved; it is nil (JSON null) while the
	// alert fires.
	EndsAt *time.Time `json:"ends_at"`
	// Links are the alert's web pages (its runbook first, then graphs and
	// the monitoring tool's own page), as every channel shows them: http
	// and https only. It is an empty array, never null, when there are
	// none.
	Links []PayloadLink `json:"links"`
}

// PayloadLink is one of an alert's links.
type PayloadLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// NewPayload converts a message into the payload sent for it. Times are
// turned into UTC with whole seconds so the encoding is the same however
// the message was built, and details are never null.
func NewPayload(msg notify.Message) Payload {
	if len(msg.Bundle) == 0 {
		return newPayload(msg)
	}
	first := msg.Bundle[0]
	first.ConsoleURL = msg.ConsoleURL
	p := newPayload(first)
	p.ID, p.Event, p.ProjectID = msg.Key(), msg.Event, msg.ProjectID
	for _, m := range msg.Bundle {
		m.ConsoleURL = msg.ConsoleURL
		item := newPayload(m)
		p.Bundle = append(p.Bundle, PayloadItem{ID: item.ID, Alert: item.Alert, Incident: item.Incident, CreatedAt: item.CreatedAt})
	}
	return p
}

// newPayload is the payload of a single message.
func newPayload(msg notify.Message) Payload {
	a := msg.Alert
	details := a.Details
	if details == nil {
		details = map[string]string{}
	}
	p := Payload{
		Version:   SchemaVersion,
		ID:        msg.Key(),
		Event:     msg.Event,
		ProjectID: msg.ProjectID,
		Alert: PayloadAlert{
			DedupKey: a.DedupKey,
			Service:  a.Service,
			Severity: string(a.Severity),
			Summary:  a.Summary,
			Details:  details,
			Status:   string(a.Status),
			StartsAt: normTime(a.StartsAt),
		},
		ConsoleURL: msg.ConsoleURL,
		CreatedAt:  normTime(msg.CreatedAt),
	}
	if !a.EndsAt.IsZero() {
		t := normTime(a.EndsAt)
		p.Alert.EndsAt = &t
	}
	var ackURL, resolveURL string
	if inc := msg.Incident; inc != nil {
		ackURL, resolveURL = notify.LinkURL(msg.ConsoleURL, inc.AckToken), notify.LinkURL(msg.ConsoleURL, inc.ResolveToken)
		p.Incident = &PayloadIncident{ID: inc.ID, Number: inc.Number, Title: inc.Title, Service: inc.Service, Urgency: string(inc.Urgency),
			Status: inc.Status, Since: normTime(inc.Since), Step: inc.Step, Round: inc.Round, RunbookURL: inc.RunbookURL,
			AckURL: ackURL, ResolveURL: resolveURL, Changes: []PayloadChange{}}
		for _, c := range inc.Changes {
			pc := PayloadChange{At: normTime(c.At), Summary: c.Summary, Source: c.Source, Links: []PayloadLink{}}
			for _, l := range c.Links {
				pc.Links = append(pc.Links, PayloadLink{Href: l.Href, Text: l.Text})
			}
			p.Incident.Changes = append(p.Incident.Changes, pc)
		}
	}
	// The alert's links are its own; an incident's one-click links, which
	// Compose puts first for people, are the incident's fields.
	p.Alert.Links = []PayloadLink{}
	for _, l := range notify.Compose(msg).Links {
		if l.Href != "" && (l.Href == ackURL || l.Href == resolveURL) {
			continue
		}
		p.Alert.Links = append(p.Alert.Links, PayloadLink{Href: l.Href, Text: l.Text})
	}
	return p
}

// Encode returns the request body for msg: the JSON encoding of its
// Payload, without HTML escaping so receivers see text as written. The
// output depends only on msg, so a retried message is signed over the same
// bytes.
func Encode(msg notify.Message) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(NewPayload(msg)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Second)
}
