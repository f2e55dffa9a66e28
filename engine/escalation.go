package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/outbox"
)

// Escalation walks the escalation policies of open incidents: every step
// whose delay has passed without an acknowledgement pages its people
// (whoever is on call for its schedules at that moment) and channels,
// through the outbox, and the policy repeats as it says. The work is
// divided between replicas by row locks that skip what another holds, so
// no step is paged twice and none is lost when a replica dies.
type Escalation struct {
	Incidents *incidents.Store
	// Every is how often it looks; zero is 1 s.
	Every time.Duration
	// Batch is how many incidents one look handles at most before it
	// looks again; zero is 100.
	Batch int
}

// Name implements Module.
func (e *Escalation) Name() string { return "escalation" }

// Interval implements Module.
func (e *Escalation) Interval() time.Duration { return orDefault(e.Every, time.Second) }

// Step implements Module: it handles every incident due at now.
func (e *Escalation) Step(ctx context.Context, now time.Time) error {
	batch := orDefault(e.Batch, 100)
	for {
		n, err := e.Incidents.EscalateDue(ctx, now, batch)
		if err != nil || n < batch {
			return err
		}
	}
}

// ContactDestinations delivers to people's contact methods
// (outbox.ToContact) with the channel senders: an email method is sent as
// an email channel with one address would be, a URL as a channel of the
// matching kind.
type ContactDestinations struct {
	Incidents *incidents.Store
	Notifiers NotifierFor
}

// contactChannels maps a contact method's kind to the channel kind that
// sends to it.
var contactChannels = map[incident.ContactKind]string{
	incident.ContactEmail:        nightjar.ChannelEmail,
	incident.ContactWebhook:      nightjar.ChannelWebhook,
	incident.ContactSlackWebhook: "slack",
	incident.ContactNtfy:         "ntfy",
}

// Notifier implements Destinations. A message to a method deleted since it
// was written, or that is not verified (its address changed since, which
// takes its verification away), is cancelled with the reason: nothing is
// sent to an address its owner has not shown is theirs, and the message's
// result says why. Only a verification code goes to a method that is not
// verified.
func (c ContactDestinations) Notifier(ctx context.Context, it *outbox.Item) (notify.Notifier, string, bool, error) {
	m, err := c.Incidents.ContactMethodByID(ctx, it.To.ID)
	switch {
	case nightjar.ErrorCode(err) == nightjar.ENOTFOUND:
		return nil, outbox.ToContact, false, fmt.Errorf("%w: the contact method was deleted after the message was queued", outbox.ErrCancelled)
	case err != nil:
		return nil, outbox.ToContact, true, fmt.Errorf("load contact method %s: %w", it.To.ID, err)
	}
	kind := "contact-" + string(m.Kind)
	if !m.Verified && it.Event != notify.EventContactVerify {
		return nil, kind, false, fmt.Errorf("%w: the contact method %q is not verified (its address changed after the message was queued, or it was never verified)",
			outbox.ErrCancelled, orName(m))
	}
	ch := &nightjar.Channel{ID: m.ID, ProjectID: it.ProjectID, Kind: contactChannels[m.Kind], Name: m.Name}
	if m.Kind == incident.ContactEmail {
		ch.Config.To = []string{m.Value}
	} else {
		ch.Config.URL = m.Value
	}
	n, err := c.Notifiers(ch)
	return n, kind, false, err
}

// ChannelKind implements ChannelKinds: the kind of channel that sends to
// the contact method.
func (c ContactDestinations) ChannelKind(ctx context.Context, _, id string) (string, error) {
	m, err := c.Incidents.ContactMethodByID(ctx, id)
	if err != nil {
		return "", err
	}
	return contactChannels[m.Kind], nil
}

// orName names a contact method for people: its name, or its kind.
func orName(m *incident.ContactMethod) string {
	if m.Name != "" {
		return m.Name
	}
	return string(m.Kind)
}
