// Package channels is the area of notification channels: the places a
// project's alerts are delivered to (webhooks, email addresses, chat and
// paging services). It owns the channels table; what a valid channel is
// stays in the domain (nightjar.Channel.Validate and Apply), so every front
// door that changes a channel gets the same answer.
//
// A channel is a destination of the outbox (outbox.ToChannel): the delivery
// module asks this area for the channel behind a message, and deleting a
// channel deletes its messages in the same transaction.
package channels

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
)

// Service stores channels and sends their test notifications. Its methods
// own their transaction; the functions ending in Tx take a caller's, so a
// declarative apply changes many things in one commit.
type Service struct {
	db *store.DB
}

// New returns the channels area of db.
func New(db *store.DB) *Service { return &Service{db: db} }

const (
	columns    = `id, project_id, kind, name, config, created_at`
	qUpdate    = `UPDATE channels SET kind = $3, name = $4, config = $5 WHERE id = $1 AND project_id = $2`
	qByID      = `SELECT ` + columns + ` FROM channels WHERE id = $1 AND project_id = $2`
	qByProject = `SELECT ` + columns + ` FROM channels WHERE project_id = $1 ORDER BY created_at, id`
)

// Create stores a new channel, giving it an id unless it has one.
func (s *Service) Create(ctx context.Context, ch *nightjar.Channel, now time.Time) error {
	return create(ctx, s.db, ch, now)
}

// CreateTx is Create inside the caller's transaction.
func CreateTx(ctx context.Context, tx *store.Tx, ch *nightjar.Channel, now time.Time) error {
	return create(ctx, tx, ch, now)
}

func create(ctx context.Context, q store.Conn, ch *nightjar.Channel, now time.Time) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	if ch.ID == "" {
		ch.ID = store.NewID()
	}
	ch.CreatedAt = now.UTC().Truncate(time.Millisecond)
	_, err := q.Exec(ctx, `INSERT INTO channels (id, project_id, kind, name, config, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		ch.ID, ch.ProjectID, ch.Kind, ch.Name, store.JSON(ch.Config), store.Millis(ch.CreatedAt))
	if store.IsUniqueViolation(err) {
		return nightjar.Errorf(nightjar.ECONFLICT, "channel %s exists", ch.ID)
	} else if err != nil {
		return fmt.Errorf("insert channel: %w", err)
	}
	return nil
}

// Update replaces a channel's kind, name and settings with ones stated in
// full (as a configuration file does).
func (s *Service) Update(ctx context.Context, ch *nightjar.Channel) error {
	return update(ctx, s.db, ch)
}

// UpdateTx is Update inside the caller's transaction.
func UpdateTx(ctx context.Context, tx *store.Tx, ch *nightjar.Channel) error {
	return update(ctx, tx, ch)
}

func update(ctx context.Context, q store.Conn, ch *nightjar.Channel) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	res, err := q.Exec(ctx, qUpdate, ch.ID, ch.ProjectID, ch.Kind, ch.Name, store.JSON(ch.Config))
	if err != nil {
		return fmt.Errorf("update channel: %w", err)
	}
	return store.MustAffect(res, "channel")
}

// Edit changes one of a project's channels with edit, typically a
// nightjar.Channel.Apply, and saves the result if it is valid. The channel
// is read and written in one transaction, so two edits cannot each undo
// the other's change. Edit cannot move a channel to another project or
// change its id.
func (s *Service) Edit(ctx context.Context, projectID, id string, edit func(ch *nightjar.Channel) error) (*nightjar.Channel, error) {
	var out *nightjar.Channel
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		ch, err := scan(tx.QueryRow(ctx, qByID+tx.Dialect().ForUpdate(), id, projectID))
		if err != nil {
			return err
		}
		before := *ch
		if err := edit(ch); err != nil {
			return err
		}
		ch.ID, ch.ProjectID, ch.CreatedAt = before.ID, before.ProjectID, before.CreatedAt
		if err := update(ctx, tx, ch); err != nil {
			return err
		}
		out = ch
		return nil
	})
	return out, err
}

// Delete removes one of a project's channels and every message to it,
// delivered or waiting, in one transaction: nothing is sent to a channel
// once it is gone.
func (s *Service) Delete(ctx context.Context, projectID, id string) error {
	return s.db.WithTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM channels WHERE id = $1 AND project_id = $2`, id, projectID)
		if err != nil {
			return fmt.Errorf("delete channel: %w", err)
		}
		if err := store.MustAffect(res, "channel"); err != nil {
			return err
		}
		return outbox.DeleteTo(ctx, tx, destination(id))
	})
}

