// Package outbox is the general outbox between the alert stage and
// delivery: a message to one destination (a channel today, a person's
// contact method next), with its event, its payload and an idempotency
// key, written in the same transaction as the state change that caused it
// and delivered later by the outbox engine module, with retries. Nothing
// but the outbox delivers.
//
// The outbox owns its table and nothing else: it knows destinations only
// by kind and id, so a new kind of destination needs no change here, and
// the area that owns a destination (channels) removes its messages when it
// removes the destination.
package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// Destination kinds.
const (
	// ToChannel is one of a project's channels; the destination id is
	// the channel's id.
	ToChannel = "channel"
	// ToContact is one of a person's contact methods, for pages to the
	// people on call. Its messages that fall due together may be sent as
	// one (see Bundling).
	ToContact = "contact"
)

// Destination is where a message goes: a kind, and an id that the area
// owning that kind of destination understands.
type Destination struct {
	Kind string
	ID   string
}

// String names the destination in logs: "channel:<id>".
func (d Destination) String() string { return d.Kind + ":" + d.ID }

// Message is one notification for one destination.
type Message struct {
	ProjectID string
	To        Destination
	// Event is one of notify's Event constants.
	Event string
	// Alert is what the message is about.
	Alert nightjar.Alert
	// IdempotencyKey travels with every attempt so a receiver can drop a
	// retry's duplicate; empty means the message's own id. Producers that
	// could write the same notification twice give both the same key.
	// The outbox itself does not merge messages that share a key: each is
	// delivered, and receivers drop what they have seen.
	IdempotencyKey string
	// Incident is set when the message is about an incident (a page, an
	// acknowledgement): what it says about the incident beside the alert.
	Incident *nightjar.IncidentRef
	// NotBefore, when later than the time the message is written, holds
	// its first attempt back until then: a person's notification rule that
	// waits five minutes before calling their phone.
	NotBefore time.Time
}

// Message statuses.
const (
	// Pending messages wait for delivery, or for their next attempt.
	Pending = "pending"
	// Sent messages were accepted by their destination.
	Sent = "sent"
	// Failed messages were given up on: a permanent error, or out of
	// attempts.
	Failed = "failed"
	// Cancelled messages were not sent and never will be, by decision
	// rather than failure: their destination stopped taking them (a
	// person's contact method deleted, or no longer verified, since the
	// message was written), or they stopped being needed (a page held back
	// by a notification rule, once someone acknowledged). LastError says
	// why.
	Cancelled = "cancelled"
)

// ErrCancelled marks the error of a delivery that was not attempted
// because the message is no longer to be sent (see Cancelled): Finish
// records such a message as cancelled, with the error as the reason,
// rather than as failed.
var ErrCancelled = errors.New("not sent")

// Result is how a message fared, as its row says after an attempt or a
// cancellation: its status, attempts so far, last error, and when it was
// sent (zero unless it was).
type Result struct {
	Status    string
	Attempts  int
	LastError string
	SentAt    time.Time
	// Bundled is how many messages went out in one bundle with this one,
	// itself included; 0 when it went alone.
	Bundled int
}

// Recorder is another area that keeps what became of messages in its own
// records, which outlive the outbox's: an incident's timeline keeps each
// notification's delivery result. Finish tells it every result in the
// transaction that records it, so the two never disagree.
type Recorder interface {
	RecordDelivery(ctx context.Context, tx *store.Tx, id string, r Result) error
}

// Item is one message with its delivery state.
type Item struct {
	// ID is the message's id, stable across attempts.
	ID string
	Message
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        time.Time
	// Bundle names the bundle the message is sent in, with other messages
	// to the same destination, as one message; "" while it is sent alone.
	// It is also the bundle's idempotency key (see Bundling).
	Bundle string
	// Bundled holds, on a message that Claim returned as the first of a
	// bundle, the bundle's other messages, oldest first. They are sent
	// with it, as one message, and Finish records the result for all of
	// them.
	Bundled []*Item
}

// payload is the stored form of what a message says: a JSON document with
// named parts, so that a kind of message that is not about an alert (a
// page about an incident) adds a part rather than a new format.
type payload struct {
	Alert    nightjar.Alert        `json:"alert"`
	Incident *nightjar.IncidentRef `json:"incident,omitempty"`
}

// Outbox reads and delivers the messages written with Enqueue.
type Outbox struct {
	db        *store.DB
	recorders []Recorder
}

