package checks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/heartbeat"
	"github.com/nightjar-dev/nightjar/store"
)

// PingRequest is one ping as received over HTTP, ready to be recorded. It
// names its check either by CheckID or by PingKey and Slug. Its metadata
// (user agent, method, scheme, address, run id) is recorded as received
// but made storable first, in place: see clean.
type PingRequest struct {
	CheckID       string
	PingKey, Slug string
	// Create makes a missing slug-form check, as Healthchecks' ?create=1.
	Create     bool
	Kind       string // start, success, fail or log, from the URL
	ExitStatus *int
	At         time.Time
	RID        string
	Method     string
	Scheme     string
	RemoteAddr string
	UA         string
	Body       []byte
	Metrics    map[string]float64
}

// maxUALength is how many characters of a user agent are kept, as in
// Healthchecks.
const maxUALength = 200

// clean makes the ping's metadata storable: it is what clients send, not
// what Nightjar controls, so invalid UTF-8 and NUL bytes are replaced
// rather than refused, and a ping is never lost over them. The body needs
// nothing: it is stored as bytes.
func (r *PingRequest) clean() {
	r.UA = nightjar.CleanText(r.UA, maxUALength)
	r.Method = nightjar.CleanText(r.Method, 100)
	r.Scheme = nightjar.CleanText(r.Scheme, 100)
	r.RemoteAddr = nightjar.CleanText(r.RemoteAddr, 100)
	r.RID = nightjar.CleanText(r.RID, 100)
}

// received is the ping as heartbeat classifies it.
func (r *PingRequest) received() heartbeat.Received {
	return heartbeat.Received{Kind: r.Kind, ExitStatus: r.ExitStatus, Method: r.Method, Body: r.Body, RID: r.RID, At: r.At, Metrics: r.Metrics}
}

// PingResult is what recording a ping did.
type PingResult struct {
	CheckID string
	Created bool
	Err     error
}

// RecordPings records a batch of pings in one transaction (group commit):
// the caller answers each ping only after this returns, so an acknowledged
// ping is durable, and many pings share the cost of one commit. When the
// batch transaction fails, each ping is retried alone, so one bad ping
// cannot fail the others. keep is how many pings per check to retain (0
// keeps all).
func (s *Service) RecordPings(ctx context.Context, reqs []*PingRequest, keep int64) []PingResult {
	results := make([]PingResult, len(reqs))
	err := s.recordBatchTx(ctx, reqs, keep, results)
	if err == nil || len(reqs) == 1 {
		if err != nil {
			results[0] = PingResult{Err: err}
		}
		return results
	}
	s.log.Warn("ping batch failed; recording one by one", "pings", len(reqs), "err", err)
	for i, r := range reqs {
		if err := s.recordBatchTx(ctx, []*PingRequest{r}, keep, results[i:i+1]); err != nil {
			results[i] = PingResult{Err: err}
		}
	}
	return results
}

// recordBatchTx records a batch in a transaction of its own and, with a
// check cache, tells it what the committed batch wrote.
func (s *Service) recordBatchTx(ctx context.Context, reqs []*PingRequest, keep int64, results []PingResult) error {
	var w batchWrites
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		return s.recordBatch(ctx, tx, reqs, keep, results, &w)
	})
	if s.cache != nil {
		if err != nil {
			s.cache.reset()
		} else {
			s.cache.commit(w.from, w.to, w.checks)
		}
	}
	return err
}

// batchWrites is what a batch tells the check cache: the writer's marks
// before and after it, and the checks whose state it saved.
type batchWrites struct {
	from, to store.WriteMark
	checks   []*nightjar.Check
}

