package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	// Bundle says which messages to one destination go out together as
	// one; its zero value bundles none.
	Bundle Bundling
	// PerMinute, when set, returns the most messages a project's
	// destination may be sent in any minute (a bundle counts as one), or
	// 0 for no limit: what a chat service or a phone tolerates. See
	// Claim's rate limit.
	PerMinute func(ctx context.Context, projectID string, to Destination) int
}

// Bundling is how Claim bundles the messages that fall due together for
// one destination (a person's phone or mailbox), so that an alert storm
// reaches them as one message listing forty incidents rather than forty
// messages within seconds.
//
// A message of one of Kinds and Events, due and never attempted, takes
// with it the other never-attempted messages of the same project, to the
// same destination, with the same event, due by now+Window: up to Max in
// all. When it finds any, they become a bundle: each message records the
// bundle's name (derived from its members' ids), which is the idempotency
// key of the one message sent for them. A bundle's messages are leased,
// attempted, retried and finished together, and a bundle never changes
// once made, so a retry sends the same members under the same key (a
// receiver drops it if the first attempt did arrive), and a crash between
// sending and recording loses none of them. A message that was attempted
// alone is retried alone, and one that is due alone is sent exactly as
// without bundling. A bundle counts as one attempt in flight against
// PerDestination and PerProject.
//
// Alerts of a storm seldom commit at the same instant, so a destination
// that was sent such a message, or had one claimed, less than Window ago
// has its next ones held back until Window has passed since: the storm's
// first page goes at once, and what follows within seconds goes as one
// bundle after it, held back no longer than Window.
type Bundling struct {
	// Kinds are the destination kinds whose messages are bundled.
	Kinds []string
	// Events are the events whose messages are bundled, each with
	// messages of the same event only.
	Events []string
	// Window is how long after now a message may fall due and still join
	// a bundle of messages due now.
	Window time.Duration
	// Max is the most messages in one bundle; below 2 bundles none.
	Max int
}

// bundles reports whether a never-attempted message of event to a
// destination of kind starts a bundle.
func (b Bundling) bundles(kind, event string) bool {
	return b.Max >= 2 && slices.Contains(b.Kinds, kind) && slices.Contains(b.Events, event)
}

// held is the condition, on the due messages m, that holds back a
// never-attempted message that would start a bundle while its destination
// had such a message claimed (its lease, of length lease, still holding)
// or sent less than Window ago, so that what falls due meanwhile goes out
// together after it: the first page of a storm goes at once, the rest as
// one message a few seconds later. Its placeholders start at $first.
func (b Bundling) held(first int, now time.Time, lease time.Duration) (string, []any) {
	if b.Max < 2 || len(b.Kinds) == 0 || len(b.Events) == 0 {
		return "", nil
	}
	kinds := store.Placeholders(first, len(b.Kinds))
	events := store.Placeholders(first+len(b.Kinds), len(b.Events))
	at := first + len(b.Kinds) + len(b.Events)
	var args []any
	for _, k := range b.Kinds {
		args = append(args, k)
	}
	for _, e := range b.Events {
		args = append(args, e)
	}
	// A lease that ends after now+lease-Window began less than Window ago.
	args = append(args, store.Millis(now.Add(max(lease-b.Window, 0))), store.Millis(now.Add(-b.Window)), Sent)
	return fmt.Sprintf(` AND NOT (m.attempts = 0 AND m.destination_kind IN (%s) AND m.event IN (%s) AND EXISTS (
		SELECT 1 FROM outbox r WHERE r.destination_kind = m.destination_kind AND r.destination_id = m.destination_id
			AND r.event IN (%s) AND (r.status = $1 AND r.leased_until > $%d OR r.status = $%d AND r.sent_at > $%d)))`,
		kinds, events, events, at, at+2, at+1), args
}

// BundleName is the name, and idempotency key, of the bundle of the
// messages ids: the same for the same messages in any order.
func BundleName(ids []string) string {
	sorted := slices.Sorted(slices.Values(ids))
	sum := sha256.Sum256([]byte(strings.Join(sorted, "\n")))
	return "bundle/" + hex.EncodeToString(sum[:16])
}

