package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/heartbeat"
)

const checkColumns = `id, project_id, name, slug, tags, description, service, kind, timeout_ms, grace_ms,
	schedule, tz, early_tolerance_ms, max_runtime_ms, min_runtime_ms, failure_threshold, realert_ms,
	methods, manual_resume, metric_rules, status, n_pings, last_ping, last_start, last_start_rid,
	last_duration_ms, expected_at, next_deadline, consecutive_failures, last_alert_at, last_metrics,
	created_at, updated_at, channels, filter_body, start_kw, success_kw, failure_kw,
	filter_http_body, filter_default_fail, badge_key`

func scanCheck(row rowScanner) (*nightjar.Check, error) {
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
	c.Timeout, c.Grace, c.EarlyTolerance = tdur(timeout), tdur(grace), tdur(early)
	c.MaxRuntime, c.MinRuntime, c.RealertInterval = tdur(maxRun), tdur(minRun), tdur(realert)
	c.State.LastPing, c.State.LastStart, c.State.LastDuration = tm(lastPing), tm(lastStart), tdur(lastDur)
	c.State.ExpectedAt, c.State.NextDeadline, c.State.LastAlertAt = tm(expected), tm(deadline), tm(lastAlert)
	c.CreatedAt, c.UpdatedAt = tm(created), tm(updated)
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

func jsonText(v any) string { return JSON(v) }

func checkArgs(c *nightjar.Check) []any {
	tags := c.Tags
	if tags == nil {
		tags = []string{}
	}
	rules := c.MetricRules
	if rules == nil {
		rules = []string{}
	}
	metrics := ""
	if len(c.State.LastMetrics) > 0 {
		metrics = jsonText(c.State.LastMetrics)
	}
	s := &c.State
	return []any{c.ID, c.ProjectID, c.Name, c.Slug, jsonText(tags), c.Desc, c.Service, c.Kind,
		dms(c.Timeout), dms(c.Grace), c.Schedule, c.TZ, dms(c.EarlyTolerance), dms(c.MaxRuntime),
		dms(c.MinRuntime), c.FailureThreshold, dms(c.RealertInterval), c.Methods, c.ManualResume,
		jsonText(rules), s.Status, s.NPings, ms(s.LastPing), ms(s.LastStart), s.LastStartRID,
		dms(s.LastDuration), ms(s.ExpectedAt), ms(s.NextDeadline), s.ConsecutiveFailures,
		ms(s.LastAlertAt), metrics, ms(c.CreatedAt), ms(c.UpdatedAt), channelsText(c.Channels), c.FilterBody,
		c.StartKeywords, c.SuccessKeywords, c.FailureKeywords, c.FilterHTTPBody, c.FilterDefaultFail, c.BadgeKey}
}

// channelsText stores a check's channel selection: "*" for all.
func channelsText(ids []string) string {
	if ids == nil {
		return "*"
	}
	return jsonText(ids)
}

func placeholders(from, n int) string { return Placeholders(from, n) }

var (
	insertCheckSQL = `INSERT INTO checks (` + checkColumns + `) VALUES (` + placeholders(1, strings.Count(checkColumns, ",")+1) + `)`
	updateCheckSQL = func() string {
		cols := strings.Split(checkColumns, ",")
		var sets []string
		for i, c := range cols[1:] {
			sets = append(sets, fmt.Sprintf("%s = $%d", strings.TrimSpace(c), i+2))
		}
		return `UPDATE checks SET ` + strings.Join(sets, ", ") + ` WHERE id = $1`
	}()
	updateStateSQL = `UPDATE checks SET status = $2, n_pings = $3, last_ping = $4, last_start = $5,
		last_start_rid = $6, last_duration_ms = $7, expected_at = $8, next_deadline = $9,
		consecutive_failures = $10, last_alert_at = $11, last_metrics = $12, updated_at = $13 WHERE id = $1`
)

func stateArgs(c *nightjar.Check) []any {
	s := &c.State
	metrics := ""
	if len(s.LastMetrics) > 0 {
		metrics = jsonText(s.LastMetrics)
	}
	return []any{c.ID, s.Status, s.NPings, ms(s.LastPing), ms(s.LastStart), s.LastStartRID,
		dms(s.LastDuration), ms(s.ExpectedAt), ms(s.NextDeadline), s.ConsecutiveFailures,
		ms(s.LastAlertAt), metrics, ms(c.UpdatedAt)}
}

// CreateCheck validates and stores a new check.
func (db *DB) CreateCheck(ctx context.Context, c *nightjar.Check, now time.Time) error {
	return db.WithTx(ctx, func(tx *Tx) error { return tx.CreateCheck(ctx, c, now) })
}

// CreateCheck stores a new check inside the transaction.
func (tx *Tx) CreateCheck(ctx context.Context, c *nightjar.Check, now time.Time) error {
	if err := c.ValidateAt(now); err != nil {
		return err
	}
	if c.ID == "" {
		c.ID = NewID()
	}
	if c.BadgeKey == "" {
		c.BadgeKey = NewKey()
	}
	if c.State.Status == "" {
		c.State.Status = nightjar.StatusNew
	}
	c.CreatedAt = now.UTC().Truncate(time.Millisecond)
	c.UpdatedAt = c.CreatedAt
	if _, err := tx.exec(ctx, insertCheckSQL, checkArgs(c)...); IsUniqueViolation(err) {
		return nightjar.Errorf(nightjar.ECONFLICT, "a check with id %s exists", c.ID)
	} else if err != nil {
		return fmt.Errorf("insert check: %w", err)
	}
	return nil
}

// Check returns one of a project's checks.
func (db *DB) Check(ctx context.Context, projectID, id string) (*nightjar.Check, error) {
	return scanCheck(db.r.QueryRowContext(ctx, `SELECT `+checkColumns+` FROM checks WHERE id = $1 AND project_id = $2`, id, projectID))
}

// CheckFilter narrows a list of checks. Empty fields match everything.
type CheckFilter struct {
	Tags   []string // all must be present
	Slug   string
	Name   string
	Status string
	Limit  int
	Offset int
}

// CheckByBadgeKey returns the check whose status badge has this key, in
// any project: badge URLs are public.
func (db *DB) CheckByBadgeKey(ctx context.Context, key string) (*nightjar.Check, error) {
	if key == "" {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "check not found")
	}
	return scanCheck(db.r.QueryRowContext(ctx, `SELECT `+checkColumns+` FROM checks WHERE badge_key = $1`, key))
}

