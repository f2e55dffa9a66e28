// Package audit keeps each project's audit log: who changed what, through
// the console or the API, and when. Admins read it on the settings page.
// It sits beside the flow: the front doors record a change once it has
// been made.
package audit

import (
	"context"
	"fmt"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// Log is the audit log of every project in a database.
type Log struct {
	db *store.DB
}

// New returns the audit log of db.
func New(db *store.DB) *Log { return &Log{db: db} }

// maxText is how many characters of each part of an entry are kept.
const maxText = 1000

// Record records a change. What an entry says comes partly from requests
// (paths, names), so it is made storable rather than refused: a change is
// never left unrecorded over a stray byte.
func (l *Log) Record(ctx context.Context, e nightjar.AuditEntry) error {
	_, err := l.db.Exec(ctx, `INSERT INTO audit_log (project_id, actor, action, target, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.ProjectID, nightjar.CleanText(e.Actor, maxText), nightjar.CleanText(e.Action, maxText), nightjar.CleanText(e.Target, maxText),
		nightjar.CleanText(e.Detail, maxText), store.Millis(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}

// List lists a project's latest entries, newest first, at most limit.
func (l *Log) List(ctx context.Context, projectID string, limit int) ([]*nightjar.AuditEntry, error) {
	return l.Page(ctx, projectID, limit, 0)
}

// Page is List after skipping the newest offset entries, for paging
// through a long log.
func (l *Log) Page(ctx context.Context, projectID string, limit, offset int) ([]*nightjar.AuditEntry, error) {
	return store.QueryAll(ctx, l.db, "list audit log", `SELECT project_id, actor, action, target, detail, created_at FROM audit_log
		WHERE project_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`, scanEntry, projectID, limit, max(offset, 0))
}

func scanEntry(row store.Row) (*nightjar.AuditEntry, error) {
	var e nightjar.AuditEntry
	var at int64
	if err := row.Scan(&e.ProjectID, &e.Actor, &e.Action, &e.Target, &e.Detail, &at); err != nil {
		return nil, fmt.Errorf("scan audit entry: %w", err)
	}
	e.CreatedAt = store.Time(at)
	return &e, nil
}
