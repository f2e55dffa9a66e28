// Package checks is the heartbeat-check area: it owns the checks, pings
// and flips tables, and the record of when Nightjar was running (alive
// time and downtime gaps). Its Service is the one way checks are created,
// changed, paused, listed and deleted, pings recorded (in group commits,
// see Recorder) and deadlines processed.
//
// It sits between the signals and the alert stage in Nightjar's flow:
// what a ping or a deadline means is decided by heartbeat, the pure
// evaluation stage; this package loads the check, hands heartbeat the
// facts it needs, and writes the outcome — the check's new state, its
// ping, its flip — while the alert changes go to the alerting stage in
// the same transaction.
package checks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/heartbeat"
	"github.com/nightjar-dev/nightjar/store"
)

// Service is the checks area.
type Service struct {
	db     *store.DB
	alerts *alerting.Stage
	log    *slog.Logger
	// cache holds recently pinged checks when the database has one writer
	// (SQLite); nil otherwise.
	cache *cache
}

// New returns the checks area of db, handing alert changes to alerts. log
// may be nil.
func New(db *store.DB, alerts *alerting.Stage, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, alerts: alerts, log: log}
	if db.Dialect().OneWriter() {
		s.cache = newCache(maxCachedChecks)
	}
	return s
}

const columns = `id, project_id, name, slug, tags, description, service, kind, timeout_ms, grace_ms,
	schedule, tz, early_tolerance_ms, max_runtime_ms, min_runtime_ms, failure_threshold, realert_ms,
	methods, manual_resume, metric_rules, status, n_pings, last_ping, last_start, last_start_rid,
	last_duration_ms, expected_at, next_deadline, consecutive_failures, last_alert_at, last_metrics,
	created_at, updated_at, channels, filter_body, start_kw, success_kw, failure_kw,
	filter_http_body, filter_default_fail, badge_key`

func scanCheck(row store.Row) (*nightjar.Check, error) {
	var c nightjar.Check
	var tags, rules, metrics, channels string
	var timeout, grace, early, maxRun, minRun, realert int64
	var lastPing, lastStart, lastDur, expected, deadline, lastAlert, created, updated int64
	err := row.Scan(&c.ID, &c.ProjectID, &c.Name, &c.Slug, &tags, &c.Desc, &c.Service, &c.Kind,
		&timeout, &grace, &c.Schedule, &c.TZ, &early, &maxRun, &minRun, &c.FailureThreshold, &realert,
		&c.Methods, &c.ManualResume, &rules, &c.State.Status, &c.State.NPings, &lastPing, &lastStart,
		&c.State.LastStartRID, &lastDur, &expected, &deadline, &c.State.ConsecutiveFailures, &lastAlert,
		&metrics, &created, &updated, &channels, &c.FilterBody, &c.StartKeywords, &c.SuccessKeywords, &c.FailureKeywords,
		&c.FilterHTTPBody, &c.FilterDefaultFail, &c.BadgeKey)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "check not found")
	} else if err != nil {
		return nil, fmt.Errorf("scan check: %w", err)
	}
	c.Timeout, c.Grace, c.EarlyTolerance = store.Duration(timeout), store.Duration(grace), store.Duration(early)
	c.MaxRuntime, c.MinRuntime, c.RealertInterval = store.Duration(maxRun), store.Duration(minRun), store.Duration(realert)
	c.State.LastPing, c.State.LastStart, c.State.LastDuration = store.Time(lastPing), store.Time(lastStart), store.Duration(lastDur)
	c.State.ExpectedAt, c.State.NextDeadline, c.State.LastAlertAt = store.Time(expected), store.Time(deadline), store.Time(lastAlert)
	c.CreatedAt, c.UpdatedAt = store.Time(created), store.Time(updated)
	// Most checks have no tags or rules; skip the decoder for them, as
	// every ping reads its check.
	c.Tags, c.MetricRules = []string{}, []string{}
	if tags != "[]" {
		if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil {
			return nil, fmt.Errorf("decode tags of check %s: %w", c.ID, err)
		}
	}
	if rules != "[]" {
		if err := json.Unmarshal([]byte(rules), &c.MetricRules); err != nil {
			return nil, fmt.Errorf("decode metric rules of check %s: %w", c.ID, err)
		}
	}
	if channels != "*" {
		c.Channels = []string{}
		if err := json.Unmarshal([]byte(channels), &c.Channels); err != nil {
			return nil, fmt.Errorf("decode channels of check %s: %w", c.ID, err)
		}
	}
	if metrics != "" && metrics != "null" {
		if err := json.Unmarshal([]byte(metrics), &c.State.LastMetrics); err != nil {
			return nil, fmt.Errorf("decode metrics of check %s: %w", c.ID, err)
		}
	}
	return &c, nil
}

