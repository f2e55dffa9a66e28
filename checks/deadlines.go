package checks

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nightjar-dev/nightjar/heartbeat"
	"github.com/nightjar-dev/nightjar/store"
)

var qDueChecks = store.Hot(func(d store.Dialect) string {
	return `SELECT ` + columns + ` FROM checks WHERE next_deadline > 0 AND next_deadline <= $1
		ORDER BY next_deadline LIMIT $2` + d.SkipLocked()
})

// ProcessDue runs heartbeat.Tick on up to limit checks whose deadline is
// at or before now, reading only the partial index of deadlines. Each
// check's new state, flip, alert and notifications commit together. On
// PostgreSQL, rows another replica is processing are skipped, so two
// replicas never act on one deadline. It returns how many checks it
// processed.
func (s *Service) ProcessDue(ctx context.Context, now time.Time, limit int) (int, error) {
	n := 0
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		n = 0
		due, err := store.QueryAll(ctx, tx, "scan due checks", qDueChecks.SQL(tx.Dialect()), scanCheck, store.Millis(now), limit)
		if err != nil {
			return err
		}
		for _, c := range due {
			out := heartbeat.Tick(c, now)
			c.UpdatedAt = now
			if err := saveState(ctx, tx, c); err != nil {
				return err
			}
			if err := s.recordOutcome(ctx, tx, c, out, now); err != nil {
				return err
			}
		}
		n = len(due)
		return nil
	})
	return n, err
}

// TouchAlive records that a Nightjar process is running now. Any replica
// may write it; the newest value wins.
func (s *Service) TouchAlive(ctx context.Context, now time.Time) error {
	v := strconv.FormatInt(store.Millis(now), 10)
	_, err := s.db.Exec(ctx, `INSERT INTO system_state (key, value, updated_at) VALUES ('alive_at', $1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
		WHERE system_state.updated_at < excluded.updated_at`, v, store.Millis(now))
	if err != nil {
		return fmt.Errorf("record alive time: %w", err)
	}
	return nil
}

// AliveAt returns when a Nightjar process last said it was running; zero
// on a new database.
func (s *Service) AliveAt(ctx context.Context) (time.Time, error) {
	var v int64
	if err := s.db.QueryRow(ctx, `SELECT COALESCE(MAX(updated_at), 0) FROM system_state WHERE key = 'alive_at'`).Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("read alive time: %w", err)
	}
	return store.Time(v), nil
}

// Gap is a time when no Nightjar process was running.
type Gap struct {
	StartedAt      time.Time `json:"started_at"`
	EndedAt        time.Time `json:"ended_at"`
	ChecksAdjusted int64     `json:"checks_adjusted"`
}

// RecoverFromGap gives every check whose deadline fell between aliveAt
// (when Nightjar was last known running) and now a fresh grace period:
// pings could not arrive while nobody listened. When the gap is longer
// than minGap it is recorded. It returns the gap and how many checks it
// adjusted.
func (s *Service) RecoverFromGap(ctx context.Context, aliveAt, now time.Time, minGap time.Duration) (Gap, error) {
	g := Gap{StartedAt: aliveAt, EndedAt: now}
	if aliveAt.IsZero() || !aliveAt.Before(now) {
		return g, nil
	}
	for {
		n := 0
		err := s.db.WithTx(ctx, func(tx *store.Tx) error {
			n = 0
			due, err := store.QueryAll(ctx, tx, "scan checks due in gap", `SELECT `+columns+` FROM checks WHERE next_deadline > $1 AND next_deadline < $2
				ORDER BY next_deadline LIMIT 500`+tx.Dialect().SkipLocked(), scanCheck, store.Millis(aliveAt), store.Millis(now))
			if err != nil {
				return err
			}
			for _, c := range due {
				if !heartbeat.Recover(c, now) {
					c.State.NextDeadline = now // let the deadline module handle it
				}
				if err := saveState(ctx, tx, c); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return g, err
		}
		g.ChecksAdjusted += int64(n)
		if n < 500 {
			break
		}
	}
	if now.Sub(aliveAt) >= minGap {
		if _, err := s.db.Exec(ctx, `INSERT INTO downtime_gaps (started_at, ended_at, checks_adjusted) VALUES ($1, $2, $3)`,
			store.Millis(aliveAt), store.Millis(now), g.ChecksAdjusted); err != nil {
			return g, fmt.Errorf("record downtime gap: %w", err)
		}
	}
	return g, nil
}

// Gaps lists recorded downtime gaps, newest first.
func (s *Service) Gaps(ctx context.Context, limit int) ([]Gap, error) {
	return store.QueryAll(ctx, s.db, "list gaps", `SELECT started_at, ended_at, checks_adjusted FROM downtime_gaps ORDER BY started_at DESC LIMIT $1`,
		func(row store.Row) (Gap, error) {
			var g Gap
			var from, to int64
			if err := row.Scan(&from, &to, &g.ChecksAdjusted); err != nil {
				return g, fmt.Errorf("scan gap: %w", err)
			}
			g.StartedAt, g.EndedAt = store.Time(from), store.Time(to)
			return g, nil
		}, limit)
}