// List returns a project's channels, oldest first.
func (s *Service) List(ctx context.Context, projectID string) ([]*nightjar.Channel, error) {
	return list(ctx, s.db, projectID)
}

// ListTx is List as the caller's transaction sees it.
func ListTx(ctx context.Context, tx *store.Tx, projectID string) ([]*nightjar.Channel, error) {
	return list(ctx, tx, projectID)
}

func list(ctx context.Context, q store.Querier, projectID string) ([]*nightjar.Channel, error) {
	return store.QueryAll(ctx, q, "list channels", qByProject, scan, projectID)
}

// qIDs lists a project's channel ids. The alert stage's default route runs
// it for every alert change that names no channels, in the transaction of
// the ping or deadline that caused it.
var qIDs = store.Hot(func(store.Dialect) string {
	return `SELECT id FROM channels WHERE project_id = $1 ORDER BY created_at, id`
})

// IDsTx lists the ids of a project's channels, oldest first, as the
// caller's transaction sees them.
func IDsTx(ctx context.Context, tx *store.Tx, projectID string) ([]string, error) {
	return store.QueryAll(ctx, tx, "list channel ids", qIDs.SQL(tx.Dialect()), store.ScanString, projectID)
}

// Get returns one of a project's channels.
func (s *Service) Get(ctx context.Context, projectID, id string) (*nightjar.Channel, error) {
	return scan(s.db.QueryRow(ctx, qByID, id, projectID))
}

// TestsPerMinute is how many test notifications one project may queue in
// a minute. With at most one waiting per channel (see SendTest), a test
// button cannot fill the outbox.
const TestsPerMinute = 10

// SendTest queues a test notification to a channel and returns its outbox
// id, so the caller can watch its delivery result. If a test for the
// channel is still waiting, that one is returned, made due now unless an
// attempt at it is running. A project that queued TestsPerMinute tests in
// the last minute gets an ERATELIMIT error; a channel deleted meanwhile,
// ENOTFOUND.
func (s *Service) SendTest(ctx context.Context, ch *nightjar.Channel, now time.Time) (string, error) {
	var id string
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		// Lock the channel, so that it cannot be deleted, and its
		// messages with it, before this one is written.
		if _, err := scan(tx.QueryRow(ctx, qByID+tx.Dialect().ForUpdate(), ch.ID, ch.ProjectID)); err != nil {
			return err
		}
		to := destination(ch.ID)
		var err error
		if id, err = outbox.Hasten(ctx, tx, to, notify.EventTest, now); err != nil || id != "" {
			return err
		}
		recent, err := outbox.CountSince(ctx, tx, ch.ProjectID, notify.EventTest, now.Add(-time.Minute))
		if err != nil {
			return err
		}
		if recent >= TestsPerMinute {
			return nightjar.Errorf(nightjar.ERATELIMIT, "at most %d test notifications a minute per project; try again in a minute", TestsPerMinute)
		}
		a := nightjar.Alert{ProjectID: ch.ProjectID, DedupKey: "test:" + ch.ID, Source: "test", Severity: nightjar.SeverityInfo,
			Summary: "Test notification from Nightjar", Status: nightjar.AlertFiring, StartsAt: now.UTC()}
		ids, err := outbox.Enqueue(ctx, tx, now, outbox.Message{ProjectID: ch.ProjectID, To: to, Event: notify.EventTest, Alert: a})
		if err != nil {
			return err
		}
		id = ids[0]
		return nil
	})
	return id, err
}

// destination is the outbox's name for a channel.
func destination(id string) outbox.Destination {
	return outbox.Destination{Kind: outbox.ToChannel, ID: id}
}

func scan(row store.Row) (*nightjar.Channel, error) {
	var ch nightjar.Channel
	var cfg string
	var created int64
	if err := row.Scan(&ch.ID, &ch.ProjectID, &ch.Kind, &ch.Name, &cfg, &created); errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "channel not found")
	} else if err != nil {
		return nil, fmt.Errorf("scan channel: %w", err)
	}
	if err := json.Unmarshal([]byte(cfg), &ch.Config); err != nil {
		return nil, fmt.Errorf("decode channel config %s: %w", ch.ID, err)
	}
	ch.CreatedAt = store.Time(created)
	return &ch, nil
}