// checkArgs are a check's values in the order of columns.
func checkArgs(c *nightjar.Check) []any {
	tags := c.Tags
	if tags == nil {
		tags = []string{}
	}
	rules := c.MetricRules
	if rules == nil {
		rules = []string{}
	}
	s := &c.State
	return []any{c.ID, c.ProjectID, c.Name, c.Slug, store.JSON(tags), c.Desc, c.Service, c.Kind,
		store.DurationMillis(c.Timeout), store.DurationMillis(c.Grace), c.Schedule, c.TZ,
		store.DurationMillis(c.EarlyTolerance), store.DurationMillis(c.MaxRuntime), store.DurationMillis(c.MinRuntime),
		c.FailureThreshold, store.DurationMillis(c.RealertInterval), c.Methods, c.ManualResume,
		store.JSON(rules), s.Status, s.NPings, store.Millis(s.LastPing), store.Millis(s.LastStart), s.LastStartRID,
		store.DurationMillis(s.LastDuration), store.Millis(s.ExpectedAt), store.Millis(s.NextDeadline), s.ConsecutiveFailures,
		store.Millis(s.LastAlertAt), metricsText(s.LastMetrics), store.Millis(c.CreatedAt), store.Millis(c.UpdatedAt),
		channelsText(c.Channels), c.FilterBody, c.StartKeywords, c.SuccessKeywords, c.FailureKeywords,
		c.FilterHTTPBody, c.FilterDefaultFail, c.BadgeKey}
}

// channelsText stores a check's channel selection: "*" for all.
func channelsText(ids []string) string {
	if ids == nil {
		return "*"
	}
	return store.JSON(ids)
}

// metricsText stores metrics: "" for none.
func metricsText(m map[string]float64) string {
	if len(m) == 0 {
		return ""
	}
	return store.JSON(m)
}

var (
	insertCheckSQL = `INSERT INTO checks (` + columns + `) VALUES (` + store.Placeholders(1, strings.Count(columns, ",")+1) + `)`
	updateCheckSQL = func() string {
		cols := strings.Split(columns, ",")
		var sets []string
		for i, c := range cols[1:] {
			sets = append(sets, fmt.Sprintf("%s = $%d", strings.TrimSpace(c), i+2))
		}
		return `UPDATE checks SET ` + strings.Join(sets, ", ") + ` WHERE id = $1`
	}()
)

// Create validates and stores a new check.
func (s *Service) Create(ctx context.Context, c *nightjar.Check, now time.Time) error {
	return s.db.WithTx(ctx, func(tx *store.Tx) error { return s.CreateTx(ctx, tx, c, now) })
}

// CreateTx is Create inside the caller's transaction.
func (s *Service) CreateTx(ctx context.Context, tx *store.Tx, c *nightjar.Check, now time.Time) error {
	if err := c.ValidateAt(now); err != nil {
		return err
	}
	if c.ID == "" {
		c.ID = store.NewID()
	}
	if c.BadgeKey == "" {
		c.BadgeKey = store.NewKey()
	}
	if c.State.Status == "" {
		c.State.Status = nightjar.StatusNew
	}
	c.CreatedAt = now.UTC().Truncate(time.Millisecond)
	c.UpdatedAt = c.CreatedAt
	if _, err := tx.Exec(ctx, insertCheckSQL, checkArgs(c)...); store.IsUniqueViolation(err) {
		return nightjar.Errorf(nightjar.ECONFLICT, "a check with id %s exists", c.ID)
	} else if err != nil {
		return fmt.Errorf("insert check: %w", err)
	}
	return nil
}

// Get returns one of a project's checks.
func (s *Service) Get(ctx context.Context, projectID, id string) (*nightjar.Check, error) {
	return scanCheck(s.db.QueryRow(ctx, `SELECT `+columns+` FROM checks WHERE id = $1 AND project_id = $2`, id, projectID))
}

