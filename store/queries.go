package store

// The statements of the hot paths (ping recording, deadline scans, alerts).
// On SQLite they are prepared once when the database opens, so recording
// a ping does not parse SQL again; see hotQueries.
var (
	qCheckByID        = `SELECT ` + checkColumns + ` FROM checks WHERE id = $1`
	qProjectByPingKey = `SELECT id FROM projects WHERE ping_key = $1`
	qChecksBySlug     = `SELECT ` + checkColumns + ` FROM checks WHERE project_id = $1 AND slug = $2 ORDER BY created_at LIMIT 2`
	qRunStart         = `SELECT created_at FROM pings WHERE check_id = $1 AND rid = $2 AND kind = 'start' ORDER BY n DESC LIMIT 1`
	qPrunePings       = `DELETE FROM pings WHERE check_id = $1 AND n <= $2`
	qInsertFlip       = `INSERT INTO flips (check_id, created_at, from_status, to_status, reason) VALUES ($1, $2, $3, $4, $5)`
	qAlertStatus      = `SELECT status FROM alerts WHERE project_id = $1 AND dedup_key = $2`
	qInsertAlert      = `INSERT INTO alerts (project_id, dedup_key, source, source_id, service, severity, summary, details, status, starts_at, ends_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`
	qUpdateAlert = `UPDATE alerts SET source = $3, source_id = $4, service = $5, severity = $6, summary = $7,
			details = $8, status = $9, starts_at = $10, ends_at = $11, updated_at = $12 WHERE project_id = $1 AND dedup_key = $2`
	qChannelIDs   = `SELECT id FROM channels WHERE project_id = $1 ORDER BY created_at, id`
	qInsertOutbox = `INSERT INTO outbox (id, project_id, destination_kind, destination_id, idempotency_key, event, payload,
			status, attempts, next_attempt_at, leased_until, last_error, created_at, sent_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, 0, '', $9, 0)`
	qDueChecks = `SELECT ` + checkColumns + ` FROM checks WHERE next_deadline > 0 AND next_deadline <= $1
			ORDER BY next_deadline LIMIT $2`
)

// hotQueries lists the statements to prepare for a dialect, exactly as the
// call sites build them.
func hotQueries(d Dialect) []string {
	qs := []string{
		qCheckByID + d.forUpdate, qProjectByPingKey, qChecksBySlug + d.forUpdate, qRunStart, qInsertPing,
		qPrunePings, updateStateSQL, qInsertFlip, qAlertStatus + d.forUpdate, qInsertAlert, qUpdateAlert,
		qChannelIDs, qInsertOutbox, qDueChecks + d.skipLocked,
	}
	if d.name == "sqlite" {
		qs = append(qs, qCacheMark)
	}
	return qs
}
