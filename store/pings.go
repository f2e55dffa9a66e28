package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/heartbeat"
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
// cannot fail the others.
func (db *DB) RecordPings(ctx context.Context, reqs []*PingRequest, keep int64) []PingResult {
	results := make([]PingResult, len(reqs))
	err := db.recordBatchTx(ctx, reqs, keep, results)
	if err == nil || len(reqs) == 1 {
		if err != nil {
			results[0] = PingResult{Err: err}
		}
		return results
	}
	db.log.Warn("ping batch failed; recording one by one", "pings", len(reqs), "err", err)
	for i, r := range reqs {
		if err := db.recordBatchTx(ctx, []*PingRequest{r}, keep, results[i:i+1]); err != nil {
			results[i] = PingResult{Err: err}
		}
	}
	return results
}

// recordBatchTx records a batch in a transaction of its own and, on
// SQLite, tells the check cache what the committed batch wrote.
func (db *DB) recordBatchTx(ctx context.Context, reqs []*PingRequest, keep int64, results []PingResult) error {
	var w batchWrites
	err := db.WithTx(ctx, func(tx *Tx) error {
		return tx.recordBatch(ctx, reqs, keep, results, &w)
	})
	if db.cache != nil {
		if err != nil {
			db.cache.reset()
		} else {
			db.cache.commit(w.from, w.to, w.checks)
		}
	}
	return err
}

// batchWrites is what a batch tells the check cache: the writer's marks
// before and after it, and the checks whose state it saved.
type batchWrites struct {
	from, to cacheMark
	checks   []*nightjar.Check
}