// ByBadgeKey returns the check whose status badge has this key, in any
// project: badge URLs are public.
func (s *Service) ByBadgeKey(ctx context.Context, key string) (*nightjar.Check, error) {
	if key == "" {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "check not found")
	}
	return scanCheck(s.db.QueryRow(ctx, `SELECT `+columns+` FROM checks WHERE badge_key = $1`, key))
}

// Filter narrows a list of checks. Empty fields match everything.
type Filter struct {
	Tags   []string // all must be present
	Slug   string
	Name   string
	Status string
	Limit  int
	Offset int
}

// List lists a project's checks, oldest first.
func (s *Service) List(ctx context.Context, projectID string, f Filter) ([]*nightjar.Check, error) {
	return list(ctx, s.db, projectID, f)
}

// ListTx lists a project's checks, oldest first, as the caller's
// transaction sees them.
func (s *Service) ListTx(ctx context.Context, tx *store.Tx, projectID string, f Filter) ([]*nightjar.Check, error) {
	return list(ctx, tx, projectID, f)
}

func list(ctx context.Context, q store.Querier, projectID string, f Filter) ([]*nightjar.Check, error) {
	query := `SELECT ` + columns + ` FROM checks WHERE project_id = $1`
	args := []any{projectID}
	if f.Slug != "" {
		args = append(args, f.Slug)
		query += fmt.Sprintf(" AND slug = $%d", len(args))
	}
	if f.Name != "" {
		args = append(args, f.Name)
		query += fmt.Sprintf(" AND name = $%d", len(args))
	}
	if f.Status != "" {
		args = append(args, f.Status)
		query += fmt.Sprintf(" AND status = $%d", len(args))
	}
	query += " ORDER BY created_at, id"
	// Tags are matched here rather than in SQL, so with a tag filter the
	// page is cut here too.
	if f.Limit > 0 && len(f.Tags) == 0 {
		query += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, f.Offset)
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list checks: %w", err)
	}
	defer rows.Close()
	out := []*nightjar.Check{}
	skip := 0
	if len(f.Tags) > 0 {
		skip = f.Offset
	}
	for rows.Next() {
		c, err := scanCheck(rows)
		if err != nil {
			return nil, err
		}
		if !hasTags(c.Tags, f.Tags) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, c)
		if len(f.Tags) > 0 && f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out, rows.Err()
}

func hasTags(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// Update changes a check's settings with fn, inside a transaction that
// holds the row, and recomputes its deadline when the schedule changed.
func (s *Service) Update(ctx context.Context, projectID, id string, now time.Time, fn func(c *nightjar.Check) error) (*nightjar.Check, error) {
	var out *nightjar.Check
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = s.UpdateTx(ctx, tx, projectID, id, now, fn)
		return err
	})
	return out, err
}

// UpdateTx is Update inside the caller's transaction.
func (s *Service) UpdateTx(ctx context.Context, tx *store.Tx, projectID, id string, now time.Time, fn func(c *nightjar.Check) error) (*nightjar.Check, error) {
	c, err := lockCheck(ctx, tx, projectID, id)
	if err != nil {
		return nil, err
	}
	before := *c
	if err := fn(c); err != nil {
		return nil, err
	}
	c.ID, c.ProjectID, c.CreatedAt, c.BadgeKey = before.ID, before.ProjectID, before.CreatedAt, before.BadgeKey
	if err := c.ValidateAt(now); err != nil {
		return nil, err
	}
	c.UpdatedAt = now.UTC().Truncate(time.Millisecond)
	if scheduleChanged(&before, c) {
		heartbeat.Reschedule(c, now)
	}
	if _, err := tx.Exec(ctx, updateCheckSQL, checkArgs(c)...); err != nil {
		return nil, fmt.Errorf("update check: %w", err)
	}
	return c, nil
}

// Upsert updates the first of a project's checks that f selects and match
// accepts with update, or creates c when there is none: Healthchecks'
// "unique" create. Concurrent upserts in one project take turns (SQLite
// has one writer; PostgreSQL locks the project's row for them), so two
// requests with the same unique fields cannot both create.
func (s *Service) Upsert(ctx context.Context, c *nightjar.Check, f Filter, match func(*nightjar.Check) bool,
	update func(*nightjar.Check) error, now time.Time) (*nightjar.Check, bool, error) {
	var out *nightjar.Check
	var created bool
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		out, created = nil, false
		var id string
		err := tx.QueryRow(ctx, `SELECT id FROM projects WHERE id = $1`+tx.Dialect().ForNoKeyUpdate(), c.ProjectID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nightjar.Errorf(nightjar.ENOTFOUND, "project not found")
		} else if err != nil {
			return fmt.Errorf("lock project: %w", err)
		}
		existing, err := list(ctx, tx, c.ProjectID, f)
		if err != nil {
			return err
		}
		for _, e := range existing {
			if match(e) {
				out, err = s.UpdateTx(ctx, tx, c.ProjectID, e.ID, now, update)
				return err
			}
		}
		created = true
		out = c
		return s.CreateTx(ctx, tx, c, now)
	})
	return out, created, err
}

