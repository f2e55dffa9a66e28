package main

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/nightjar-dev/nightjar/serverproc"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/store"
	_ "modernc.org/sqlite" // SQLite driver, for the bulk load
)

// checkColumns are the columns the checks area writes for a check
// (checks/checks.go, columns and checkArgs), in the same order.
// bulkLoad refuses to run if the table has others.
var checkColumns = []string{"id", "project_id", "name", "slug", "tags", "description", "service", "kind",
	"timeout_ms", "grace_ms", "schedule", "tz", "early_tolerance_ms", "max_runtime_ms", "min_runtime_ms",
	"failure_threshold", "realert_ms", "methods", "manual_resume", "metric_rules", "status", "n_pings",
	"last_ping", "last_start", "last_start_rid", "last_duration_ms", "expected_at", "next_deadline",
	"consecutive_failures", "last_alert_at", "last_metrics", "created_at", "updated_at",
	"status_since", "status_reason", "settled_status"}

// defaultedColumns are columns of the checks table the bulk load leaves to
// their defaults (per-check channels and keyword filters: all off; no
// status badge).
var defaultedColumns = []string{"channels", "filter_body", "start_kw", "success_kw", "failure_kw",
	"filter_http_body", "filter_default_fail", "badge_key"}

var insertCheck = `INSERT INTO checks (` + strings.Join(checkColumns, ", ") + `) VALUES (` + placeholders(len(checkColumns)) + `)`

// scaleCheck is the little that varies between the checks of the scale
// database; everything else is a default simple check that was pinged
// once (status up, one ping, next deadline = expected time).
type scaleCheck struct {
	id, name         string
	timeout, grace   time.Duration
	lastPing, expect time.Time
	created          time.Time
}

func (c *scaleCheck) args(projectID string) []any {
	return []any{c.id, projectID, c.name, c.name, "[]", "", "", nightjar.KindSimple,
		c.timeout.Milliseconds(), c.grace.Milliseconds(), "", "UTC", nightjar.DefaultEarlyTolerance.Milliseconds(), int64(0), int64(0),
		1, int64(0), "", false, "[]", nightjar.StatusUp, int64(1),
		c.lastPing.UnixMilli(), int64(0), "", int64(0), c.expect.UnixMilli(), c.expect.UnixMilli(),
		0, int64(0), "", c.created.UnixMilli(), c.lastPing.UnixMilli(),
		c.lastPing.UnixMilli(), "", nightjar.StatusUp}
}

// probe is a check whose deadline falls during the run.
type probe struct {
	id       string
	deadline time.Time
	seenLate time.Time // when a poll first saw it late (or down)
	flipAt   time.Time // when the server recorded the flip to late
}

