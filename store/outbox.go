package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// Outbox statuses.
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed" // gave up: permanent error or out of attempts
)

// OutboxItem is one notification waiting for, or done with, delivery.
type OutboxItem struct {
	ID            string
	ProjectID     string
	Channel       *nightjar.Channel
	Event         string
	Alert         nightjar.Alert
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        time.Time
}

func (tx *Tx) enqueue(ctx context.Context, a *nightjar.Alert, now time.Time, only []string) error {
	ids, err := queryAll(ctx, tx, "list channels", qChannelIDs, scanString, a.ProjectID)
	if err != nil {
		return err
	}
	payload := jsonText(a)
	event := "alert." + string(a.Status)
	for _, ch := range ids {
		if only != nil && !slices.Contains(only, ch) {
			continue
		}
		if err := tx.insertOutbox(ctx, a.ProjectID, ch, event, payload, now); err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) insertOutbox(ctx context.Context, projectID, channelID, event, payload string, now time.Time) error {
	_, err := tx.exec(ctx, qInsertOutbox, NewID(), projectID, channelID, event, payload, OutboxPending, ms(now))
	if err != nil {
		return fmt.Errorf("insert outbox row: %w", err)
	}
	return nil
}

// EnqueueTest queues a test notification for one channel and returns its
// outbox id, so the caller can watch its delivery result.
func (db *DB) EnqueueTest(ctx context.Context, ch *nightjar.Channel, now time.Time) (string, error) {
	a := nightjar.Alert{ProjectID: ch.ProjectID, DedupKey: "test:" + ch.ID, Source: "test", Severity: nightjar.SeverityInfo,
		Summary: "Test notification from Nightjar", Status: nightjar.AlertFiring, StartsAt: now.UTC()}
	id := NewID()
	_, err := db.w.ExecContext(ctx, `INSERT INTO outbox (id, project_id, channel_id, event, payload, status, attempts, next_attempt_at, last_error, created_at, sent_at)
		VALUES ($1, $2, $3, 'test', $4, $5, 0, $6, '', $6, 0)`, id, ch.ProjectID, ch.ID, jsonText(a), OutboxPending, ms(now))
	if err != nil {
		return "", fmt.Errorf("insert outbox row: %w", err)
	}
	return id, nil
}

const outboxColumns = `o.id, o.project_id, o.event, o.payload, o.status, o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.sent_at,
	c.id, c.project_id, c.kind, c.name, c.config, c.created_at`

func scanOutbox(row rowScanner) (*OutboxItem, error) {
	var it OutboxItem
	var ch nightjar.Channel
	var payload, cfg string
	var next, created, sent, chCreated int64
	err := row.Scan(&it.ID, &it.ProjectID, &it.Event, &payload, &it.Status, &it.Attempts, &next, &it.LastError, &created, &sent,
		&ch.ID, &ch.ProjectID, &ch.Kind, &ch.Name, &cfg, &chCreated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "notification not found")
	} else if err != nil {
		return nil, fmt.Errorf("scan outbox row: %w", err)
	}
	if err := json.Unmarshal([]byte(payload), &it.Alert); err != nil {
		return nil, fmt.Errorf("decode outbox payload %s: %w", it.ID, err)
	}
	if err := json.Unmarshal([]byte(cfg), &ch.Config); err != nil {
		return nil, fmt.Errorf("decode channel config %s: %w", ch.ID, err)
	}
	ch.CreatedAt = tm(chCreated)
	it.Channel = &ch
	it.NextAttemptAt, it.CreatedAt, it.SentAt = tm(next), tm(created), tm(sent)
	return &it, nil
}

