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
	filter_http_body, filter_default_fail, badge_key, status_since, status_reason, settled_status`

func scanCheck(row store.Row) (*nightjar.Check, error) {
	var c nightjar.Check
	var tags, rules, metrics, channels string
	var timeout, grace, early, maxRun, minRun, realert int64
	var lastPing, lastStart, lastDur, expected, deadline, lastAlert, created, updated, since int64
	err := row.Scan(&c.ID, &c.ProjectID, &c.Name, &c.Slug, &tags, &c.Desc, &c.Service, &c.Kind,
		&timeout, &grace, &c.Schedule, &c.TZ, &early, &maxRun, &minRun, &c.FailureThreshold, &realert,
		&c.Methods, &c.ManualResume, &rules, &c.State.Status, &c.State.NPings, &lastPing, &lastStart,
		&c.State.LastStartRID, &lastDur, &expected, &deadline, &c.State.ConsecutiveFailures, &lastAlert,
		&metrics, &created, &updated, &channels, &c.FilterBody, &c.StartKeywords, &c.SuccessKeywords, &c.FailureKeywords,
		&c.FilterHTTPBody, &c.FilterDefaultFail, &c.BadgeKey, &since, &c.State.Reason, &c.State.Settled)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "check not found")
	} else if err != nil {
		return nil, fmt.Errorf("scan check: %w", err)
	}
	c.Timeout, c.Grace, c.EarlyTolerance = store.Duration(timeout), store.Duration(grace), store.Duration(early)
	c.MaxRuntime, c.MinRuntime, c.RealertInterval = store.Duration(maxRun), store.Duration(minRun), store.Duration(realert)
	c.State.LastPing, c.State.LastStart, c.State.LastDuration = store.Time(lastPing), store.Time(lastStart), store.Duration(lastDur)
	c.State.ExpectedAt, c.State.NextDeadline, c.State.LastAlertAt = store.Time(expected), store.Time(deadline), store.Time(lastAlert)
	c.CreatedAt, c.UpdatedAt, c.State.Since = store.Time(created), store.Time(updated), store.Time(since)
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
		c.FilterHTTPBody, c.FilterDefaultFail, c.BadgeKey, store.Millis(s.Since), s.Reason, s.Settled}
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
	if c.State.Since.IsZero() {
		c.State.Since = c.CreatedAt
	}
	if c.State.Settled == "" {
		c.State.Settled = c.State.Status
	}
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

// Filter narrows a list of checks. Empty fields match everything. The
// database does the filtering, sorting and paging, so a page of a project
// with thousands of checks reads only that page.
type Filter struct {
	Tags   []string // all must be present
	Slug   string
	Name   string
	Status string
	// Query matches checks whose name, slug or description contains it,
	// ignoring the case of ASCII letters.
	Query string
	// Sort orders the list: SortCreated (the default), SortStatus (what
	// needs attention first), SortName, SortSince (latest status change
	// first) or SortLastPing (latest ping first).
	Sort   string
	Limit  int
	Offset int
}

// The orders a Filter can ask for.
const (
	SortCreated  = ""
	SortStatus   = "status"
	SortName     = "name"
	SortSince    = "since"
	SortLastPing = "last_ping"
)

// statusRank puts what needs attention first: down, late, started, up,
// new, paused.
const statusRank = `CASE status WHEN 'down' THEN 0 WHEN 'late' THEN 1 WHEN 'started' THEN 2 WHEN 'up' THEN 3 WHEN 'new' THEN 4 ELSE 5 END`

var sortOrders = map[string]string{
	SortCreated:  "created_at, id",
	SortStatus:   statusRank + ", status_since DESC, name, id",
	SortName:     "LOWER(name), name, id",
	SortSince:    "status_since DESC, id",
	SortLastPing: "last_ping DESC, id",
}

// ValidSort reports whether a Filter may sort by s.
func ValidSort(s string) bool { _, ok := sortOrders[s]; return ok }

// where renders the filter's conditions after project_id = $1, appending
// their arguments to args.
func (f Filter) where(args []any) (string, []any) {
	var b strings.Builder
	add := func(cond string, arg any) {
		args = append(args, arg)
		fmt.Fprintf(&b, " AND "+cond, len(args))
	}
	if f.Slug != "" {
		add("slug = $%d", f.Slug)
	}
	if f.Name != "" {
		add("name = $%d", f.Name)
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	// Tags are stored as a JSON list, so a tag is present when its JSON
	// string is.
	for _, t := range f.Tags {
		add(`tags LIKE $%d ESCAPE '\'`, "%"+likeEscape(store.JSON(t))+"%")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		add(`LOWER(name || ' ' || slug || ' ' || description) LIKE $%d ESCAPE '\'`, "%"+likeEscape(asciiLower(q))+"%")
	}
	return b.String(), args
}

// likeEscape makes s match itself in a LIKE pattern escaped by a backslash.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// asciiLower lowercases ASCII letters only, as SQLite's LOWER does, so
// both databases match the same checks.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// List lists a project's checks in the filter's order (oldest first by
// default).
func (s *Service) List(ctx context.Context, projectID string, f Filter) ([]*nightjar.Check, error) {
	return list(ctx, s.db, projectID, f)
}

// ListTx lists a project's checks as the caller's transaction sees them.
func (s *Service) ListTx(ctx context.Context, tx *store.Tx, projectID string, f Filter) ([]*nightjar.Check, error) {
	return list(ctx, tx, projectID, f)
}

func list(ctx context.Context, q store.Querier, projectID string, f Filter) ([]*nightjar.Check, error) {
	order, ok := sortOrders[f.Sort]
	if !ok {
		return nil, nightjar.FieldError("sort", "must be one of name, status, since or last_ping")
	}
	cond, args := f.where([]any{projectID})
	query := `SELECT ` + columns + ` FROM checks WHERE project_id = $1` + cond + ` ORDER BY ` + order
	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0))
	}
	out, err := store.QueryAll(ctx, q, "list checks", query, scanCheck, args...)
	if out == nil && err == nil {
		out = []*nightjar.Check{}
	}
	return out, err
}

// Count returns how many of a project's checks the filter matches, its
// paging aside.
func (s *Service) Count(ctx context.Context, projectID string, f Filter) (int64, error) {
	cond, args := f.where([]any{projectID})
	var n int64
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM checks WHERE project_id = $1`+cond, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count checks: %w", err)
	}
	return n, nil
}

// Tags returns every tag of a project's checks, sorted.
func (s *Service) Tags(ctx context.Context, projectID string) ([]string, error) {
	lists, err := store.QueryAll(ctx, s.db, "list tags", `SELECT DISTINCT tags FROM checks WHERE project_id = $1 AND tags <> '[]'`,
		func(row store.Row) (string, error) {
			var t string
			err := row.Scan(&t)
			return t, err
		}, projectID)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := []string{}
	for _, l := range lists {
		var tags []string
		if err := json.Unmarshal([]byte(l), &tags); err != nil {
			return nil, fmt.Errorf("decode tags: %w", err)
		}
		for _, t := range tags {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return out, nil
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