// Claim takes due messages for delivery within c's limits, each
// destination's oldest first and destinations taking turns, so one
// destination's backlog does not hold back another's next message. Each
// message taken counts one more attempt and is leased until now+c.Lease:
// nobody else takes it meanwhile, and if its sender dies it is taken again
// then. On PostgreSQL, replicas skip messages another replica is claiming.
// Messages that go out together (see Bundling) come back as one item, the
// bundle's first, holding the others in Bundled.
//
// A destination with a limit per minute (c.PerMinute) is sent no more than
// that in any minute, counting on every replica the attempts sent to it in
// the last minute and those in flight. A message beyond the limit is
// neither dropped nor failed: its next attempt is put off, attempts
// unchanged, to when the oldest of those sends leaves the minute (a minute
// from now if none was sent yet), and it is sent then. Messages put off
// together fall due together, so those to a contact method go out as one
// bundle. A message of a bundle made before is not put off (its bundle is
// retried whole); it waits, due, for a turn within the limit.
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
		held, heldArgs := c.Bundle.held(5, now, c.Lease)
		at := 5 + len(heldArgs)
		cands, err := store.QueryAll(ctx, tx, "find due outbox messages", `WITH busy AS (
				SELECT destination_kind, destination_id, COUNT(DISTINCT `+attemptOf+`) AS n FROM outbox
				WHERE status = $1 AND leased_until > $2 GROUP BY destination_kind, destination_id
			), due AS (
				SELECT id, project_id, destination_kind, destination_id, next_attempt_at, created_at, bundle,
					ROW_NUMBER() OVER (PARTITION BY destination_kind, destination_id ORDER BY next_attempt_at, created_at, id) AS turn
				FROM outbox m WHERE status = $1 AND next_attempt_at <= $2 AND leased_until <= $2`+held+`
			), recent AS (
				-- what was sent in the last minute to the destinations with
				-- messages due, found by the outbox_sent index
				SELECT d.destination_kind, d.destination_id, COUNT(DISTINCT CASE WHEN r.bundle = '' THEN r.id ELSE r.bundle END) AS n,
					MIN(r.sent_at) AS oldest
				FROM (SELECT DISTINCT destination_kind, destination_id FROM due) d JOIN outbox r
					ON r.destination_kind = d.destination_kind AND r.destination_id = d.destination_id
				WHERE r.status = $`+fmt.Sprint(at)+` AND r.sent_at > $`+fmt.Sprint(at+1)+`
				GROUP BY d.destination_kind, d.destination_id
			)
			SELECT due.id, due.project_id, due.bundle, due.destination_kind, due.destination_id, due.turn,
				COALESCE(busy.n, 0), COALESCE(recent.n, 0), COALESCE(recent.oldest, 0)
			FROM due LEFT JOIN busy
				ON busy.destination_kind = due.destination_kind AND busy.destination_id = due.destination_id
			LEFT JOIN recent ON recent.destination_kind = due.destination_kind AND recent.destination_id = due.destination_id
			WHERE due.turn + COALESCE(busy.n, 0) <= $3
			ORDER BY due.turn, due.next_attempt_at, due.created_at, due.id LIMIT $4`,
			func(row store.Row) (candidate, error) {
				var c candidate
				return c, row.Scan(&c.id, &c.project, &c.bundle, &c.to.Kind, &c.to.ID, &c.turn, &c.busy, &c.recent, &c.oldest)
			}, append(append([]any{Pending, store.Millis(now), c.PerDestination, c.Limit * c.PerProject}, heldArgs...), // room for skipping busy projects' messages
				Sent, store.Millis(now.Add(-time.Minute)))...)
		if err != nil || len(cands) == 0 {
			return err
		}
		// The destinations at their limit per minute, with when a send
		// leaves the minute.
		full := map[Destination]time.Time{}
		rates := map[Destination]int{}
		if c.PerMinute != nil {
			cands = slices.DeleteFunc(cands, func(cand candidate) bool {
				rate, ok := rates[cand.to]
				if !ok {
					rate = c.PerMinute(ctx, cand.project, cand.to)
					rates[cand.to] = rate
				}
				if rate <= 0 || cand.turn+cand.busy+cand.recent <= rate {
					return false
				}
				if cand.bundle == "" {
					free := now
					if cand.recent > 0 {
						free = store.Time(cand.oldest)
					}
					full[cand.to] = free.Add(time.Minute)
				}
				return true
			})
		}
		if out, err = take(ctx, tx, now, c, cands); err != nil {
			return err
		}
		// Last, so that what this claim took is leased and stays, and
		// what was within the limit but not taken (its project was busy)
		// stays due.
		within := map[string]bool{}
		for _, cand := range cands {
			within[cand.id] = true
		}
		return putOff(ctx, tx, now, full, within)
	})
	return out, err
}

// candidate is a due message that Claim may take, with what its
// destination has in flight and was sent in the last minute.
type candidate struct {
	id, project, bundle string
	to                  Destination
	turn, busy, recent  int
	oldest              int64 // the oldest send in the last minute
}