func runScale(ctx context.Context, w io.Writer, o *options) error {
	header(w, o, fmt.Sprintf("scale, %d checks on SQLite", o.scaleChecks))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute) // a hard bound on the whole run
	defer cancel()
	tmp, done, err := workDir(w, o, "nightjar-bench-scale-")
	if err != nil {
		return err
	}
	defer done()
	binary := o.binary
	if binary == "" {
		fmt.Fprintln(w, "building ./cmd/nightjar ...")
		if binary, err = serverproc.Build(ctx, tmp); err != nil {
			return err
		}
	}
	dataDir := filepath.Join(tmp, "data")
	dbPath := filepath.Join(dataDir, "nightjar.db") // where serve --data looks

	fmt.Fprintf(w, "writing %d checks and %d probes into a new database ...\n", o.scaleChecks, o.scaleProbes)
	t0 := time.Now()
	projectID, sample, err := bulkLoad(ctx, dbPath, o)
	if err != nil {
		return err
	}
	loadTook := time.Since(t0)
	probes, err := addProbes(ctx, dbPath, projectID, o)
	if err != nil {
		return err
	}
	dbSize := fileSize(dbPath)

	fmt.Fprintln(w, "starting nightjar serve on it ...")
	started := time.Now()
	p, err := serverproc.Start(serverproc.Options{Binary: binary, DataDir: dataDir, LogDir: tmp, APIKey: "bench-" + serverproc.RandomHex(12)})
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = p.Stop(15 * time.Second)
		}
	}()
	startup, err := p.WaitReady(started, 2*time.Minute)
	if err != nil {
		return err
	}
	memReady, err := readMem(p.Pid())
	if err != nil {
		return err
	}
	lateStart := probes[0].deadline.Before(time.Now())
	select {
	case <-time.After(o.scaleSettle):
	case <-ctx.Done():
		return ctx.Err()
	}
	memSettled, err := readMem(p.Pid())
	if err != nil {
		return err
	}
	api := newAPIClient(p)
	defer api.http.CloseIdleConnections()
	t1 := time.Now()
	if _, err := scrapeMetrics(ctx, api); err != nil {
		return err
	}
	scrape := time.Since(t1)

	// Pings at full load over the big checks from a second before the
	// first probe deadline until every probe went late, so the deadline
	// engine competes with ping writes as it would in production.
	fmt.Fprintln(w, "waiting for the probes' deadlines, under ping load ...")
	if d := time.Until(probes[0].deadline.Add(-time.Second)); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	stopLoad := make(chan struct{})
	lcfg := o.load
	lcfg.Warmup, lcfg.Requests, lcfg.Duration, lcfg.Stop = 0, 0, probeSpread+probeWait+2*time.Second, stopLoad
	type loadDone struct {
		res *loadResult
		err error
	}
	loadc := make(chan loadDone, 1)
	go func() {
		res, err := runLoad(ctx, lcfg, pingRequests(p.Base, sample))
		loadc <- loadDone{res, err}
	}()
	pollErr := pollProbes(ctx, api, probes)
	close(stopLoad)
	ld := <-loadc
	if pollErr != nil {
		return pollErr
	}
	if ld.err != nil {
		return fmt.Errorf("ping load: %w", ld.err)
	}
	if err := probeFlips(ctx, api, probes); err != nil {
		return err
	}
	memEnd, err := readMem(p.Pid())
	if err != nil {
		return err
	}
	t2 := time.Now()
	stopped = true
	if err := p.Stop(30 * time.Second); err != nil {
		return fmt.Errorf("%w; log:\n%s", err, p.LogTail(20))
	}
	shutdown := time.Since(t2)

	var seen, flipped []time.Duration
	missing := 0
	for _, pr := range probes {
		if pr.seenLate.IsZero() {
			missing++
			continue
		}
		seen = append(seen, pr.seenLate.Sub(pr.deadline))
		if !pr.flipAt.IsZero() {
			flipped = append(flipped, pr.flipAt.Sub(pr.deadline))
		}
	}
	slices.Sort(seen)
	slices.Sort(flipped)

	fmt.Fprintln(w)
	fmt.Fprintf(w, "database: %d checks + %d probes, %s on disk, written and synced in %s by bulk INSERT (not measured below).\n",
		o.scaleChecks, o.scaleProbes, mib(dbSize), loadTook.Round(100*time.Millisecond))
	fmt.Fprintf(w, "The checks' deadlines are spread over the hour starting %s from now; the probes' fall %s to %s after the write.\n\n",
		o.scaleSpreadIn, o.scaleLead, o.scaleLead+probeSpread)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(what, value, goal string, ok *bool) {
		v := ""
		if ok != nil {
			v = verdict(*ok)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", what, value, goal, v)
	}
	yes := func(b bool) *bool { return &b }
	fmt.Fprintln(tw, "measurement\tvalue\ttarget\t")
	row("start-up until /readyz 200", secs(startup), "<= "+secs(goalStartup), yes(startup <= goalStartup))
	row("server RSS after start-up", mib(memReady.RSS), "<= 1 GiB", yes(memReady.RSS <= goalRSS))
	row(fmt.Sprintf("server RSS %s later", o.scaleSettle), mib(memSettled.RSS), "<= 1 GiB", yes(memSettled.RSS <= goalRSS))
	row("server RSS at the end (peak)", fmt.Sprintf("%s (%s)", mib(memEnd.RSS), mib(memEnd.HWM)), "<= 1 GiB", yes(memEnd.HWM <= goalRSS))
	if len(seen) > 0 {
		worst := seen[len(seen)-1]
		row(fmt.Sprintf("deadline to late, polled every %s", pollEvery),
			fmt.Sprintf("p50 %s  p99 %s  max %s", secs(percentile(seen, 0.5)), secs(percentile(seen, 0.99)), secs(worst)),
			"<= "+secs(goalDeadlineLag), yes(worst <= goalDeadlineLag && missing == 0))
	}
	if len(flipped) > 0 {
		row("deadline to late, flip time stamp",
			fmt.Sprintf("p50 %s  p99 %s  max %s", secs(percentile(flipped, 0.5)), secs(percentile(flipped, 0.99)), secs(flipped[len(flipped)-1])), "", nil)
	}
	if missing > 0 {
		row("probes never late", fmt.Sprintf("%d of %d within %s", missing, len(probes), probeWait), "0", yes(false))
	}
	row("one /metrics scrape", secs(scrape), "", nil)
	row("shutdown after SIGTERM", secs(shutdown), "", nil)
	tw.Flush()
	if r := ld.res; r != nil {
		fmt.Fprintf(w, "\nping load while the probes fell due: %d conns over %d of the checks, %d requests, %.0f req/s, p50 %s, p99 %s, %d errors\n",
			o.load.Conns, len(sample), r.Total(), r.RPS(), ms(r.Percentile(0.5)), ms(r.Percentile(0.99)), r.Errors)
	}
	if lateStart {
		fmt.Fprintf(w, "\nnote: start-up outlasted --scale-lead; the first deadlines passed before the server was ready.\n")
	}
	var problems []string
	if missing > 0 {
		problems = append(problems, fmt.Sprintf("%d probe checks never went late", missing))
	}
	if r := ld.res; r != nil && r.Errors > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d pings failed, first: %s", r.Errors, r.Total(), r.FirstError))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s; server log:\n%s", strings.Join(problems, "; "), p.LogTail(20))
	}
	return nil
}

