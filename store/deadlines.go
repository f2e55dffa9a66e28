package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nightjar-dev/nightjar/heartbeat"
)

func jsonUnmarshal(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}

// ProcessDueChecks runs heartbeat.Tick on up to limit checks whose deadline
// is at or before now, reading only the partial index of deadlines. Each
// check's new state, flip, alert and notifications commit together. On
// PostgreSQL, rows another replica is processing are skipped, so two
// replicas never act on one deadline. It returns how many checks it
// processed.
func (db *DB) ProcessDueChecks(ctx context.Context, now time.Time, limit int) (int, error) {
	n := 0
	err := db.WithTx(ctx, func(tx *Tx) error {
		n = 0
		due, err := queryAll(ctx, tx, "scan due checks", qDueChecks+db.dialect.skipLocked, scanCheck, ms(now), limit)
		if err != nil {
			return err
		}
		for _, c := range due {
			out := heartbeat.Tick(c, now)
			c.UpdatedAt = now
			if err := tx.saveState(ctx, c); err != nil {
				return err
			}
			if err := tx.recordOutcome(ctx, c, out, now); err != nil {
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
func (db *DB) TouchAlive(ctx context.Context, now time.Time) error {
	v := strconv.FormatInt(ms(now), 10)
	_, err := db.w.ExecContext(ctx, `INSERT INTO system_state (key, value, updated_at) VALUES ('alive_at', $1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
		WHERE system_state.updated_at < excluded.updated_at`, v, ms(now))
	if err != nil {
		return fmt.Errorf("record alive time: %w", err)
	}
	return nil
}

// AliveAt returns when a Nightjar process last said it was running; zero
// on a new database.
func (db *DB) AliveAt(ctx context.Context) (time.Time, error) {
	var v int64
	err := db.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(updated_at), 0) FROM system_state WHERE key = 'alive_at'`).Scan(&v)
	return tm(v), err
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
func (db *DB) RecoverFromGap(ctx context.Context, aliveAt, now time.Time, minGap time.Duration) (Gap, error) {
	g := Gap{StartedAt: aliveAt, EndedAt: now}
	if aliveAt.IsZero() || !aliveAt.Before(now) {
		return g, nil
	}
	for {
		n := 0
		err := db.WithTx(ctx, func(tx *Tx) error {
			n = 0
			due, err := queryAll(ctx, tx, "scan checks due in gap", `SELECT `+checkColumns+` FROM checks WHERE next_deadline > $1 AND next_deadline < $2
				ORDER BY next_deadline LIMIT 500`+db.dialect.skipLocked, scanCheck, ms(aliveAt), ms(now))
			if err != nil {
				return err
			}
			for _, c := range due {
				if !heartbeat.Recover(c, now) {
					c.State.NextDeadline = now // let the deadline module handle it
				}
				if err := tx.saveState(ctx, c); err != nil {
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
		if _, err := db.w.ExecContext(ctx, `INSERT INTO downtime_gaps (started_at, ended_at, checks_adjusted) VALUES ($1, $2, $3)`,
			ms(aliveAt), ms(now), g.ChecksAdjusted); err != nil {
			return g, fmt.Errorf("record downtime gap: %w", err)
		}
	}
	return g, nil
}

// Gaps lists recorded downtime gaps, newest first.
func (db *DB) Gaps(ctx context.Context, limit int) ([]Gap, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT started_at, ended_at, checks_adjusted FROM downtime_gaps ORDER BY started_at DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list gaps: %w", err)
	}
	defer rows.Close()
	var out []Gap
	for rows.Next() {
		var g Gap
		var a, b int64
		if err := rows.Scan(&a, &b, &g.ChecksAdjusted); err != nil {
			return nil, err
		}
		g.StartedAt, g.EndedAt = tm(a), tm(b)
		out = append(out, g)
	}
	return out, rows.Err()
}