// take locks, bundles and leases what it can of cands, within c's limits
// per project and in all, and returns it as Claim does.
func take(ctx context.Context, tx *store.Tx, now time.Time, c Claim, cands []candidate) ([]*Item, error) {
	busy, err := inFlightByProject(ctx, tx, now)
	if err != nil {
		return nil, err
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
		return nil, nil
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
		return nil, err
	}
	groups, err := bundle(ctx, tx, now, c.Bundle, ids)
	if err != nil || len(groups) == 0 {
		return nil, err
	}
	args = []any{store.Millis(now.Add(c.Lease))}
	for _, g := range groups {
		for _, id := range g {
			args = append(args, id)
		}
	}
	in := store.Placeholders(2, len(args)-1)
	if _, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, leased_until = $1 WHERE id IN (`+in+`)`, args...); err != nil {
		return nil, fmt.Errorf("lease outbox messages: %w", err)
	}
	items, err := store.QueryAll(ctx, tx, "read claimed outbox messages", `SELECT `+itemColumns+` FROM outbox
		WHERE id IN (`+store.Placeholders(1, len(args)-1)+`) ORDER BY next_attempt_at, id`, scanItem, args[1:]...)
	if err != nil {
		return nil, err
	}
	var out []*Item
	byID := make(map[string]*Item, len(items))
	for _, it := range items {
		byID[it.ID] = it
	}
	for _, it := range items {
		g := groups[it.ID]
		if g == nil {
			continue // a member of a bundle that another message leads
		}
		for _, id := range g[1:] {
			it.Bundled = append(it.Bundled, byID[id])
		}
		out = append(out, it)
	}
	return out, nil
}

// putOff puts off the due messages to each destination of full, never
// attempted in a bundle, not leased and not within, to the time full
// gives: they are beyond the destination's limit per minute. Messages
// another replica is claiming are left to it.
func putOff(ctx context.Context, tx *store.Tx, now time.Time, full map[Destination]time.Time, within map[string]bool) error {
	for to, until := range full {
		ids, err := store.QueryAll(ctx, tx, "find messages beyond the rate", `SELECT id FROM outbox
			WHERE destination_kind = $1 AND destination_id = $2 AND status = $3 AND next_attempt_at <= $4 AND leased_until <= $4
			AND bundle = '' ORDER BY id`+tx.Dialect().SkipLocked(), store.ScanString, to.Kind, to.ID, Pending, store.Millis(now))
		if err != nil {
			return err
		}
		ids = slices.DeleteFunc(ids, func(id string) bool { return within[id] })
		if len(ids) == 0 {
			continue
		}
		args := []any{store.Millis(until), Pending, store.Millis(now)}
		for _, id := range ids {
			args = append(args, id)
		}
		if _, err := tx.Exec(ctx, `UPDATE outbox SET next_attempt_at = $1 WHERE status = $2 AND leased_until <= $3
			AND id IN (`+store.Placeholders(4, len(ids))+`)`, args...); err != nil {
			return fmt.Errorf("put off messages to %s: %w", to, err)
		}
	}
	return nil
}

// attemptOf is what counts as one attempt in flight: a bundle, or a
// message sent alone.
const attemptOf = `CASE WHEN bundle = '' THEN id ELSE bundle END`

// claimable is a locked message that Claim may take, with what decides
// whether it goes alone or in a bundle.
type claimable struct {
	id, project, kind, dest, event, bundle string
	attempts                               int
}

// bundle groups the locked messages ids into what goes out together: each
// alone, with the other members of the bundle it was sent in before, or
// in a new bundle with the messages b lets it take. It returns the groups
// by their first message, each group's ids oldest first; a message of a
// bundle whose other members another replica holds is left for later.
func bundle(ctx context.Context, tx *store.Tx, now time.Time, b Bundling, ids []string) (map[string][]string, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	locked, err := store.QueryAll(ctx, tx, "read locked outbox messages", `SELECT id, project_id, destination_kind, destination_id, event, bundle, attempts
		FROM outbox WHERE id IN (`+store.Placeholders(1, len(ids))+`) ORDER BY next_attempt_at, created_at, id`,
		func(row store.Row) (claimable, error) {
			var m claimable
			return m, row.Scan(&m.id, &m.project, &m.kind, &m.dest, &m.event, &m.bundle, &m.attempts)
		}, args...)
	if err != nil {
		return nil, err
	}
	groups := map[string][]string{}
	taken := map[string]bool{}
	for _, m := range locked {
		if taken[m.id] {
			continue
		}
		group := []string{m.id}
		switch {
		case m.bundle != "":
			// A bundle is retried whole or not at all: sending some of its
			// members under its key would let a receiver drop them as the
			// duplicate of the first attempt.
			var total int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE bundle = $1 AND status = $2`, m.bundle, Pending).Scan(&total); err != nil {
				return nil, fmt.Errorf("count bundle %s: %w", m.bundle, err)
			}
			group, err = store.QueryAll(ctx, tx, "lock bundle", `SELECT id FROM outbox WHERE bundle = $1 AND status = $2
				AND next_attempt_at <= $3 AND leased_until <= $3 ORDER BY created_at, id`+tx.Dialect().SkipLocked(),
				store.ScanString, m.bundle, Pending, store.Millis(now))
			if err != nil {
				return nil, err
			}
			if len(group) != total || slices.ContainsFunc(group, func(id string) bool { return taken[id] }) {
				continue
			}
		case m.attempts == 0 && b.bundles(m.kind, m.event):
			found, err := store.QueryAll(ctx, tx, "lock messages to bundle", `SELECT id FROM outbox
				WHERE project_id = $1 AND destination_kind = $2 AND destination_id = $3 AND event = $4 AND status = $5
				AND attempts = 0 AND bundle = '' AND next_attempt_at <= $6 AND leased_until <= $7
				ORDER BY CASE WHEN id = $8 THEN 0 ELSE 1 END, next_attempt_at, created_at, id LIMIT $9`+tx.Dialect().SkipLocked(),
				store.ScanString, m.project, m.kind, m.dest, m.event, Pending, store.Millis(now.Add(b.Window)), store.Millis(now), m.id, b.Max)
			if err != nil {
				return nil, err
			}
			found = slices.DeleteFunc(found, func(id string) bool { return taken[id] })
			if len(found) < 2 || found[0] != m.id {
				break
			}
			name := BundleName(found)
			in := make([]any, 0, len(found)+1)
			in = append(in, name)
			for _, id := range found {
				in = append(in, id)
			}
			if _, err := tx.Exec(ctx, `UPDATE outbox SET bundle = $1 WHERE id IN (`+store.Placeholders(2, len(found))+`)`, in...); err != nil {
				return nil, fmt.Errorf("make bundle %s: %w", name, err)
			}
			// Oldest first, the order every retry reads the bundle in.
			group, err = store.QueryAll(ctx, tx, "read bundle", `SELECT id FROM outbox WHERE bundle = $1 ORDER BY created_at, id`,
				store.ScanString, name)
			if err != nil {
				return nil, err
			}
		}
		for _, id := range group {
			taken[id] = true
		}
		groups[group[0]] = group
	}
	return groups, nil
}

