package store

import (
	"context"
	"fmt"
	"time"
)

// Retention says how long finished records are kept.
type Retention struct {
	// Notifications that were sent or given up on.
	Notifications time.Duration
}

// Prune deletes what retention no longer keeps — delivered notifications,
// expired sessions and invitations — and reports how many rows went.
func (db *DB) Prune(ctx context.Context, now time.Time, r Retention) (int64, error) {
	var total int64
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM outbox WHERE status <> $1 AND created_at < $2`, []any{OutboxPending, ms(now.Add(-r.Notifications))}},
		{`DELETE FROM sessions WHERE expires_at <= $1`, []any{ms(now)}},
		{`DELETE FROM invitations WHERE expires_at <= $1 OR accepted_at > 0`, []any{ms(now)}},
	} {
		res, err := db.w.ExecContext(ctx, q.sql, q.args...)
		if err != nil {
			return total, fmt.Errorf("prune: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