const (
	probeSpread = 2 * time.Second // probes' deadlines are spread over this
	pollEvery   = 50 * time.Millisecond
	probeWait   = 30 * time.Second // how long after its deadline a probe may take
)

// bulkLoad creates the database with the store (schema and project),
// then writes the checks straight into it with a prepared INSERT, which is
// much faster than the API. It returns the project's id and a sample of
// the checks' ids to ping.
func bulkLoad(ctx context.Context, dbPath string, o *options) (string, []string, error) {
	now := time.Now().Truncate(time.Millisecond)
	db, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		return "", nil, err
	}
	proj := &nightjar.Project{Name: "Default"}
	if err := projects.New(db).Create(ctx, proj, now); err != nil {
		db.Close()
		return "", nil, err
	}
	if err := db.Close(); err != nil {
		return "", nil, err
	}

	// Synchronous OFF only for this load: the file is checkpointed and
	// synced before the server opens it.
	raw, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=cache_size(-262144)")
	if err != nil {
		return "", nil, err
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	if err := sameColumns(ctx, raw); err != nil {
		return "", nil, err
	}

	// Ids in order and deadlines rising with them keep every index
	// append-only during the load; the server does not care.
	ids := make([]string, o.scaleChecks)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	sort.Strings(ids)
	const timeout, grace = 2 * time.Hour, time.Hour
	spreadStart := now.Add(o.scaleSpreadIn)
	step := time.Hour / time.Duration(o.scaleChecks)
	created := now.Add(-3 * time.Hour)
	const perTx = 50_000
	for from := 0; from < len(ids); from += perTx {
		if err := ctx.Err(); err != nil {
			return "", nil, err
		}
		to := min(from+perTx, len(ids))
		err := inTx(ctx, raw, insertCheck, func(stmt *sql.Stmt) error {
			for i := from; i < to; i++ {
				expect := spreadStart.Add(time.Duration(i) * step).Truncate(time.Millisecond)
				c := scaleCheck{id: ids[i], name: fmt.Sprintf("scale-%07d", i), timeout: timeout, grace: grace,
					lastPing: expect.Add(-timeout), expect: expect, created: created.Add(time.Duration(i) * time.Millisecond)}
				if _, err := stmt.ExecContext(ctx, c.args(proj.ID)...); err != nil {
					return fmt.Errorf("insert check %d: %w", i, err)
				}
			}
			return nil
		})
		if err != nil {
			return "", nil, err
		}
	}

	if _, err := raw.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return "", nil, fmt.Errorf("checkpoint: %w", err)
	}
	if err := raw.Close(); err != nil {
		return "", nil, err
	}
	// The load wrote without syncing; put it on disk now, or the server's
	// first sync would have to write the whole file during the run.
	if err := syncFile(dbPath); err != nil {
		return "", nil, err
	}
	sample := make([]string, min(len(ids), 10_000))
	for i := range sample {
		sample[i] = ids[rand.IntN(len(ids))]
	}
	return proj.ID, sample, nil
}