func scheduleChanged(a, b *nightjar.Check) bool {
	return a.Kind != b.Kind || a.Timeout != b.Timeout || a.Grace != b.Grace || a.Schedule != b.Schedule ||
		a.TZ != b.TZ || a.EarlyTolerance != b.EarlyTolerance || a.MaxRuntime != b.MaxRuntime ||
		a.RealertInterval != b.RealertInterval
}

func lockCheck(ctx context.Context, tx *store.Tx, projectID, id string) (*nightjar.Check, error) {
	return scanCheck(tx.QueryRow(ctx, `SELECT `+columns+` FROM checks WHERE id = $1 AND project_id = $2`+tx.Dialect().ForUpdate(), id, projectID))
}

// Delete removes a check with its pings and flips. A check that is down
// has its alert resolved first: an open alert for a check that no longer
// exists would never resolve.
func (s *Service) Delete(ctx context.Context, projectID, id string, now time.Time) error {
	return s.db.WithTx(ctx, func(tx *store.Tx) error {
		c, err := lockCheck(ctx, tx, projectID, id)
		if err != nil {
			return err
		}
		if c.State.Status == nightjar.StatusDown {
			if err := s.alerts.Resolve(ctx, tx, c.ProjectID, heartbeat.DedupKey(c.ID), c.Channels, now); err != nil {
				return err
			}
		}
		if _, err = tx.Exec(ctx, `DELETE FROM checks WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete check: %w", err)
		}
		return nil
	})
}

// SetPaused pauses a check, or resumes a paused one; resuming a check that
// is not paused is a conflict, as in Healthchecks.
func (s *Service) SetPaused(ctx context.Context, projectID, id string, paused bool, now time.Time) (*nightjar.Check, error) {
	return s.transition(ctx, projectID, id, now, func(c *nightjar.Check) (heartbeat.Outcome, error) {
		if paused {
			return heartbeat.Pause(c, now), nil
		}
		if c.State.Status != nightjar.StatusPaused {
			return heartbeat.Outcome{}, nightjar.Errorf(nightjar.ECONFLICT, "check is not paused")
		}
		return heartbeat.Resume(c, now), nil
	})
}

// transition runs one of the heartbeat transitions on a check and records
// what it did.
func (s *Service) transition(ctx context.Context, projectID, id string, now time.Time, fn func(c *nightjar.Check) (heartbeat.Outcome, error)) (*nightjar.Check, error) {
	var out *nightjar.Check
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		c, err := lockCheck(ctx, tx, projectID, id)
		if err != nil {
			return err
		}
		o, err := fn(c)
		if err != nil {
			return err
		}
		c.UpdatedAt = now.UTC().Truncate(time.Millisecond)
		if err := saveState(ctx, tx, c); err != nil {
			return err
		}
		if err := s.recordOutcome(ctx, tx, c, o, now); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

var qInsertFlip = store.Hot(func(store.Dialect) string {
	return `INSERT INTO flips (check_id, created_at, from_status, to_status, reason) VALUES ($1, $2, $3, $4, $5)`
})

// recordOutcome writes what a heartbeat transition produced beside the
// check's state: its flip, and its alert change, which the alert stage
// records and routes in the same transaction. The check's channels are its
// source's choice of who hears.
func (s *Service) recordOutcome(ctx context.Context, tx *store.Tx, c *nightjar.Check, o heartbeat.Outcome, now time.Time) error {
	if f := o.Flip; f != nil {
		if _, err := tx.ExecStmt(ctx, qInsertFlip, f.CheckID, store.Millis(f.CreatedAt), f.From, f.To, f.Reason); err != nil {
			return fmt.Errorf("insert flip: %w", err)
		}
	}
	if o.Alert != nil {
		return s.alerts.Handle(ctx, tx, alerting.Change{Alert: o.Alert, Channels: c.Channels, At: now})
	}
	return nil
}
