package incidents

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// Changes made to services (deploys, configuration changes) that deploy
// scripts and CI report, so that an incident's notifications and page
// can say what changed just before it broke.

// KeepChanges is how long a recorded change is kept.
const KeepChanges = 30 * 24 * time.Hour

// RecentChangesWindow and MaxRecentChanges bound the changes an
// incident's notifications list: the service's last few, made in the day
// before the incident opened.
const (
	RecentChangesWindow = 24 * time.Hour
	MaxRecentChanges    = 3
)

// MaxListedChanges is the most changes one list returns.
const MaxListedChanges = 100

const changeColumns = `id, project_id, service, summary, source, happened_at, links, details, created_at`

func scanChange(row store.Row) (*nightjar.Change, error) {
	var c nightjar.Change
	var at, created int64
	var links, details string
	if err := row.Scan(&c.ID, &c.ProjectID, &c.Service, &c.Summary, &c.Source, &at, &links, &details, &created); err != nil {
		return nil, store.ScanError(err, "change")
	}
	c.At, c.CreatedAt = store.Time(at), store.Time(created)
	if err := json.Unmarshal([]byte(links), &c.Links); err != nil {
		return nil, fmt.Errorf("decode change links: %w", err)
	}
	if err := json.Unmarshal([]byte(details), &c.Details); err != nil {
		return nil, fmt.Errorf("decode change details: %w", err)
	}
	return &c, nil
}

// RecordChange stores a change to c.ProjectID's service c.Service, and
// returns once it is committed. It sets the change's id and when it was
// recorded.
func (s *Store) RecordChange(ctx context.Context, c *nightjar.Change, now time.Time) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c.ID = store.NewID()
	c.At = c.At.UTC().Truncate(time.Millisecond)
	c.CreatedAt = now.UTC().Truncate(time.Millisecond)
	links, details := "[]", "{}"
	if c.Links != nil {
		links = store.JSON(c.Links)
	}
	if c.Details != nil {
		details = store.JSON(c.Details)
	}
	if _, err := s.conn().Exec(ctx, `INSERT INTO service_changes (`+changeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.ProjectID, c.Service, c.Summary, c.Source, store.Millis(c.At), links, details, store.Millis(c.CreatedAt)); err != nil {
		return fmt.Errorf("insert change: %w", err)
	}
	return nil
}

// Changes returns a project's service's latest changes, newest first, at
// most limit of them (MaxListedChanges when limit is not in 1 to it).
func (s *Store) Changes(ctx context.Context, projectID, service string, limit int) ([]*nightjar.Change, error) {
	if limit <= 0 || limit > MaxListedChanges {
		limit = MaxListedChanges
	}
	return store.QueryAll(ctx, s.read(), "list changes", `SELECT `+changeColumns+` FROM service_changes
		WHERE project_id = $1 AND service = $2 ORDER BY happened_at DESC, created_at DESC, id LIMIT $3`, scanChange, projectID, service, limit)
}

// RecentChanges returns the changes a notification about an incident of
// the service, opened at opened, lists: the service's last
// MaxRecentChanges made in the RecentChangesWindow before, newest first.
func (s *Store) RecentChanges(ctx context.Context, projectID, service string, opened time.Time) ([]*nightjar.Change, error) {
	if service == "" {
		return nil, nil
	}
	return store.QueryAll(ctx, s.read(), "list recent changes", `SELECT `+changeColumns+` FROM service_changes
		WHERE project_id = $1 AND service = $2 AND happened_at > $3 AND happened_at <= $4
		ORDER BY happened_at DESC, created_at DESC, id LIMIT $5`, scanChange,
		projectID, service, store.Millis(opened.Add(-RecentChangesWindow)), store.Millis(opened), MaxRecentChanges)
}

// MaxChangesPerService is how many changes a service keeps at most, so a
// sender that reports every small thing cannot fill the database within
// KeepChanges.
const MaxChangesPerService = 1000

// pruneChanges forgets changes recorded more than KeepChanges ago, and a
// service's oldest beyond its latest perService.
func pruneChanges(ctx context.Context, q store.Conn, now time.Time, perService int) (int64, error) {
	res, err := q.Exec(ctx, `DELETE FROM service_changes WHERE created_at < $1`, store.Millis(now.Add(-KeepChanges)))
	if err != nil {
		return 0, fmt.Errorf("prune changes: %w", err)
	}
	old, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	res, err = q.Exec(ctx, `DELETE FROM service_changes WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER (
		PARTITION BY project_id, service ORDER BY happened_at DESC, created_at DESC, id) AS n FROM service_changes) ranked WHERE n > $1)`, perService)
	if err != nil {
		return old, fmt.Errorf("prune changes beyond %d a service: %w", perService, err)
	}
	many, err := res.RowsAffected()
	return old + many, err
}