// New returns the outbox of db, which tells recorders the result of every
// attempt.
func New(db *store.DB, recorders ...Recorder) *Outbox { return &Outbox{db: db, recorders: recorders} }

// queued holds, per database, the channel that tells this process's
// delivery that messages were committed.
var queued sync.Map // *store.DB → chan struct{}

func queuedChan(db *store.DB) chan struct{} {
	if c, ok := queued.Load(db); ok {
		return c.(chan struct{})
	}
	c, _ := queued.LoadOrStore(db, make(chan struct{}, 1))
	return c.(chan struct{})
}

// Queued returns a channel that receives once messages written by this
// process have been committed since it last received, so delivery can
// start at once instead of at its next tick: an alert's first
// notification leaves within milliseconds. Messages written by other
// processes (replicas) are found at the tick.
func (o *Outbox) Queued() <-chan struct{} { return queuedChan(o.db) }

// qInsert writes one message. It runs on the hot path: an alert raised by
// a ping writes its messages in the ping's transaction.
var qInsert = store.Hot(func(store.Dialect) string {
	return `INSERT INTO outbox (id, project_id, destination_kind, destination_id, idempotency_key, event, payload,
			status, attempts, next_attempt_at, leased_until, last_error, created_at, sent_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $10, 0, '', $9, 0)`
})

// Enqueue writes messages in the caller's transaction, due now, and
// returns their ids, in order. Messages are written by Nightjar's own
// stages, never from outside input, so a malformed one is a bug and its
// error an internal one.
func Enqueue(ctx context.Context, tx *store.Tx, now time.Time, msgs ...Message) ([]string, error) {
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if err := m.check(); err != nil {
			return nil, fmt.Errorf("enqueue: %w", err)
		}
		id := store.NewID()
		key := m.IdempotencyKey
		if key == "" {
			key = id
		}
		due := now
		if m.NotBefore.After(now) {
			due = m.NotBefore
		}
		if _, err := tx.ExecStmt(ctx, qInsert, id, m.ProjectID, m.To.Kind, m.To.ID, key, m.Event,
			store.JSON(payload{Alert: m.Alert, Incident: m.Incident}), Pending, store.Millis(now), store.Millis(due)); err != nil {
			return nil, fmt.Errorf("insert outbox message: %w", err)
		}
		ids = append(ids, id)
	}
	if len(msgs) > 0 {
		tx.AfterCommit(func() {
			select {
			case queuedChan(tx.DB()) <- struct{}{}:
			default: // a signal is pending already
			}
		})
	}
	return ids, nil
}

// Enqueue writes messages in a transaction of their own; see the package's
// Enqueue, which stages use to write them with the change that caused
// them.
func (o *Outbox) Enqueue(ctx context.Context, now time.Time, msgs ...Message) ([]string, error) {
	var ids []string
	err := o.db.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		ids, err = Enqueue(ctx, tx, now, msgs...)
		return err
	})
	return ids, err
}

func (m Message) check() error {
	switch {
	case m.To.Kind != ToChannel && m.To.Kind != ToContact:
		return fmt.Errorf("unknown destination kind %q", m.To.Kind)
	case m.To.ID == "":
		return fmt.Errorf("no destination id")
	case m.ProjectID == "":
		return fmt.Errorf("no project")
	case m.Event == "":
		return fmt.Errorf("no event")
	}
	return nil
}

// Hasten finds the newest message of event waiting for delivery to a
// destination and makes it due now, unless an attempt at it is running,
// and returns its id; "" when none waits. A button that asks for a message
// again (a channel's test) uses it, so that asking twice sends once.
func Hasten(ctx context.Context, tx *store.Tx, to Destination, event string, now time.Time) (string, error) {
	var id string
	var leasedUntil int64
	err := tx.QueryRow(ctx, `SELECT id, leased_until FROM outbox
		WHERE destination_kind = $1 AND destination_id = $2 AND event = $3 AND status = $4
		ORDER BY created_at DESC LIMIT 1`+tx.Dialect().ForUpdate(), to.Kind, to.ID, event, Pending).Scan(&id, &leasedUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("find waiting %s message to %s: %w", event, to, err)
	}
	if leasedUntil <= store.Millis(now) {
		if _, err := tx.Exec(ctx, `UPDATE outbox SET next_attempt_at = $2 WHERE id = $1`, id, store.Millis(now)); err != nil {
			return "", fmt.Errorf("make message %s due: %w", id, err)
		}
	}
	return id, nil
}

