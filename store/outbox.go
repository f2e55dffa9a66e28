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
	"github.com/nightjar-dev/nightjar/notify"
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
	event := notify.AlertEvent(a.Status)
	for _, ch := range ids {
		if only != nil && !slices.Contains(only, ch) {
			continue
		}
		if _, err := tx.insertOutbox(ctx, a.ProjectID, ch, event, payload, now); err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) insertOutbox(ctx context.Context, projectID, channelID, event, payload string, now time.Time) (string, error) {
	id := NewID()
	if _, err := tx.exec(ctx, qInsertOutbox, id, projectID, channelID, event, payload, OutboxPending, ms(now)); err != nil {
		return "", fmt.Errorf("insert outbox row: %w", err)
	}
	return id, nil
}

// Test notifications are limited so that a button cannot fill the outbox:
// a channel has at most one waiting (asking again makes it due now rather
// than queueing another), and a project sends at most TestsPerMinute.
const (
	// TestsPerMinute is how many test notifications one project may queue
	// in a minute.
	TestsPerMinute = 10
)

// EnqueueTest queues a test notification for one channel and returns its
// outbox id, so the caller can watch its delivery result. If a test for the
// channel is still waiting, that one is returned, made due now unless an
// attempt is running. A project that queued TestsPerMinute tests in the
// last minute gets an ERATELIMIT error.
func (db *DB) EnqueueTest(ctx context.Context, ch *nightjar.Channel, now time.Time) (string, error) {
	var id string
	err := db.WithTx(ctx, func(tx *Tx) error {
		var leasedUntil int64
		err := tx.queryRow(ctx, `SELECT id, leased_until FROM outbox WHERE channel_id = $1 AND event = $2 AND status = $3
			ORDER BY created_at DESC LIMIT 1`+db.dialect.forUpdate, ch.ID, notify.EventTest, OutboxPending).Scan(&id, &leasedUntil)
		switch {
		case err == nil:
			if leasedUntil <= ms(now) {
				if _, err := tx.exec(ctx, `UPDATE outbox SET next_attempt_at = $2 WHERE id = $1`, id, ms(now)); err != nil {
					return fmt.Errorf("reschedule test notification: %w", err)
				}
			}
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("find waiting test notification: %w", err)
		}
		var recent int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE project_id = $1 AND event = $2 AND created_at > $3`,
			ch.ProjectID, notify.EventTest, ms(now.Add(-time.Minute))).Scan(&recent); err != nil {
			return fmt.Errorf("count test notifications: %w", err)
		}
		if recent >= TestsPerMinute {
			return nightjar.Errorf(nightjar.ERATELIMIT, "at most %d test notifications a minute per project; try again in a minute", TestsPerMinute)
		}
		a := nightjar.Alert{ProjectID: ch.ProjectID, DedupKey: "test:" + ch.ID, Source: "test", Severity: nightjar.SeverityInfo,
			Summary: "Test notification from Nightjar", Status: nightjar.AlertFiring, StartsAt: now.UTC()}
		id, err = tx.insertOutbox(ctx, ch.ProjectID, ch.ID, notify.EventTest, jsonText(a), now)
		return err
	})
	return id, err
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

// OutboxClaim bounds what one ClaimOutbox takes. The limits count the
// attempts in flight on every replica (rows whose lease holds), so that a
// destination that never answers, or a project with many of them, holds at
// most its share of the senders while everybody else's notifications go out.
type OutboxClaim struct {
	// Limit is the most rows to take: the sender's free slots.
	Limit int
	// Lease is how long each row is held. It must outlast the attempt,
	// with room for recording the result and for clock differences between
	// replicas, or another sender could take a row whose attempt is still
	// running and send it twice.
	Lease time.Duration
	// PerChannel is the most attempts in flight to one channel.
	PerChannel int
	// PerProject is the most attempts in flight for one project.
	PerProject int
}

// ClaimOutbox takes due notifications for delivery within c's limits, each
// channel's oldest first and channels taking turns, so one channel's
// backlog does not hold back another's next notification. Each row taken
// counts one more attempt and is leased until now+c.Lease: nobody else
// takes it meanwhile, and if its sender dies it is taken again then. On
// PostgreSQL, replicas skip rows another replica is claiming.
func (db *DB) ClaimOutbox(ctx context.Context, now time.Time, c OutboxClaim) ([]*OutboxItem, error) {
	if c.Limit <= 0 || c.PerChannel <= 0 || c.PerProject <= 0 {
		return nil, nil
	}
	var out []*OutboxItem
	err := db.WithTx(ctx, func(tx *Tx) error {
		out = nil
		// Each channel's oldest due rows, as many as it has room for,
		// ranked so that every channel's first comes before any second.
		type candidate struct{ id, project string }
		cands, err := queryAll(ctx, tx, "find due outbox rows", `WITH busy AS (
				SELECT channel_id, COUNT(*) AS n FROM outbox WHERE status = $1 AND leased_until > $2 GROUP BY channel_id
			), due AS (
				SELECT id, project_id, channel_id, next_attempt_at,
					ROW_NUMBER() OVER (PARTITION BY channel_id ORDER BY next_attempt_at, id) AS turn
				FROM outbox WHERE status = $1 AND next_attempt_at <= $2 AND leased_until <= $2
			)
			SELECT due.id, due.project_id FROM due LEFT JOIN busy ON busy.channel_id = due.channel_id
			WHERE due.turn + COALESCE(busy.n, 0) <= $3
			ORDER BY due.turn, due.next_attempt_at, due.id LIMIT $4`,
			func(row rowScanner) (candidate, error) {
				var c candidate
				return c, row.Scan(&c.id, &c.project)
			}, OutboxPending, ms(now), c.PerChannel, c.Limit*c.PerProject) // room for skipping busy projects' rows
		if err != nil || len(cands) == 0 {
			return err
		}
		busy, err := inFlightByProject(ctx, tx, now)
		if err != nil {
			return err
		}
		var ids []string
		for _, cand := range cands {
			if len(ids) == c.Limit {
				break
			}
			if busy[cand.project] < c.PerProject {
				busy[cand.project]++
				ids = append(ids, cand.id)
			}
		}
		if len(ids) == 0 {
			return nil
		}
		slices.Sort(ids)
		args := []any{OutboxPending, ms(now)}
		for _, id := range ids {
			args = append(args, id)
		}
		// Lock in id order, skipping rows another replica is taking, and
		// check again that each is still due and free.
		ids, err = queryAll(ctx, tx, "lock outbox rows", `SELECT id FROM outbox WHERE id IN (`+placeholders(3, len(ids))+`)
			AND status = $1 AND next_attempt_at <= $2 AND leased_until <= $2 ORDER BY id`+db.dialect.skipLocked, scanString, args...)
		if err != nil || len(ids) == 0 {
			return err
		}
		args = []any{ms(now.Add(c.Lease))}
		for _, id := range ids {
			args = append(args, id)
		}
		in := placeholders(2, len(ids))
		if _, err := tx.exec(ctx, `UPDATE outbox SET attempts = attempts + 1, leased_until = $1 WHERE id IN (`+in+`)`, args...); err != nil {
			return fmt.Errorf("lease outbox rows: %w", err)
		}
		out, err = queryAll(ctx, tx, "read claimed outbox rows", `SELECT `+outboxColumns+` FROM outbox o JOIN channels c ON c.id = o.channel_id
			WHERE o.id IN (`+placeholders(1, len(ids))+`) ORDER BY o.next_attempt_at, o.id`, scanOutbox, args[1:]...)
		return err
	})
	return out, err
}

// inFlightByProject counts each project's notifications whose lease holds.
func inFlightByProject(ctx context.Context, tx *Tx, now time.Time) (map[string]int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT project_id, COUNT(*) FROM outbox WHERE status = $1 AND leased_until > $2 GROUP BY project_id`,
		OutboxPending, ms(now))
	if err != nil {
		return nil, fmt.Errorf("count outbox attempts in flight: %w", err)
	}
	defer rows.Close()
	busy := map[string]int{}
	for rows.Next() {
		var project string
		var n int
		if err := rows.Scan(&project, &n); err != nil {
			return nil, fmt.Errorf("count outbox attempts in flight: %w", err)
		}
		busy[project] = n
	}
	return busy, rows.Err()
}

// FinishOutbox records the result of the attempt it made at the claimed
// item: sent, to be retried at retryAt, or (retryAt zero) given up, and
// ends the lease. The attempt count fences the write: if the lease ran out
// and another sender took the row meanwhile, nothing is written and the
// error (ECONFLICT) says so.
func (db *DB) FinishOutbox(ctx context.Context, it *OutboxItem, now time.Time, deliveryErr error, retryAt time.Time) error {
	var res sql.Result
	var err error
	const fence = ` WHERE id = $1 AND attempts = $2 AND status = '` + OutboxPending + `'`
	switch {
	case deliveryErr == nil:
		res, err = db.w.ExecContext(ctx, `UPDATE outbox SET status = $3, sent_at = $4, last_error = '', leased_until = 0`+fence,
			it.ID, it.Attempts, OutboxSent, ms(now))
	case retryAt.IsZero():
		res, err = db.w.ExecContext(ctx, `UPDATE outbox SET status = $3, last_error = $4, leased_until = 0`+fence,
			it.ID, it.Attempts, OutboxFailed, deliveryError(deliveryErr))
	default:
		res, err = db.w.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = $3, last_error = $4, leased_until = 0`+fence,
			it.ID, it.Attempts, ms(retryAt), deliveryError(deliveryErr))
	}
	if err != nil {
		return fmt.Errorf("finish outbox row %s: %w", it.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("finish outbox row %s: %w", it.ID, err)
	} else if n == 0 {
		return nightjar.Errorf(nightjar.ECONFLICT, "notification %s: attempt %d was not recorded: its lease ran out and another sender took it, or it was deleted", it.ID, it.Attempts)
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

// deliveryError is the stored form of a failed delivery's error. It may
// quote what a receiving server said, in any bytes, so it is made
// storable and cut to 1,000 characters, never mid-character.
func deliveryError(err error) string { return nightjar.CleanText(err.Error(), 1000) }