// Checks lists a project's checks, oldest first.
func (db *DB) Checks(ctx context.Context, projectID string, f CheckFilter) ([]*nightjar.Check, error) {
	return queryChecks(ctx, db.r, projectID, f)
}

// Checks lists a project's checks, oldest first, as the transaction sees
// them.
func (tx *Tx) Checks(ctx context.Context, projectID string, f CheckFilter) ([]*nightjar.Check, error) {
	return queryChecks(ctx, tx, projectID, f)
}

func queryChecks(ctx context.Context, db querier, projectID string, f CheckFilter) ([]*nightjar.Check, error) {
	q := `SELECT ` + checkColumns + ` FROM checks WHERE project_id = $1`
	args := []any{projectID}
	if f.Slug != "" {
		args = append(args, f.Slug)
		q += fmt.Sprintf(" AND slug = $%d", len(args))
	}
	if f.Name != "" {
		args = append(args, f.Name)
		q += fmt.Sprintf(" AND name = $%d", len(args))
	}
	if f.Status != "" {
		args = append(args, f.Status)
		q += fmt.Sprintf(" AND status = $%d", len(args))
	}
	q += " ORDER BY created_at, id"
	// Tags are matched here rather than in SQL, so with a tag filter the
	// page is cut here too.
	if f.Limit > 0 && len(f.Tags) == 0 {
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", f.Limit, f.Offset)
	}
	rows, err := db.QueryContext(ctx, q, args...)
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

// UpdateCheck changes a check's settings with fn, inside a transaction that
// holds the row, and recomputes its deadline when the schedule changed.
func (db *DB) UpdateCheck(ctx context.Context, projectID, id string, now time.Time, fn func(c *nightjar.Check) error) (*nightjar.Check, error) {
	var out *nightjar.Check
	err := db.WithTx(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.UpdateCheck(ctx, projectID, id, now, fn)
		return err
	})
	return out, err
}

// UpdateCheck is DB.UpdateCheck inside the transaction.
func (tx *Tx) UpdateCheck(ctx context.Context, projectID, id string, now time.Time, fn func(c *nightjar.Check) error) (*nightjar.Check, error) {
	c, err := tx.lockCheck(ctx, projectID, id)
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
	if _, err := tx.exec(ctx, updateCheckSQL, checkArgs(c)...); err != nil {
		return nil, fmt.Errorf("update check: %w", err)
	}
	return c, nil
}