// The statements of ping recording.
var (
	qCheckByID = store.Hot(func(d store.Dialect) string {
		return `SELECT ` + columns + ` FROM checks WHERE id = $1` + d.ForUpdate()
	})
	qProjectByPingKey = store.Hot(func(store.Dialect) string {
		return `SELECT id FROM projects WHERE ping_key = $1`
	})
	qChecksBySlug = store.Hot(func(d store.Dialect) string {
		return `SELECT ` + columns + ` FROM checks WHERE project_id = $1 AND slug = $2 ORDER BY created_at LIMIT 2` + d.ForUpdate()
	})
	qRunStart = store.Hot(func(store.Dialect) string {
		return `SELECT created_at FROM pings WHERE check_id = $1 AND rid = $2 AND kind = 'start' ORDER BY n DESC LIMIT 1`
	})
	qPrunePings = store.Hot(func(store.Dialect) string {
		return `DELETE FROM pings WHERE check_id = $1 AND n <= $2`
	})
	// qInsertPing inserts one ping: the prepared statement a dialect
	// without multi-row batches uses per row.
	qInsertPing = store.Hot(func(store.Dialect) string {
		return insertPingsPrefix + store.Tuples(1, 1, pingWidth, nil)
	})
)

// resolveSlug finds the check a slug-form ping is for, creating it for
// ?create=1.
func (s *Service) resolveSlug(ctx context.Context, tx *store.Tx, r *PingRequest) (*nightjar.Check, bool, error) {
	var projectID string
	err := tx.QueryRowStmt(ctx, qProjectByPingKey, r.PingKey).Scan(&projectID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nightjar.Errorf(nightjar.ENOTFOUND, "not found")
	} else if err != nil {
		return nil, false, fmt.Errorf("find project by ping key: %w", err)
	}
	found, err := store.QueryAll(ctx, tx, "find check by slug", qChecksBySlug.SQL(tx.Dialect()), scanCheck, projectID, r.Slug)
	if err != nil {
		return nil, false, err
	}
	switch {
	case len(found) > 1:
		return nil, false, nightjar.Errorf(nightjar.ECONFLICT, "ambiguous slug")
	case len(found) == 1:
		return found[0], false, nil
	case !r.Create:
		return nil, false, nightjar.Errorf(nightjar.ENOTFOUND, "not found")
	}
	// Named after its slug, with every other setting the default, as
	// Healthchecks makes it; the patch judges it as any other new check.
	c, err := (&nightjar.CheckPatch{Slug: &r.Slug}).NewCheck(projectID, nil, r.At)
	if err != nil {
		return nil, false, err
	}
	if err := s.CreateTx(ctx, tx, c, r.At); err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// recordBatch records pings in the transaction with a few multi-row
// statements: one to load and lock the checks pinged by UUID, one to insert
// the pings and one to save the checks' new states, however many pings the
// batch holds. Errors that concern one ping (unknown check, ambiguous slug)
// go to that ping's result; any other error fails the batch.
func (s *Service) recordBatch(ctx context.Context, tx *store.Tx, reqs []*PingRequest, keep int64, results []PingResult, w *batchWrites) error {
	if s.cache != nil {
		m, err := tx.WriteMark(ctx)
		if err != nil {
			return err
		}
		s.cache.begin(m)
		w.from = m
	}
	var ids []string
	for _, r := range reqs {
		r.clean()
		// An id that is not valid text names no check; the ping finds
		// none below.
		if r.CheckID != "" && nightjar.ValidText(r.CheckID) {
			ids = append(ids, r.CheckID)
		}
	}
	checks, err := s.lockChecks(ctx, tx, ids)
	if err != nil {
		return err
	}
	var dirty []*nightjar.Check
	isDirty := map[string]bool{}
	rows := make([]any, 0, len(reqs)*pingWidth)
	for i, r := range reqs {
		c, created, err := s.pingTarget(ctx, tx, r, checks)
		if err != nil {
			if nightjar.ErrorCode(err) == nightjar.EINTERNAL {
				return err
			}
			results[i] = PingResult{Err: err}
			continue
		}
		out, err := evaluatePing(ctx, tx, c, r)
		if err != nil {
			return err
		}
		var exit any
		if r.ExitStatus != nil {
			exit = *r.ExitStatus
		}
		body := r.Body
		if body == nil {
			body = []byte{}
		}
		rows = append(rows, c.ID, c.State.NPings, out.Kind, store.Millis(r.At), r.Scheme, r.RemoteAddr, r.Method, r.UA, r.RID, exit,
			store.DurationMillis(out.Duration), body, metricsText(r.Metrics), out.Note)
		if keep > 0 && c.State.NPings > keep && c.State.NPings%50 == 0 {
			if _, err := tx.ExecStmt(ctx, qPrunePings, c.ID, c.State.NPings-keep); err != nil {
				return fmt.Errorf("prune pings: %w", err)
			}
		}
		if !isDirty[c.ID] {
			isDirty[c.ID] = true
			dirty = append(dirty, c)
		}
		if err := s.recordOutcome(ctx, tx, c, out, r.At); err != nil {
			return err
		}
		results[i] = PingResult{CheckID: c.ID, Created: created}
	}
	if err := writePingsAndStates(ctx, tx, rows, dirty); err != nil {
		return err
	}
	if s.cache != nil {
		m, err := tx.WriteMark(ctx)
		if err != nil {
			return err
		}
		w.to, w.checks = m, dirty
	}
	return nil
}

// pingTarget finds the check a ping is for among the checks already
// locked, or resolves its slug (creating the check for ?create=1).
func (s *Service) pingTarget(ctx context.Context, tx *store.Tx, r *PingRequest, checks map[string]*nightjar.Check) (*nightjar.Check, bool, error) {
	if r.CheckID != "" {
		if c, ok := checks[r.CheckID]; ok {
			return c, false, nil
		}
		return nil, false, nightjar.Errorf(nightjar.ENOTFOUND, "not found")
	}
	c, created, err := s.resolveSlug(ctx, tx, r)
	if err != nil {
		return nil, false, err
	}
	// A check pinged by UUID earlier in the batch carries state newer
	// than the row just read.
	if seen, ok := checks[c.ID]; ok {
		return seen, created, nil
	}
	checks[c.ID] = c
	return c, created, nil
}

// evaluatePing has heartbeat classify the ping and change the check's
// state, first looking up when the run it finishes started if heartbeat
// asks for that.
func evaluatePing(ctx context.Context, tx *store.Tx, c *nightjar.Check, r *PingRequest) (heartbeat.Outcome, error) {
	in, findRun := heartbeat.Classify(c, r.received())
	if findRun != "" {
		var at int64
		err := tx.QueryRowStmt(ctx, qRunStart, c.ID, findRun).Scan(&at)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return heartbeat.Outcome{}, fmt.Errorf("find start of run: %w", err)
		}
		in.RunStart = store.Time(at)
	}
	out := heartbeat.ApplyPing(c, in)
	c.UpdatedAt = r.At
	return out, nil
}