// inFlightByProject counts each project's messages whose lease holds.
func inFlightByProject(ctx context.Context, tx *store.Tx, now time.Time) (map[string]int, error) {
	type count struct {
		project string
		n       int
	}
	counts, err := store.QueryAll(ctx, tx, "count outbox attempts in flight",
		`SELECT project_id, COUNT(DISTINCT `+attemptOf+`) FROM outbox WHERE status = $1 AND leased_until > $2 GROUP BY project_id`,
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
// message, and at every message in its Bundled: sent, to be retried at
// retryAt, given up (retryAt zero), or cancelled (deliveryErr is
// ErrCancelled), and ends the lease, telling the outbox's recorders in the
// same transaction. The attempt count fences the write: if the lease ran
// out and another sender took the message meanwhile, nothing is written
// and the error (ECONFLICT) says so. A bundle's result is written for all
// its messages or for none.
func (o *Outbox) Finish(ctx context.Context, it *Item, now time.Time, deliveryErr error, retryAt time.Time) error {
	r := Result{Status: Pending}
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
	members := append([]*Item{it}, it.Bundled...)
	if len(members) > 1 {
		r.Bundled = len(members)
	}
	return o.db.WithTx(ctx, func(tx *store.Tx) error {
		for _, m := range members {
			r.Attempts = m.Attempts
			res, err := tx.Exec(ctx, `UPDATE outbox SET status = $3, sent_at = $4, last_error = $5,
				next_attempt_at = CASE WHEN $7 THEN $6 ELSE next_attempt_at END, leased_until = 0 WHERE id = $1 AND attempts = $2 AND status = '`+Pending+`'`,
				m.ID, m.Attempts, r.Status, store.Millis(r.SentAt), r.LastError, store.Millis(next), !next.IsZero())
			if err != nil {
				return fmt.Errorf("finish outbox message %s: %w", m.ID, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("finish outbox message %s: %w", m.ID, err)
			} else if n == 0 {
				return nightjar.Errorf(nightjar.ECONFLICT, "notification %s: attempt %d was not recorded: its lease ran out and another sender took it, or it was deleted", m.ID, m.Attempts)
			}
			for _, rec := range o.recorders {
				if err := rec.RecordDelivery(ctx, tx, m.ID, r); err != nil {
					return fmt.Errorf("record result of outbox message %s: %w", m.ID, err)
				}
			}
		}
		return nil
	})
}

// deliveryError is the stored form of a failed delivery's error. It may
// quote what a receiving server said, in any bytes, so it is made
// storable and cut to 1,000 characters, never mid-character.
func deliveryError(err error) string { return nightjar.CleanText(err.Error(), 1000) }