// UpsertCheck updates the first of a project's checks that f selects and
// match accepts with update, or creates c when there is none: Healthchecks'
// "unique" create. Concurrent upserts in one project take turns (SQLite
// has one writer; PostgreSQL locks the project's row for them), so two
// requests with the same unique fields cannot both create.
func (db *DB) UpsertCheck(ctx context.Context, c *nightjar.Check, f CheckFilter, match func(*nightjar.Check) bool,
	update func(*nightjar.Check) error, now time.Time) (*nightjar.Check, bool, error) {
	var out *nightjar.Check
	var created bool
	err := db.WithTx(ctx, func(tx *Tx) error {
		out, created = nil, false
		var id string
		err := tx.queryRow(ctx, `SELECT id FROM projects WHERE id = $1`+tx.db.dialect.forNoKeyUpdate, c.ProjectID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nightjar.Errorf(nightjar.ENOTFOUND, "project not found")
		} else if err != nil {
			return fmt.Errorf("lock project: %w", err)
		}
		existing, err := queryChecks(ctx, tx, c.ProjectID, f)
		if err != nil {
			return err
		}
		for _, e := range existing {
			if match(e) {
				out, err = tx.UpdateCheck(ctx, c.ProjectID, e.ID, now, update)
				return err
			}
		}
		created = true
		out = c
		return tx.CreateCheck(ctx, c, now)
	})
	return out, created, err
}

func scheduleChanged(a, b *nightjar.Check) bool {
	return a.Kind != b.Kind || a.Timeout != b.Timeout || a.Grace != b.Grace || a.Schedule != b.Schedule ||
		a.TZ != b.TZ || a.EarlyTolerance != b.EarlyTolerance || a.MaxRuntime != b.MaxRuntime ||
		a.RealertInterval != b.RealertInterval
}

func (tx *Tx) lockCheck(ctx context.Context, projectID, id string) (*nightjar.Check, error) {
	return scanCheck(tx.queryRow(ctx, `SELECT `+checkColumns+` FROM checks WHERE id = $1 AND project_id = $2`+tx.db.dialect.forUpdate, id, projectID))
}

// DeleteCheck removes a check with its pings and flips.
func (db *DB) DeleteCheck(ctx context.Context, projectID, id string, now time.Time) error {
	return db.WithTx(ctx, func(tx *Tx) error {
		c, err := tx.lockCheck(ctx, projectID, id)
		if err != nil {
			return err
		}
		if c.State.Status == nightjar.StatusDown {
			// An open alert for a check that no longer exists would never resolve.
			if err := tx.resolveAlert(ctx, c.ProjectID, heartbeat.DedupKey(c.ID), now, c.Channels); err != nil {
				return err
			}
		}
		_, err = tx.exec(ctx, `DELETE FROM checks WHERE id = $1`, id)
		return err
	})
}

// SetPaused pauses a check, or resumes a paused one; resuming a check that
// is not paused is a conflict, as in Healthchecks.
func (db *DB) SetPaused(ctx context.Context, projectID, id string, paused bool, now time.Time) (*nightjar.Check, error) {
	return db.changeCheckState(ctx, projectID, id, now, func(c *nightjar.Check) (heartbeat.Outcome, error) {
		if paused {
			return heartbeat.Pause(c, now), nil
		}
		if c.State.Status != nightjar.StatusPaused {
			return heartbeat.Outcome{}, nightjar.Errorf(nightjar.ECONFLICT, "check is not paused")
		}
		return heartbeat.Resume(c, now), nil
	})
}