// lockChecks loads (and on PostgreSQL locks, in id order so concurrent
// batches cannot deadlock) the checks with the given ids; from the check
// cache where it holds them.
func (s *Service) lockChecks(ctx context.Context, tx *store.Tx, ids []string) (map[string]*nightjar.Check, error) {
	out := make(map[string]*nightjar.Check, len(ids))
	if !tx.Dialect().MultiRow() {
		for _, id := range ids {
			if s.cache != nil {
				if c := s.cache.get(id); c != nil {
					out[id] = c
					continue
				}
			}
			c, err := scanCheck(tx.QueryRowStmt(ctx, qCheckByID, id))
			if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, err
			}
			out[c.ID] = c
		}
		return out, nil
	}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		q := `SELECT ` + columns + ` FROM checks WHERE id IN (` + store.Placeholders(1, n) + `) ORDER BY id` + tx.Dialect().ForUpdate()
		found, err := store.QueryAll(ctx, tx, "load pinged checks", q, scanCheck, args...)
		if err != nil {
			return nil, err
		}
		for _, c := range found {
			out[c.ID] = c
		}
		ids = ids[n:]
	}
	return out, nil
}

const insertPingsPrefix = `INSERT INTO pings (check_id, n, kind, created_at, scheme, remote_addr, method, ua, rid, exit_status, duration_ms, body, metrics, note) VALUES `

// pingWidth is the number of columns of a ping row.
const pingWidth = 14