// CountSince counts a project's messages of event written after since,
// for limits on how many a project may queue.
func CountSince(ctx context.Context, q store.Querier, projectID, event string, since time.Time) (int, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE project_id = $1 AND event = $2 AND created_at > $3`,
		projectID, event, store.Millis(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s messages: %w", event, err)
	}
	return n, nil
}

// DeleteTo deletes every message to a destination, delivered or not, in
// the caller's transaction. The area that owns a destination calls it when
// the destination goes, as a foreign key would have.
func DeleteTo(ctx context.Context, tx *store.Tx, to Destination) error {
	if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE destination_kind = $1 AND destination_id = $2`, to.Kind, to.ID); err != nil {
		return fmt.Errorf("delete messages to %s: %w", to, err)
	}
	return nil
}

// Cancel cancels a project's messages whose idempotency key starts with
// keyPrefix and that are held back until after now (see
// Message.NotBefore), never attempted, in the caller's transaction, with
// reason as their last error, and returns their ids: pages held back by a
// person's notification rules are not sent once the incident is
// acknowledged. Messages due already are delivered, and attempted ones go
// on, so their results are kept.
func Cancel(ctx context.Context, tx *store.Tx, projectID, keyPrefix, reason string, now time.Time) ([]string, error) {
	return store.QueryAll(ctx, tx, "cancel messages "+keyPrefix, `UPDATE outbox SET status = $6, last_error = $7
		WHERE project_id = $1 AND status = $2 AND attempts = 0 AND leased_until = 0
		AND next_attempt_at > $5 AND substr(idempotency_key, 1, $3) = $4 RETURNING id`,
		store.ScanString, projectID, Pending, len(keyPrefix), keyPrefix, store.Millis(now), Cancelled, nightjar.CleanText(reason, 1000))
}

const itemColumns = `id, project_id, destination_kind, destination_id, idempotency_key, event, payload,
	status, attempts, next_attempt_at, last_error, created_at, sent_at, bundle`

func scanItem(row store.Row) (*Item, error) {
	var it Item
	var doc string
	var next, created, sent int64
	err := row.Scan(&it.ID, &it.ProjectID, &it.To.Kind, &it.To.ID, &it.IdempotencyKey, &it.Event, &doc,
		&it.Status, &it.Attempts, &next, &it.LastError, &created, &sent, &it.Bundle)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "notification not found")
	} else if err != nil {
		return nil, fmt.Errorf("scan outbox message: %w", err)
	}
	var p payload
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, fmt.Errorf("decode payload of outbox message %s: %w", it.ID, err)
	}
	it.Alert, it.Incident = p.Alert, p.Incident
	it.NextAttemptAt, it.CreatedAt, it.SentAt = store.Time(next), store.Time(created), store.Time(sent)
	return &it, nil
}

// Entry returns one of a project's messages with its delivery state.
func (o *Outbox) Entry(ctx context.Context, projectID, id string) (*Item, error) {
	return scanItem(o.db.QueryRow(ctx, `SELECT `+itemColumns+` FROM outbox WHERE id = $1 AND project_id = $2`, id, projectID))
}

// ByProject lists a project's messages, newest first.
func (o *Outbox) ByProject(ctx context.Context, projectID string, limit int) ([]*Item, error) {
	return store.QueryAll(ctx, o.db, "list outbox", `SELECT `+itemColumns+` FROM outbox WHERE project_id = $1
		ORDER BY created_at DESC, id LIMIT $2`, scanItem, projectID, limit)
}

// Depth counts the messages waiting for delivery.
func (o *Outbox) Depth(ctx context.Context) (int64, error) {
	var n int64
	if err := o.db.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE status = $1`, Pending).Scan(&n); err != nil {
		return 0, fmt.Errorf("count waiting messages: %w", err)
	}
	return n, nil
}

// Prune deletes the messages that were sent or given up on and are older
// than keep, and reports how many went. Waiting messages stay however old.
func (o *Outbox) Prune(ctx context.Context, now time.Time, keep time.Duration) (int64, error) {
	res, err := o.db.Exec(ctx, `DELETE FROM outbox WHERE status <> $1 AND created_at < $2`, Pending, store.Millis(now.Add(-keep)))
	if err != nil {
		return 0, fmt.Errorf("prune outbox: %w", err)
	}
	return res.RowsAffected()
}