// ClaimOutbox takes up to limit due notifications for delivery. Each is
// leased until now+lease: if this process dies mid-delivery another one
// (or this one after restart) takes it again then. On PostgreSQL, replicas
// skip rows another replica holds.
func (db *DB) ClaimOutbox(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*OutboxItem, error) {
	var out []*OutboxItem
	err := db.WithTx(ctx, func(tx *Tx) error {
		out = nil
		ids, err := queryAll(ctx, tx, "claim outbox", `SELECT id FROM outbox WHERE status = $1 AND next_attempt_at <= $2
			ORDER BY next_attempt_at LIMIT $3`+db.dialect.skipLocked, scanString, OutboxPending, ms(now), limit)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.exec(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2 WHERE id = $1`, id, ms(now.Add(lease))); err != nil {
				return fmt.Errorf("lease outbox row: %w", err)
			}
			it, err := scanOutbox(tx.queryRow(ctx, `SELECT `+outboxColumns+` FROM outbox o JOIN channels c ON c.id = o.channel_id WHERE o.id = $1`, id))
			if err != nil {
				return err
			}
			out = append(out, it)
		}
		return nil
	})
	return out, err
}

// FinishOutbox records a delivery attempt's result: sent, to be retried at
// retryAt, or (retryAt zero) given up.
func (db *DB) FinishOutbox(ctx context.Context, id string, now time.Time, deliveryErr error, retryAt time.Time) error {
	var err error
	switch {
	case deliveryErr == nil:
		_, err = db.w.ExecContext(ctx, `UPDATE outbox SET status = $2, sent_at = $3, last_error = '' WHERE id = $1`, id, OutboxSent, ms(now))
	case retryAt.IsZero():
		_, err = db.w.ExecContext(ctx, `UPDATE outbox SET status = $2, last_error = $3 WHERE id = $1`, id, OutboxFailed, truncate(deliveryErr.Error(), 1000))
	default:
		_, err = db.w.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = $2, last_error = $3 WHERE id = $1`, id, ms(retryAt), truncate(deliveryErr.Error(), 1000))
	}
	if err != nil {
		return fmt.Errorf("finish outbox row %s: %w", id, err)
	}
	return nil
}

// OutboxEntry returns one notification of a project with its delivery state.
func (db *DB) OutboxEntry(ctx context.Context, projectID, id string) (*OutboxItem, error) {
	return scanOutbox(db.r.QueryRowContext(ctx, `SELECT `+outboxColumns+` FROM outbox o JOIN channels c ON c.id = o.channel_id WHERE o.id = $1 AND o.project_id = $2`, id, projectID))
}

// OutboxDepth counts notifications waiting for delivery.
func (db *DB) OutboxDepth(ctx context.Context) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE status = $1`, OutboxPending).Scan(&n)
	return n, err
}

// OutboxByProject lists a project's notifications, newest first.
func (db *DB) OutboxByProject(ctx context.Context, projectID string, limit int) ([]*OutboxItem, error) {
	return queryAll(ctx, db.r, "list outbox", `SELECT `+outboxColumns+` FROM outbox o JOIN channels c ON c.id = o.channel_id WHERE o.project_id = $1 ORDER BY o.created_at DESC LIMIT $2`, scanOutbox, projectID, limit)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// CreateChannel stores a notification channel.
func (db *DB) CreateChannel(ctx context.Context, ch *nightjar.Channel, now time.Time) error {
	return createChannel(ctx, db.w, ch, now)
}

// CreateChannel stores a notification channel inside the transaction.
func (tx *Tx) CreateChannel(ctx context.Context, ch *nightjar.Channel, now time.Time) error {
	return createChannel(ctx, tx, ch, now)
}

func createChannel(ctx context.Context, q conn, ch *nightjar.Channel, now time.Time) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	if ch.ID == "" {
		ch.ID = NewID()
	}
	ch.CreatedAt = now.UTC().Truncate(time.Millisecond)
	_, err := q.ExecContext(ctx, `INSERT INTO channels (id, project_id, kind, name, config, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		ch.ID, ch.ProjectID, ch.Kind, ch.Name, jsonText(ch.Config), ms(ch.CreatedAt))
	if isUniqueViolation(err) {
		return nightjar.Errorf(nightjar.ECONFLICT, "channel %s exists", ch.ID)
	} else if err != nil {
		return fmt.Errorf("insert channel: %w", err)
	}
	return nil
}

// UpdateChannel replaces a channel's name and settings.
func (db *DB) UpdateChannel(ctx context.Context, ch *nightjar.Channel) error {
	return updateChannel(ctx, db.w, ch)
}

// UpdateChannel replaces a channel's name and settings inside the
// transaction.
func (tx *Tx) UpdateChannel(ctx context.Context, ch *nightjar.Channel) error {
	return updateChannel(ctx, tx, ch)
}

func updateChannel(ctx context.Context, q conn, ch *nightjar.Channel) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	res, err := q.ExecContext(ctx, `UPDATE channels SET kind = $3, name = $4, config = $5 WHERE id = $1 AND project_id = $2`,
		ch.ID, ch.ProjectID, ch.Kind, ch.Name, jsonText(ch.Config))
	if err != nil {
		return fmt.Errorf("update channel: %w", err)
	}
	return mustAffect(res, "channel")
}

// DeleteChannel removes a channel and its pending notifications.
func (db *DB) DeleteChannel(ctx context.Context, projectID, id string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM channels WHERE id = $1 AND project_id = $2`, id, projectID)
	if err != nil {
		return fmt.Errorf("delete channel: %w", err)
	}
	return mustAffect(res, "channel")
}

// Channels lists a project's channels.
func (db *DB) Channels(ctx context.Context, projectID string) ([]*nightjar.Channel, error) {
	return channels(ctx, db.r, projectID)
}

// Channels lists a project's channels as the transaction sees them.
func (tx *Tx) Channels(ctx context.Context, projectID string) ([]*nightjar.Channel, error) {
	return channels(ctx, tx, projectID)
}

func channels(ctx context.Context, q querier, projectID string) ([]*nightjar.Channel, error) {
	return queryAll(ctx, q, "list channels", `SELECT id, project_id, kind, name, config, created_at FROM channels WHERE project_id = $1 ORDER BY created_at, id`, scanChannel, projectID)
}

// Channel returns one of a project's channels.
func (db *DB) Channel(ctx context.Context, projectID, id string) (*nightjar.Channel, error) {
	return scanChannel(db.r.QueryRowContext(ctx, `SELECT id, project_id, kind, name, config, created_at FROM channels WHERE id = $1 AND project_id = $2`, id, projectID))
}

func scanChannel(row rowScanner) (*nightjar.Channel, error) {
	var ch nightjar.Channel
	var cfg string
	var created int64
	if err := row.Scan(&ch.ID, &ch.ProjectID, &ch.Kind, &ch.Name, &cfg, &created); errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "channel not found")
	} else if err != nil {
		return nil, fmt.Errorf("scan channel: %w", err)
	}
	if err := json.Unmarshal([]byte(cfg), &ch.Config); err != nil {
		return nil, fmt.Errorf("decode channel config: %w", err)
	}
	ch.CreatedAt = tm(created)
	return &ch, nil
}
