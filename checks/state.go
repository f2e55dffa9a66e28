package checks

import (
	"context"
	"fmt"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// qSaveState saves the state half of a check: what pings, deadlines and
// pauses change.
var qSaveState = store.Hot(func(store.Dialect) string {
	return `UPDATE checks SET status = $2, n_pings = $3, last_ping = $4, last_start = $5,
		last_start_rid = $6, last_duration_ms = $7, expected_at = $8, next_deadline = $9,
		consecutive_failures = $10, last_alert_at = $11, last_metrics = $12, updated_at = $13,
		status_since = $14, status_reason = $15, settled_status = $16 WHERE id = $1`
})

// stateArgs are the arguments of qSaveState, and a row of saveStatesSQL.
func stateArgs(c *nightjar.Check) []any {
	s := &c.State
	return []any{c.ID, s.Status, s.NPings, store.Millis(s.LastPing), store.Millis(s.LastStart), s.LastStartRID,
		store.DurationMillis(s.LastDuration), store.Millis(s.ExpectedAt), store.Millis(s.NextDeadline), s.ConsecutiveFailures,
		store.Millis(s.LastAlertAt), metricsText(s.LastMetrics), store.Millis(c.UpdatedAt),
		store.Millis(s.Since), s.Reason, s.Settled}
}

// stateCasts are the types of stateArgs, in order.
var stateCasts = []string{"TEXT", "TEXT", "BIGINT", "BIGINT", "BIGINT", "TEXT", "BIGINT", "BIGINT", "BIGINT", "INTEGER", "BIGINT", "TEXT", "BIGINT", "BIGINT", "TEXT", "TEXT"}

func saveState(ctx context.Context, tx *store.Tx, c *nightjar.Check) error {
	if _, err := tx.ExecStmt(ctx, qSaveState, stateArgs(c)...); err != nil {
		return fmt.Errorf("save state of check %s: %w", c.ID, err)
	}
	return nil
}

// saveStates saves the states of many checks: on a dialect that writes
// batches in multi-row statements, with one UPDATE … FROM (VALUES …) per
// chunk, a form SQLite and PostgreSQL both take; else one prepared
// statement per check.
func saveStates(ctx context.Context, tx *store.Tx, checks []*nightjar.Check) error {
	if !tx.Dialect().MultiRow() {
		for _, c := range checks {
			if err := saveState(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	}
	for len(checks) > 0 {
		n := min(len(checks), maxBatchRows)
		q, args := saveStatesSQL(checks[:n], 1)
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("save check states: %w", err)
		}
		checks = checks[n:]
	}
	return nil
}

// maxBatchRows is how many rows one multi-row statement writes at most,
// well under PostgreSQL's limit of 65,535 parameters.
const maxBatchRows = 200

// saveStatesSQL renders the UPDATE … FROM (VALUES …) that saves the
// states of checks, numbering its parameters from first.
func saveStatesSQL(checks []*nightjar.Check, first int) (string, []any) {
	args := make([]any, 0, len(checks)*len(stateCasts))
	for _, c := range checks {
		args = append(args, stateArgs(c)...)
	}
	return `UPDATE checks SET status = v.column2, n_pings = v.column3, last_ping = v.column4, last_start = v.column5,
		last_start_rid = v.column6, last_duration_ms = v.column7, expected_at = v.column8, next_deadline = v.column9,
		consecutive_failures = v.column10, last_alert_at = v.column11, last_metrics = v.column12, updated_at = v.column13,
		status_since = v.column14, status_reason = v.column15, settled_status = v.column16
		FROM (VALUES ` + store.Tuples(first, len(checks), len(stateCasts), stateCasts) + `) AS v WHERE checks.id = v.column1`, args
}