// changeCheckState runs one of the heartbeat transitions on a check and
// records what it did.
func (db *DB) changeCheckState(ctx context.Context, projectID, id string, now time.Time, fn func(c *nightjar.Check) (heartbeat.Outcome, error)) (*nightjar.Check, error) {
	var out *nightjar.Check
	err := db.WithTx(ctx, func(tx *Tx) error {
		c, err := tx.lockCheck(ctx, projectID, id)
		if err != nil {
			return err
		}
		o, err := fn(c)
		if err != nil {
			return err
		}
		c.UpdatedAt = now.UTC().Truncate(time.Millisecond)
		if err := tx.saveState(ctx, c); err != nil {
			return err
		}
		if err := tx.recordOutcome(ctx, c, o, now); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// stateCasts are the types of stateArgs, in order.
var stateCasts = []string{"TEXT", "TEXT", "BIGINT", "BIGINT", "BIGINT", "TEXT", "BIGINT", "BIGINT", "BIGINT", "INTEGER", "BIGINT", "TEXT", "BIGINT"}

// saveStates saves the states of many checks with one UPDATE … FROM
// (VALUES …) per chunk, a form SQLite and PostgreSQL both take.
func (tx *Tx) saveStates(ctx context.Context, checks []*nightjar.Check) error {
	if !tx.db.dialect.multiRow {
		for _, c := range checks {
			if err := tx.saveState(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}
	for len(checks) > 0 {
		n := min(len(checks), maxBatchRows)
		q, args := saveStatesSQL(checks[:n], 1)
		if _, err := tx.exec(ctx, q, args...); err != nil {
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
		consecutive_failures = v.column10, last_alert_at = v.column11, last_metrics = v.column12, updated_at = v.column13
		FROM (VALUES ` + tuples(first, len(checks), len(stateCasts), stateCasts) + `) AS v WHERE checks.id = v.column1`, args
}

func (tx *Tx) saveState(ctx context.Context, c *nightjar.Check) error {
	if _, err := tx.exec(ctx, updateStateSQL, stateArgs(c)...); err != nil {
		return fmt.Errorf("save state of check %s: %w", c.ID, err)
	}
	return nil
}

// Flips returns a check's status changes, newest first.
func (db *DB) Flips(ctx context.Context, checkID string, since time.Time, limit int) ([]*nightjar.Flip, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := db.r.QueryContext(ctx, `SELECT check_id, created_at, from_status, to_status, reason FROM flips
		WHERE check_id = $1 AND created_at >= $2 ORDER BY created_at DESC, id DESC LIMIT $3`, checkID, ms(since), limit)
	if err != nil {
		return nil, fmt.Errorf("list flips: %w", err)
	}
	defer rows.Close()
	out := []*nightjar.Flip{}
	for rows.Next() {
		var f nightjar.Flip
		var at int64
		if err := rows.Scan(&f.CheckID, &at, &f.From, &f.To, &f.Reason); err != nil {
			return nil, fmt.Errorf("scan flip: %w", err)
		}
		f.CreatedAt = tm(at)
		out = append(out, &f)
	}
	return out, rows.Err()
}

// CountChecksByStatus returns how many checks are in each status, across
// all projects; the metrics endpoint reports it.
func (db *DB) CountChecksByStatus(ctx context.Context) (map[string]int64, error) {
	return db.countByStatus(ctx, `SELECT status, COUNT(*) FROM checks GROUP BY status`)
}

// CountChecksInProject returns how many of a project's checks are in each
// status.
func (db *DB) CountChecksInProject(ctx context.Context, projectID string) (map[string]int64, error) {
	return db.countByStatus(ctx, `SELECT status, COUNT(*) FROM checks WHERE project_id = $1 GROUP BY status`, projectID)
}

func (db *DB) countByStatus(ctx context.Context, query string, args ...any) (map[string]int64, error) {
	type count struct {
		status string
		n      int64
	}
	rows, err := queryAll(ctx, db.r, "count checks", query, func(row rowScanner) (count, error) {
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

// ProjectFlip is a flip with the name of its check, for project-wide lists.
type ProjectFlip struct {
	nightjar.Flip
	CheckName string
}

// RecentFlips returns a project's newest status changes across checks.
func (db *DB) RecentFlips(ctx context.Context, projectID string, limit int) ([]*ProjectFlip, error) {
	return queryAll(ctx, db.r, "list recent flips", `SELECT f.check_id, f.created_at, f.from_status, f.to_status, f.reason, c.name
		FROM flips f JOIN checks c ON c.id = f.check_id WHERE c.project_id = $1 ORDER BY f.created_at DESC, f.id DESC LIMIT $2`,
		func(row rowScanner) (*ProjectFlip, error) {
			var f ProjectFlip
			var at int64
			if err := row.Scan(&f.CheckID, &at, &f.From, &f.To, &f.Reason, &f.CheckName); err != nil {
				return nil, fmt.Errorf("scan flip: %w", err)
			}
			f.CreatedAt = tm(at)
			return &f, nil
		}, projectID, limit)
}
