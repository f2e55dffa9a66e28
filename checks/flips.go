package checks

import (
	"context"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// Flips returns a check's status changes since a time, newest first.
func (s *Service) Flips(ctx context.Context, checkID string, since time.Time, limit int) ([]*nightjar.Flip, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return store.QueryAll(ctx, s.db, "list flips", `SELECT check_id, created_at, from_status, to_status, reason FROM flips
		WHERE check_id = $1 AND created_at >= $2 ORDER BY created_at DESC, id DESC LIMIT $3`,
		func(row store.Row) (*nightjar.Flip, error) {
			var f nightjar.Flip
			var at int64
			if err := row.Scan(&f.CheckID, &at, &f.From, &f.To, &f.Reason); err != nil {
				return nil, fmt.Errorf("scan flip: %w", err)
			}
			f.CreatedAt = store.Time(at)
			return &f, nil
		}, checkID, store.Millis(since), limit)
}

// ProjectFlip is a flip with the name of its check, for project-wide lists.
type ProjectFlip struct {
	nightjar.Flip
	CheckName string
}

// RecentFlips returns a project's newest status changes across checks.
func (s *Service) RecentFlips(ctx context.Context, projectID string, limit int) ([]*ProjectFlip, error) {
	return store.QueryAll(ctx, s.db, "list recent flips", `SELECT f.check_id, f.created_at, f.from_status, f.to_status, f.reason, c.name
		FROM flips f JOIN checks c ON c.id = f.check_id WHERE c.project_id = $1 ORDER BY f.created_at DESC, f.id DESC LIMIT $2`,
		func(row store.Row) (*ProjectFlip, error) {
			var f ProjectFlip
			var at int64
			if err := row.Scan(&f.CheckID, &at, &f.From, &f.To, &f.Reason, &f.CheckName); err != nil {
				return nil, fmt.Errorf("scan flip: %w", err)
			}
			f.CreatedAt = store.Time(at)
			return &f, nil
		}, projectID, limit)
}

// CountByStatus returns how many checks are in each status, across all
// projects; the metrics endpoint reports it.
func (s *Service) CountByStatus(ctx context.Context) (map[string]int64, error) {
	return s.countByStatus(ctx, `SELECT status, COUNT(*) FROM checks GROUP BY status`)
}

// CountInProject returns how many of a project's checks are in each
// status.
func (s *Service) CountInProject(ctx context.Context, projectID string) (map[string]int64, error) {
	return s.countByStatus(ctx, `SELECT status, COUNT(*) FROM checks WHERE project_id = $1 GROUP BY status`, projectID)
}

func (s *Service) countByStatus(ctx context.Context, query string, args ...any) (map[string]int64, error) {
	type count struct {
		status string
		n      int64
	}
	rows, err := store.QueryAll(ctx, s.db, "count checks", query, func(row store.Row) (count, error) {
		var c count
		err := row.Scan(&c.status, &c.n)
		return c, err
	}, args...)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.status] = r.n
	}
	return out, nil
}
