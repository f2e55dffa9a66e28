package outbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// Claim bounds what one Claim takes. The limits count the attempts in
// flight on every replica (messages whose lease holds), so that a
// destination that never answers, or a project with many of them, holds at
// most its share of the senders while everybody else's messages go out.
type Claim struct {
	// Limit is the most messages to take: the sender's free slots.
	Limit int
	// Lease is how long each message is held. It must outlast the
	// attempt, with room for recording the result and for clock
	// differences between replicas, or another sender could take a
	// message whose attempt is still running and send it twice.
	Lease time.Duration
	// PerDestination is the most attempts in flight to one destination.
	PerDestination int
	// PerProject is the most attempts in flight for one project.
	PerProject int
}

// Claim takes due messages for delivery within c's limits, each
// destination's oldest first and destinations taking turns, so one
// destination's backlog does not hold back another's next message. Each
// message taken counts one more attempt and is leased until now+c.Lease:
// nobody else takes it meanwhile, and if its sender dies it is taken again
// then. On PostgreSQL, replicas skip messages another replica is claiming.
func (o *Outbox) Claim(ctx context.Context, now time.Time, c Claim) ([]*Item, error) {
	if c.Limit <= 0 || c.PerDestination <= 0 || c.PerProject <= 0 {
		return nil, nil
	}
	var out []*Item
	err := o.db.WithTx(ctx, func(tx *store.Tx) error {
		out = nil
		// Each destination's oldest due messages, as many as it has room
		// for, ranked so that every destination's first comes before any
		// second.
		type candidate struct{ id, project string }
		cands, err := store.QueryAll(ctx, tx, "find due outbox messages", `WITH busy AS (
				SELECT destination_kind, destination_id, COUNT(*) AS n FROM outbox
				WHERE status = $1 AND leased_until > $2 GROUP BY destination_kind, destination_id
			), due AS (
				SELECT id, project_id, destination_kind, destination_id, next_attempt_at,
					ROW_NUMBER() OVER (PARTITION BY destination_kind, destination_id ORDER BY next_attempt_at, id) AS turn
				FROM outbox WHERE status = $1 AND next_attempt_at <= $2 AND leased_until <= $2
			)
			SELECT due.id, due.project_id FROM due LEFT JOIN busy
				ON busy.destination_kind = due.destination_kind AND busy.destination_id = due.destination_id
			WHERE due.turn + COALESCE(busy.n, 0) <= $3
			ORDER BY due.turn, due.next_attempt_at, due.id LIMIT $4`,
			func(row store.Row) (candidate, error) {
				var c candidate
				return c, row.Scan(&c.id, &c.project)
			}, Pending, store.Millis(now), c.PerDestination, c.Limit*c.PerProject) // room for skipping busy projects' messages
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
		args := []any{Pending, store.Millis(now)}
		for _, id := range ids {
			args = append(args, id)
		}
		// Lock in id order, skipping messages another replica is taking,
		// and check again that each is still due and free.
		ids, err = store.QueryAll(ctx, tx, "lock outbox messages", `SELECT id FROM outbox WHERE id IN (`+store.Placeholders(3, len(ids))+`)
			AND status = $1 AND next_attempt_at <= $2 AND leased_until <= $2 ORDER BY id`+tx.Dialect().SkipLocked(), store.ScanString, args...)
		if err != nil || len(ids) == 0 {
			return err
		}
		args = []any{store.Millis(now.Add(c.Lease))}
		for _, id := range ids {
			args = append(args, id)
		}
		in := store.Placeholders(2, len(ids))
		if _, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, leased_until = $1 WHERE id IN (`+in+`)`, args...); err != nil {
			return fmt.Errorf("lease outbox messages: %w", err)
		}
		out, err = store.QueryAll(ctx, tx, "read claimed outbox messages", `SELECT `+itemColumns+` FROM outbox
			WHERE id IN (`+store.Placeholders(1, len(ids))+`) ORDER BY next_attempt_at, id`, scanItem, args[1:]...)
		return err
	})
	return out, err
}

// inFlightByProject counts each project's messages whose lease holds.
func inFlightByProject(ctx context.Context, tx *store.Tx, now time.Time) (map[string]int, error) {
	type count struct {
		project string
		n       int
	}
	counts, err := store.QueryAll(ctx, tx, "count outbox attempts in flight",
		`SELECT project_id, COUNT(*) FROM outbox WHERE status = $1 AND leased_until > $2 GROUP BY project_id`,
		func(row store.Row) (count, error) {
			var c count
			return c, row.Scan(&c.project, &c.n)
		}, Pending, store.Millis(now))
	if err != nil {
		return nil, err
	}
	busy := make(map[string]int, len(counts))
	for _, c := range counts {
		busy[c.project] = c.n
	}
	return busy, nil
}

// Finish records the result of the attempt a sender made at a claimed
// message: sent, to be retried at retryAt, given up (retryAt zero), or
// cancelled (deliveryErr is ErrCancelled), and ends the lease, telling the
// outbox's recorders in the same transaction. The attempt count fences the
// write: if the lease ran out and another sender took the message
// meanwhile, nothing is written and the error (ECONFLICT) says so.
func (o *Outbox) Finish(ctx context.Context, it *Item, now time.Time, deliveryErr error, retryAt time.Time) error {
	r := Result{Status: Pending, Attempts: it.Attempts}
	var next time.Time // when to try again; zero keeps the row's
	switch {
	case deliveryErr == nil:
		r.Status, r.SentAt = Sent, now
	case errors.Is(deliveryErr, ErrCancelled):
		r.Status, r.LastError = Cancelled, deliveryError(deliveryErr)
	case retryAt.IsZero():
		r.Status, r.LastError = Failed, deliveryError(deliveryErr)
	default:
		r.LastError, next = deliveryError(deliveryErr), retryAt
	}
	err := o.db.WithTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE outbox SET status = $3, sent_at = $4, last_error = $5,
			next_attempt_at = CASE WHEN $7 THEN $6 ELSE next_attempt_at END, leased_until = 0 WHERE id = $1 AND attempts = $2 AND status = '`+Pending+`'`,
			it.ID, it.Attempts, r.Status, store.Millis(r.SentAt), r.LastError, store.Millis(next), !next.IsZero())
		if err != nil {
			return fmt.Errorf("finish outbox message %s: %w", it.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("finish outbox message %s: %w", it.ID, err)
		} else if n == 0 {
			return nightjar.Errorf(nightjar.ECONFLICT, "notification %s: attempt %d was not recorded: its lease ran out and another sender took it, or it was deleted", it.ID, it.Attempts)
		}
		for _, rec := range o.recorders {
			if err := rec.RecordDelivery(ctx, tx, it.ID, r); err != nil {
				return fmt.Errorf("record result of outbox message %s: %w", it.ID, err)
			}
		}
		return nil
	})
	return err
}

// deliveryError is the stored form of a failed delivery's error. It may
// quote what a receiving server said, in any bytes, so it is made
// storable and cut to 1,000 characters, never mid-character.
func deliveryError(err error) string { return nightjar.CleanText(err.Error(), 1000) }
