// Package notify is the delivery stage of Nightjar's flow (signals →
// evaluation → alerts → incidents → delivery). An outbox worker claims
// notification rows written in the same transaction as the state change that
// caused them and hands each one, as a Message, to a channel's Notifier. This
// package holds what every channel shares: the Message itself, the contract a
// channel implements, how failures are classified for retrying, the backoff
// schedule between attempts and the plain-text rendering that channels reuse.
// The channels live in subpackages (webhook, email).
package notify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// Events a Message can carry. They are part of what receivers see (the
// webhook payload's "event" field), so they never change meaning.
const (
	// EventAlertFiring is sent when an alert starts firing.
	EventAlertFiring = "alert.firing"
	// EventAlertResolved is sent when a firing alert resolves.
	EventAlertResolved = "alert.resolved"
	// EventTest is sent when a user asks to test a channel, so they can see
	// a delivery without waiting for a real alert.
	EventTest = "test"
	// EventIncidentPage pages a person or tells a channel about an
	// incident that needs someone.
	EventIncidentPage = "incident.page"
	// EventIncidentTicket tells a channel about an incident of ticket
	// urgency, during working hours.
	EventIncidentTicket = "incident.ticket"
	// EventIncidentAcknowledged tells those paged that someone is on it.
	EventIncidentAcknowledged = "incident.acknowledged"
	// EventIncidentResolved tells those paged that the incident is over.
	EventIncidentResolved = "incident.resolved"
	// EventContactVerify sends a contact method its verification code.
	EventContactVerify = "contact.verify"
)

// Message is one notification to deliver. It is built from an outbox row, so
// everything a channel needs travels with it and channels never read the
// database.
type Message struct {
	// ID is the outbox message's id, the same on every retry.
	ID string
	// IdempotencyKey is what receivers use to drop a delivery they have
	// already processed: the same on every retry, and the same for
	// messages their producer meant as one. Empty means ID (see Key).
	IdempotencyKey string
	// ProjectID is the project the alert belongs to.
	ProjectID string
	// Event is one of the Event constants.
	Event string
	// Alert is the alert the notification is about: a copy taken when the
	// message was written, so a message renders the same on every retry
	// even if the alert has changed since.
	Alert nightjar.Alert
	// Incident is set when the notification is about an incident: a page,
	// or the news that one was acknowledged or resolved.
	Incident *nightjar.IncidentRef
	// ConsoleURL links to the check or alert in the console; it may be
	// empty when no public URL is configured.
	ConsoleURL string
	// CreatedAt is when the outbox row was written, that is when the state
	// change happened, not when this attempt runs.
	CreatedAt time.Time
	// Bundle, when not empty, makes this message stand for its messages
	// (two or more, oldest first), which fell due together for one
	// person's contact method and go out as one: an alert storm's forty
	// pages as one page that lists them. The bundle's ID and
	// IdempotencyKey are its own and the same on every retry; its Event
	// is its messages' (they share one); its Alert, Incident and
	// CreatedAt are its first message's, for channels that show only one.
	// Each message keeps its own incident and one-click links.
	Bundle []Message
}

// Key is the message's idempotency key: IdempotencyKey, or the message id
// when its producer chose none. Every channel sends it where its receivers
// look for one (a webhook's Idempotency-Key header, an email's Message-ID).
func (m Message) Key() string {
	if m.IdempotencyKey != "" {
		return m.IdempotencyKey
	}
	return m.ID
}

// AlertEvent is the event of a notification about an alert in status s:
// EventAlertResolved for a resolved alert, EventAlertFiring otherwise. The
// alert stage names its messages' events with it, so event names come only
// from the constants above.
func AlertEvent(s nightjar.AlertStatus) string {
	if s == nightjar.AlertResolved {
		return EventAlertResolved
	}
	return EventAlertFiring
}

// Notifier delivers one message over one channel. The outbox worker calls it
// once per attempt; a nil error means the channel accepted the message.
// retry reports whether a failed delivery is worth trying again: false marks
// a permanent failure (bad configuration, rejected by the receiver) that the
// worker should stop retrying and surface to the user. An error may wrap a
// *RetryAfterError when the receiver asked for a specific delay.
type Notifier interface {
	Notify(ctx context.Context, msg Message) (retry bool, err error)
}

// RetryAfterError wraps a delivery error when the receiver said how long to
// wait before trying again (an HTTP Retry-After header, for example), so the
// worker can honour it instead of only its own backoff schedule.
type RetryAfterError struct {
	// After is the delay the receiver asked for.
	After time.Duration
	// Err is the underlying delivery error.
	Err error
}

// Error describes the failure and the requested delay.
func (e *RetryAfterError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("retry after %s", e.After)
	}
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

// Unwrap returns the underlying delivery error so errors.Is and errors.As
// see through the delay.
func (e *RetryAfterError) Unwrap() error { return e.Err }

// Backoff schedule bounds. They are exported so the worker and the console
// can explain the schedule to users.
const (
	// BackoffBase is the delay before the first retry.
	BackoffBase = 10 * time.Second
	// BackoffMax caps every delay, including one a receiver asks for, so a
	// message is retried at least hourly while it has attempts left.
	BackoffMax = time.Hour
)

// Backoff returns the delay before retry attempt n (1-based): BackoffBase
// doubled for every earlier attempt and capped at BackoffMax, with "equal
// jitter" so that many messages failing together spread out instead of
// hammering a recovering receiver in lockstep. The delay lies in [d/2, d)
// where d is the un-jittered delay, so it never collapses to zero.
//
// rnd returns a number in [0, 1); tests pass a fixed function to make the
// result deterministic, and nil uses a random source. Attempts below 1 are
// treated as 1.
func Backoff(attempt int, rnd func() float64) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := BackoffMax
	// 2^shift * BackoffBase exceeds BackoffMax long before shift overflows.
	if shift := attempt - 1; shift < 20 {
		if exp := BackoffBase << shift; exp < BackoffMax {
			d = exp
		}
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	r := rnd()
	if math.IsNaN(r) || r < 0 || r >= 1 {
		r = 0
	}
	half := d / 2
	return half + time.Duration(r*float64(d-half))
}

// RetryDelay returns how long the worker should wait before retry attempt n
// after err: the Backoff delay, or the delay the receiver asked for through
// a *RetryAfterError when that is longer. The receiver's request is capped at
// BackoffMax so a misbehaving receiver cannot park a message indefinitely.
func RetryDelay(attempt int, err error, rnd func() float64) time.Duration {
	d := Backoff(attempt, rnd)
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		after := min(ra.After, BackoffMax)
		if after > d {
			d = after
		}
	}
	return d
}