// writePingsAndStates inserts a batch's ping rows and saves its checks'
// states. On PostgreSQL a batch that fits one statement of each kind is
// written as one statement (the insert as a WITH clause of the update),
// which saves a round trip per batch.
func writePingsAndStates(ctx context.Context, tx *store.Tx, rows []any, checks []*nightjar.Check) error {
	if n := len(rows) / pingWidth; tx.Dialect().MultiRow() && n > 0 && n <= maxBatchRows && len(checks) > 0 && len(checks) <= maxBatchRows {
		update, sargs := saveStatesSQL(checks, len(rows)+1)
		q := `WITH inserted AS (` + insertPingsPrefix + store.Tuples(1, n, pingWidth, nil) + `) ` + update
		if _, err := tx.Exec(ctx, q, append(rows, sargs...)...); err != nil {
			return fmt.Errorf("record pings: %w", err)
		}
		return nil
	}
	if err := insertPings(ctx, tx, rows); err != nil {
		return fmt.Errorf("insert pings: %w", err)
	}
	return saveStates(ctx, tx, checks)
}

// insertPings inserts ping rows (pingWidth values each): one prepared
// statement per row on SQLite, multi-row statements in chunks that stay
// under PostgreSQL's parameter limit elsewhere.
func insertPings(ctx context.Context, tx *store.Tx, args []any) error {
	if !tx.Dialect().MultiRow() {
		for ; len(args) > 0; args = args[pingWidth:] {
			if _, err := tx.ExecStmt(ctx, qInsertPing, args[:pingWidth]...); err != nil {
				return err
			}
		}
		return nil
	}
	for len(args) > 0 {
		n := min(len(args)/pingWidth, maxBatchRows)
		if _, err := tx.Exec(ctx, insertPingsPrefix+store.Tuples(1, n, pingWidth, nil), args[:n*pingWidth]...); err != nil {
			return err
		}
		args = args[n*pingWidth:]
	}
	return nil
}

const pingColumns = `check_id, n, kind, created_at, scheme, remote_addr, method, ua, rid, exit_status, duration_ms, metrics, note`

// Pings returns a check's pings, newest first, without bodies.
func (s *Service) Pings(ctx context.Context, checkID string, limit int) ([]*nightjar.Ping, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return store.QueryAll(ctx, s.db, "list pings", `SELECT `+pingColumns+`, LENGTH(body), SUBSTR(body, 1, 200) FROM pings WHERE check_id = $1 ORDER BY n DESC LIMIT $2`, scanPingNoBody, checkID, limit)
}

// PingWithBody returns one ping of a check with its body.
func (s *Service) PingWithBody(ctx context.Context, checkID string, n int64) (*nightjar.Ping, error) {
	var body []byte
	p, err := scanPing(s.db.QueryRow(ctx, `SELECT `+pingColumns+`, body FROM pings WHERE check_id = $1 AND n = $2`, checkID, n), &body)
	if err != nil {
		return nil, err
	}
	p.Body = body
	return p, nil
}

// scanPing scans a ping row whose last columns are either the body's
// length and first bytes (body == nil) or the body itself.
func scanPing(row store.Row, body *[]byte) (*nightjar.Ping, error) {
	var p nightjar.Ping
	var at, dur int64
	var exit sql.NullInt64
	var metrics string
	var size int64
	var preview []byte
	dest := []any{&p.CheckID, &p.N, &p.Kind, &at, &p.Scheme, &p.RemoteAddr, &p.Method, &p.UA, &p.RID, &exit, &dur, &metrics, &p.Note}
	if body != nil {
		dest = append(dest, body)
	} else {
		dest = append(dest, &size, &preview)
	}
	err := row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "ping not found")
	} else if err != nil {
		return nil, fmt.Errorf("scan ping: %w", err)
	}
	p.CreatedAt, p.Duration = store.Time(at), store.Duration(dur)
	if exit.Valid {
		e := int(exit.Int64)
		p.ExitStatus = &e
	}
	if metrics != "" {
		if err := json.Unmarshal([]byte(metrics), &p.Metrics); err != nil {
			return nil, fmt.Errorf("decode metrics of ping %d: %w", p.N, err)
		}
	}
	if body != nil {
		p.BodySize = int64(len(*body))
	} else {
		p.BodySize = size
		p.BodyPreview = strings.ToValidUTF8(string(preview), "�")
	}
	return &p, nil
}

func scanPingNoBody(row store.Row) (*nightjar.Ping, error) { return scanPing(row, nil) }