// addProbes writes the probes, durably: checks with the minimum timeout
// and grace, pinged a timeout before their deadline, which falls
// --scale-lead from now.
func addProbes(ctx context.Context, dbPath, projectID string, o *options) ([]*probe, error) {
	raw, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	now := time.Now().Truncate(time.Millisecond)
	base := now.Add(o.scaleLead)
	probes := make([]*probe, o.scaleProbes)
	err = inTx(ctx, raw, insertCheck, func(stmt *sql.Stmt) error {
		for i := range probes {
			d := base.Add(probeSpread * time.Duration(i) / time.Duration(len(probes))).Truncate(time.Millisecond)
			probes[i] = &probe{id: uuid.NewString(), deadline: d}
			c := scaleCheck{id: probes[i].id, name: fmt.Sprintf("probe-%04d", i), timeout: nightjar.MinTimeout, grace: nightjar.MinGrace,
				lastPing: d.Add(-nightjar.MinTimeout), expect: d, created: now}
			if _, err := stmt.ExecContext(ctx, c.args(projectID)...); err != nil {
				return fmt.Errorf("insert probe %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, err := raw.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return probes, raw.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}

func inTx(ctx context.Context, db *sql.DB, query string, fn func(*sql.Stmt) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	if err := fn(stmt); err != nil {
		return err
	}
	return tx.Commit()
}

func placeholders(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", i+1)
	}
	return b.String()
}

// sameColumns makes sure the checks table has exactly checkColumns, so a
// schema change breaks the bulk load loudly instead of silently.
func sameColumns(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info('checks')`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var have []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		have = append(have, n)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	want := append(slices.Clone(checkColumns), defaultedColumns...)
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		return fmt.Errorf("the checks table changed; update checkColumns in cmd/nightjar-bench/scale.go (have %v)", have)
	}
	return nil
}

// pollProbes asks for each probe's status every pollEvery from shortly
// before its deadline until it is late, and notes when it first was.
func pollProbes(ctx context.Context, api *apiClient, probes []*probe) error {
	last := probes[len(probes)-1].deadline
	stopAt := last.Add(probeWait)
	first := probes[0].deadline.Add(-200 * time.Millisecond)
	if d := time.Until(first); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for time.Now().Before(stopAt) {
		round := time.Now()
		var due []*probe
		for _, pr := range probes {
			if pr.seenLate.IsZero() && !round.Before(pr.deadline.Add(-200*time.Millisecond)) {
				due = append(due, pr)
			}
		}
		pending := 0
		for _, pr := range probes {
			if pr.seenLate.IsZero() {
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		if err := forEach(ctx, due, 4, func(pr *probe) error {
			var c struct {
				Status string `json:"status"`
			}
			if err := api.do(ctx, http.MethodGet, "/api/v1/checks/"+pr.id, nil, &c); err != nil {
				return err
			}
			if c.Status == nightjar.StatusLate || c.Status == nightjar.StatusDown {
				pr.seenLate = time.Now()
			}
			return nil
		}); err != nil {
			return err
		}
		select {
		case <-time.After(time.Until(round.Add(pollEvery))):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// probeFlips reads when the server recorded each probe's flip to late.
func probeFlips(ctx context.Context, api *apiClient, probes []*probe) error {
	return forEach(ctx, probes, 4, func(pr *probe) error {
		var out struct {
			Flips []nightjar.Flip `json:"flips"`
		}
		if err := api.do(ctx, http.MethodGet, "/api/v1/checks/"+pr.id+"/flips", nil, &out); err != nil {
			return err
		}
		for _, f := range out.Flips {
			if f.To == nightjar.StatusLate {
				pr.flipAt = f.CreatedAt
			}
		}
		return nil
	})
}

// forEach runs fn on every item with n goroutines and returns the first
// error.
func forEach[T any](ctx context.Context, items []T, n int, fn func(T) error) error {
	ch := make(chan T)
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				if err := fn(it); err != nil {
					errc <- err
					for range ch { // drain so the sender finishes
					}
					return
				}
			}
		}()
	}
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		ch <- it
	}
	close(ch)
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	return ctx.Err()
}

func fileSize(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func secs(d time.Duration) string {
	return fmt.Sprintf("%.2fs", d.Seconds())
}