func (tx *Tx) resolvePingTarget(ctx context.Context, r *PingRequest) (*nightjar.Check, bool, error) {
	if r.CheckID != "" {
		c, err := scanCheck(tx.queryRow(ctx, qCheckByID+tx.db.dialect.forUpdate, r.CheckID))
		return c, false, err
	}
	var projectID string
	err := tx.queryRow(ctx, qProjectByPingKey, r.PingKey).Scan(&projectID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nightjar.Errorf(nightjar.ENOTFOUND, "not found")
	} else if err != nil {
		return nil, false, fmt.Errorf("find project by ping key: %w", err)
	}
	found, err := queryAll(ctx, tx, "find check by slug", qChecksBySlug+tx.db.dialect.forUpdate, scanCheck, projectID, r.Slug)
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
	if err := tx.CreateCheck(ctx, c, r.At); err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// recordBatch records pings in the transaction with a few multi-row
// statements: one to load and lock the checks pinged by UUID, one to insert
// the pings and one to save the checks' new states, however many pings the
// batch holds. Errors that concern one ping (unknown check, ambiguous slug)
// go to that ping's result; any other error fails the batch.
func (tx *Tx) recordBatch(ctx context.Context, reqs []*PingRequest, keep int64, results []PingResult, w *batchWrites) error {
	cache := tx.db.cache
	if cache != nil {
		m, err := tx.readMark(ctx)
		if err != nil {
			return err
		}
		cache.begin(m)
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
	checks, err := tx.lockChecks(ctx, ids)
	if err != nil {
		return err
	}
	var dirty []*nightjar.Check
	isDirty := map[string]bool{}
	rows := make([]any, 0, len(reqs)*pingWidth)
	for i, r := range reqs {
		c, created, err := tx.pingTarget(ctx, r, checks)
		if err != nil {
			if nightjar.ErrorCode(err) == nightjar.EINTERNAL {
				return err
			}
			results[i] = PingResult{Err: err}
			continue
		}
		out, err := tx.applyPing(ctx, c, r)
		if err != nil {
			return err
		}
		var exit any
		if r.ExitStatus != nil {
			exit = *r.ExitStatus
		}
		metrics := ""
		if len(r.Metrics) > 0 {
			metrics = jsonText(r.Metrics)
		}
		body := r.Body
		if body == nil {
			body = []byte{}
		}
		rows = append(rows, c.ID, c.State.NPings, out.Kind, ms(r.At), r.Scheme, r.RemoteAddr, r.Method, r.UA, r.RID, exit,
			dms(out.Duration), body, metrics, out.Note)
		if keep > 0 && c.State.NPings > keep && c.State.NPings%50 == 0 {
			if _, err := tx.exec(ctx, qPrunePings, c.ID, c.State.NPings-keep); err != nil {
				return fmt.Errorf("prune pings: %w", err)
			}
		}
		if !isDirty[c.ID] {
			isDirty[c.ID] = true
			dirty = append(dirty, c)
		}
		if err := tx.recordOutcome(ctx, c, out, r.At); err != nil {
			return err
		}
		results[i] = PingResult{CheckID: c.ID, Created: created}
	}
	if err := tx.writePingsAndStates(ctx, rows, dirty); err != nil {
		return err
	}
	if cache != nil {
		m, err := tx.readMark(ctx)
		if err != nil {
			return err
		}
		w.to, w.checks = m, dirty
	}
	return nil
}

// pingTarget finds the check a ping is for among the checks already
// locked, or resolves its slug (creating the check for ?create=1).
func (tx *Tx) pingTarget(ctx context.Context, r *PingRequest, checks map[string]*nightjar.Check) (*nightjar.Check, bool, error) {
	if r.CheckID != "" {
		if c, ok := checks[r.CheckID]; ok {
			return c, false, nil
		}
		return nil, false, nightjar.Errorf(nightjar.ENOTFOUND, "not found")
	}
	c, created, err := tx.resolvePingTarget(ctx, r)
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

// applyPing runs the state machine for one ping, first finding when the
// run it finishes started.
func (tx *Tx) applyPing(ctx context.Context, c *nightjar.Check, r *PingRequest) (heartbeat.Outcome, error) {
	// As in Healthchecks, the method rule comes before the body's keywords.
	kind, note := r.Kind, ""
	if c.Methods == "POST" && r.Method != "POST" {
		kind, note = nightjar.PingIgnored, "only POST pings count for this check"
	} else {
		kind, note = heartbeat.ClassifyBody(c, kind, kind == nightjar.PingSuccess && r.ExitStatus == nil, r.Body)
	}
	in := heartbeat.PingInput{Kind: kind, At: r.At, RID: r.RID, ExitStatus: r.ExitStatus, Metrics: r.Metrics}
	if r.RID != "" && (kind == nightjar.PingSuccess || kind == nightjar.PingFail) {
		if r.RID == c.State.LastStartRID {
			in.RunStart = c.State.LastStart
		} else {
			var at int64
			err := tx.queryRow(ctx, qRunStart, c.ID, r.RID).Scan(&at)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return heartbeat.Outcome{}, fmt.Errorf("find start of run: %w", err)
			}
			in.RunStart = tm(at)
		}
	}
	out := heartbeat.ApplyPing(c, in)
	if out.Note == "" {
		out.Note = note
	}
	c.UpdatedAt = r.At
	return out, nil
}

// lockChecks loads (and on PostgreSQL locks, in id order so concurrent
// batches cannot deadlock) the checks with the given ids; on SQLite from
// the check cache where it holds them.
func (tx *Tx) lockChecks(ctx context.Context, ids []string) (map[string]*nightjar.Check, error) {
	out := make(map[string]*nightjar.Check, len(ids))
	if !tx.db.dialect.multiRow {
		for _, id := range ids {
			if tx.db.cache != nil {
				if c := tx.db.cache.get(id); c != nil {
					out[id] = c
					continue
				}
			}
			c, err := scanCheck(tx.queryRow(ctx, qCheckByID+tx.db.dialect.forUpdate, id))
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
		q := `SELECT ` + checkColumns + ` FROM checks WHERE id IN (` + placeholders(1, n) + `) ORDER BY id` + tx.db.dialect.forUpdate
		found, err := queryAll(ctx, tx, "load pinged checks", q, scanCheck, args...)
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

// qInsertPing inserts one ping: the prepared statement SQLite uses per row.
var qInsertPing = insertPingsPrefix + tuples(1, 1, pingWidth, nil)

// writePingsAndStates inserts a batch's ping rows and saves its checks'
// states. On PostgreSQL a batch that fits one statement of each kind is
// written as one statement (the insert as a WITH clause of the update),
// which saves a round trip per batch.
func (tx *Tx) writePingsAndStates(ctx context.Context, rows []any, checks []*nightjar.Check) error {
	if n := len(rows) / pingWidth; tx.db.dialect.multiRow && n > 0 && n <= maxBatchRows && len(checks) > 0 && len(checks) <= maxBatchRows {
		update, sargs := saveStatesSQL(checks, len(rows)+1)
		q := `WITH inserted AS (` + insertPingsPrefix + tuples(1, n, pingWidth, nil) + `) ` + update
		if _, err := tx.exec(ctx, q, append(rows, sargs...)...); err != nil {
			return fmt.Errorf("record pings: %w", err)
		}
		return nil
	}
	if err := tx.insertPings(ctx, rows); err != nil {
		return fmt.Errorf("insert pings: %w", err)
	}
	return tx.saveStates(ctx, checks)
}

// insertPings inserts ping rows (pingWidth values each): one prepared
// statement per row on SQLite, multi-row statements in chunks that stay
// under PostgreSQL's parameter limit elsewhere.
func (tx *Tx) insertPings(ctx context.Context, args []any) error {
	if !tx.db.dialect.multiRow {
		for ; len(args) > 0; args = args[pingWidth:] {
			if _, err := tx.exec(ctx, qInsertPing, args[:pingWidth]...); err != nil {
				return err
			}
		}
		return nil
	}
	for len(args) > 0 {
		n := min(len(args)/pingWidth, maxBatchRows)
		if _, err := tx.exec(ctx, insertPingsPrefix+tuples(1, n, pingWidth, nil), args[:n*pingWidth]...); err != nil {
			return err
		}
		args = args[n*pingWidth:]
	}
	return nil
}

// tuples renders n tuples of width placeholders numbered from first, each
// wrapped in a CAST to the type in casts when casts is given (PostgreSQL
// cannot infer the types of parameters in a VALUES list that is not an
// INSERT's).
func tuples(first, n, width int, casts []string) string {
	var b strings.Builder
	p := first
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := 0; j < width; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			if casts != nil {
				fmt.Fprintf(&b, "CAST($%d AS %s)", p, casts[j])
			} else {
				fmt.Fprintf(&b, "$%d", p)
			}
			p++
		}
		b.WriteByte(')')
	}
	return b.String()
}

const pingColumns = `check_id, n, kind, created_at, scheme, remote_addr, method, ua, rid, exit_status, duration_ms, metrics, note`

// Pings returns a check's pings, newest first, without bodies.
func (db *DB) Pings(ctx context.Context, checkID string, limit int) ([]*nightjar.Ping, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return queryAll(ctx, db.r, "list pings", `SELECT `+pingColumns+`, LENGTH(body), SUBSTR(body, 1, 200) FROM pings WHERE check_id = $1 ORDER BY n DESC LIMIT $2`, scanPingNoBody, checkID, limit)
}

// PingWithBody returns one ping of a check with its body.
func (db *DB) PingWithBody(ctx context.Context, checkID string, n int64) (*nightjar.Ping, error) {
	var body []byte
	p, err := scanPing(db.r.QueryRowContext(ctx, `SELECT `+pingColumns+`, body FROM pings WHERE check_id = $1 AND n = $2`, checkID, n), &body)
	if err != nil {
		return nil, err
	}
	p.Body = body
	return p, nil
}

// scanPing scans a ping row whose last columns are either the body's
// length and first bytes (body == nil) or the body itself.
func scanPing(row rowScanner, body *[]byte) (*nightjar.Ping, error) {
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
	p.CreatedAt, p.Duration = tm(at), tdur(dur)
	if exit.Valid {
		e := int(exit.Int64)
		p.ExitStatus = &e
	}
	if metrics != "" {
		if err := jsonUnmarshal(metrics, &p.Metrics); err != nil {
			return nil, err
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

func scanPingNoBody(row rowScanner) (*nightjar.Ping, error) { return scanPing(row, nil) }
