package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/nightjar-dev/nightjar/serverproc"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
)

// target is one server under test and one row of the table.
type target struct {
	name  string
	goal  float64    // minimum share of the bare server's req/s; 0 for none
	mk    newRequest // nil when the target could not be set up
	proc  *serverproc.Proc
	pid   int // the bare server's process, when it has its own
	api   *apiClient
	setup time.Duration // creating the checks

	rounds []*loadResult
	mem    memInfo        // server memory after the rounds, when measured
	srv    *serverMetrics // the server's own view, when scraped
	err    error
	skip   string
}

// merged is every round of the target as one result.
func (t *target) merged() *loadResult {
	m := &loadResult{Statuses: map[int]int64{}}
	for _, r := range t.rounds {
		m.add(r.OK, r.Errors, r.Latencies, r.Statuses, r.FirstError)
		m.Elapsed += r.Elapsed
	}
	slices.Sort(m.Latencies)
	return m
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (t *target) rps() []float64 {
	out := make([]float64, len(t.rounds))
	for i, r := range t.rounds {
		out[i] = r.RPS()
	}
	return out
}

// ratios are the target's req/s over the bare server's, round by round:
// the two ran seconds apart, so a busy moment of the machine weighs on
// both.
func (t *target) ratios(bare *target) []float64 {
	var out []float64
	for i, r := range t.rounds {
		if i < len(bare.rounds) && bare.rounds[i].RPS() > 0 {
			out = append(out, r.RPS()/bare.rounds[i].RPS())
		}
	}
	return out
}

// workDir makes the run's temporary directory; done removes it unless
// --keep asked to keep it, which is said on w.
func workDir(w io.Writer, o *options, prefix string) (dir string, done func(), err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	if o.keep {
		fmt.Fprintf(w, "keeping %s\n", dir)
		return dir, func() {}, nil
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

func runBench(ctx context.Context, w io.Writer, o *options) error {
	header(w, o, "ping throughput, nightjar serve against a bare net/http server")
	tmp, done, err := workDir(w, o, "nightjar-bench-")
	if err != nil {
		return err
	}
	defer done()

	bare := &target{name: "bare net/http"}
	stopBare, err := startBare(bare, o)
	if err != nil {
		return err
	}
	defer stopBare()

	binary := o.binary
	if binary == "" {
		fmt.Fprintln(w, "building ./cmd/nightjar ...")
		if binary, err = serverproc.Build(ctx, tmp); err != nil {
			return err
		}
	}

	sq := &target{name: "nightjar sqlite", goal: goalSQLiteRatio}
	fmt.Fprintf(w, "starting %s and creating %d checks ...\n", sq.name, o.checks)
	if dir, err := os.MkdirTemp(tmp, "sqlite-"); err != nil {
		sq.err = err
	} else {
		setupNightjar(ctx, o, binary, dir, "", tmp, sq)
	}
	defer stopNightjar(sq)

	pg := &target{name: "nightjar postgres", goal: goalPostgresRatio}
	if o.postgres == "" || o.postgres == "off" {
		pg.skip = "skipped (--postgres off)"
	} else {
		dsn, drop, err := postgresSchema(ctx, o.postgres)
		if err != nil {
			pg.skip = "skipped: " + err.Error()
		} else {
			defer func() {
				if err := drop(); err != nil {
					fmt.Fprintf(w, "warning: %v\n", err)
				}
			}()
			fmt.Fprintf(w, "starting %s and creating %d checks ...\n", pg.name, o.checks)
			setupNightjar(ctx, o, binary, "", dsn, tmp, pg)
			defer stopNightjar(pg)
		}
	}
	targets := []*target{bare, sq, pg}
	if err := runRounds(ctx, w, o, targets, 1, "req/s"); err != nil {
		return err
	}
	if bare.pid != 0 {
		if m, err := readMem(bare.pid); err == nil {
			bare.mem = m
		}
	}
	for _, t := range targets {
		if t.proc == nil || t.err != nil {
			continue
		}
		if m, err := readMem(t.proc.Pid()); err == nil {
			t.mem = m
		}
		if m, err := scrapeMetrics(ctx, t.api); err == nil {
			t.srv = m
		}
		if t.merged().Errors > 0 {
			t.err = fmt.Errorf("server log:\n%s", t.proc.LogTail(10))
		}
	}

	fmt.Fprintln(w)
	printTable(w, o, targets)
	return failures(targets)
}

// failures is every target's failed requests and set-up error as one
// error, or nil when everything worked.
func failures(targets []*target) error {
	var failed []string
	for _, t := range targets {
		m := t.merged()
		if m.Errors > 0 {
			failed = append(failed, fmt.Sprintf("%s: %d of %d requests failed; first: %s (statuses %v)", t.name, m.Errors, m.Total(), m.FirstError, m.Statuses))
		}
		if t.err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", t.name, t.err))
		}
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "\n"))
	}
	return nil
}

// runRounds runs o.rounds measured phases of every target that is set
// up, interleaved, so that a busy moment of the machine weighs on all of
// them, and prints each phase's rate: requests/s times perRequest, in
// unit, and its share of the first target's (the yardstick's) rate.
func runRounds(ctx context.Context, w io.Writer, o *options, targets []*target, perRequest float64, unit string) error {
	base := targets[0]
	for round := range o.rounds {
		fmt.Fprintf(w, "round %d:", round+1)
		for _, t := range targets {
			if t.mk == nil || t.err != nil {
				continue
			}
			res, err := runLoad(ctx, o.load, t.mk)
			if err != nil {
				return err // interrupted
			}
			t.rounds = append(t.rounds, res)
			fmt.Fprintf(w, "  %s %.0f %s", t.name, res.RPS()*perRequest, unit)
			if res.Errors > 0 {
				fmt.Fprintf(w, " (%d errors)", res.Errors)
			}
			if t != base && len(base.rounds) > round && base.rounds[round].RPS() > 0 {
				fmt.Fprintf(w, " (%.0f%%)", 100*res.RPS()/base.rounds[round].RPS())
			}
		}
		fmt.Fprintln(w)
	}
	return nil
}

// pingRequests returns a request maker that POSTs a small body to
// base/ping/<uuid>, going round the given checks.
func pingRequests(base string, ids []string) newRequest {
	urls := make([]string, len(ids))
	for i, id := range ids {
		urls[i] = base + "/ping/" + id
	}
	const body = "nightjar-bench ping"
	return func(ctx context.Context, i int64) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, urls[i%int64(len(urls))], strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "text/plain")
		return req, nil
	}
}

// bareHandler answers 200 "OK" to everything, reading the body first: the
// least a Go HTTP server does for a ping on this machine.
var bareHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("OK"))
})

// bareServeEnv makes this program a bare server instead of a benchmark:
// how startBare runs the yardstick in a process of its own.
const bareServeEnv = "NIGHTJAR_BENCH_BARE_SERVE"

// serveBare runs the bare server on a free loopback port, prints its
// address and serves until standard input closes (the benchmark ended or
// died).
func serveBare() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	return (&http.Server{Handler: bareHandler, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
}

// startBare starts the bare server, driven with the same requests as
// Nightjar. By default it runs as a process of its own, as nightjar serve
// does, so both pay the same for crossing between processes; with
// --bare-in-process it shares the load generator's process and Go
// scheduler, which makes it faster on a 2-core machine.
func startBare(t *target, o *options) (stop func(), err error) {
	ids := make([]string, o.checks)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	if o.bareInProcess {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		srv := &http.Server{Handler: bareHandler, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.mk = pingRequests("http://"+ln.Addr().String(), ids)
		return func() { _ = srv.Close() }, nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), bareServeEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start bare server: %w", err)
	}
	stop = func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return nil, fmt.Errorf("bare server did not say its address: %w", err)
	}
	t.pid = cmd.Process.Pid
	t.mk = pingRequests("http://"+strings.TrimSpace(addr), ids)
	return stop, nil
}

// setupNightjar starts nightjar serve (SQLite in dataDir, or PostgreSQL
// at dsn) and creates the checks the pings go to.
func setupNightjar(ctx context.Context, o *options, binary, dataDir, dsn, logDir string, t *target) {
	p := startNightjar(binary, dataDir, dsn, logDir, t)
	if p == nil {
		return
	}
	t0 := time.Now()
	ids, err := t.api.createChecks(ctx, o.checks, o.schedule, o.tz)
	if err != nil {
		t.err = fmt.Errorf("create checks: %w", err)
		return
	}
	t.setup = time.Since(t0)
	t.mk = pingRequests(p.Base, ids)
}

// startNightjar starts nightjar serve for t (SQLite in dataDir, or
// PostgreSQL at dsn) with extra environment settings, and waits until it
// is ready; on failure it returns nil with t.err set.
func startNightjar(binary, dataDir, dsn, logDir string, t *target, env ...string) *serverproc.Proc {
	started := time.Now()
	p, err := serverproc.Start(serverproc.Options{Binary: binary, DataDir: dataDir, DatabaseURL: dsn, LogDir: logDir,
		APIKey: "bench-" + serverproc.RandomHex(12), Env: env})
	if err != nil {
		t.err = err
		return nil
	}
	t.proc = p
	if _, err := p.WaitReady(started, 60*time.Second); err != nil {
		t.err = err
		return nil
	}
	t.api = newAPIClient(p)
	return p
}

func stopNightjar(t *target) {
	if t.api != nil {
		t.api.http.CloseIdleConnections()
	}
	if t.proc == nil {
		return
	}
	if err := t.proc.Stop(15 * time.Second); err != nil && t.err == nil {
		fmt.Fprintf(os.Stderr, "nightjar-bench: %s: %v\n", t.name, err)
	}
}

// postgresSchema makes a fresh schema on the server at base and returns a
// URL that uses it, and a function that drops it.
func postgresSchema(ctx context.Context, base string) (string, func() error, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("--postgres: %w", err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := admin.PingContext(pctx); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("PostgreSQL not reachable at %s: %v", u.Redacted(), err)
	}
	schema := "nj_bench_" + serverproc.RandomHex(6)
	if _, err := admin.ExecContext(pctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create schema: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() error {
		defer admin.Close()
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(dctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %v", schema, err)
		}
		return nil
	}
	return u.String(), drop, nil
}

// splitMeasured returns the targets that have measured rounds, and a note
// on each of the others saying why it has none.
func splitMeasured(targets []*target) ([]*target, []string) {
	var measured []*target
	var notes []string
	for _, t := range targets {
		switch {
		case t.skip != "":
			notes = append(notes, fmt.Sprintf("%s: %s", t.name, t.skip))
		case len(t.rounds) == 0:
			notes = append(notes, fmt.Sprintf("%s: failed: %v", t.name, t.err))
		default:
			measured = append(measured, t)
		}
	}
	return measured, notes
}

func printTable(w io.Writer, o *options, targets []*target) {
	bare := targets[0]
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-18s\trequests\terrors\treq/s\t(min-max)\tp50\tp99\tmax\tvs bare\tserver RSS\t\n", "target")
	measured, notes := splitMeasured(targets)
	for _, t := range measured {
		m := t.merged()
		rps := t.rps()
		ratio := "-"
		if t != bare && len(bare.rounds) > 0 {
			ratio = fmt.Sprintf("%.1f%%", 100*median(t.ratios(bare)))
		}
		rss := "-"
		if t.mem.RSS > 0 {
			rss = mib(t.mem.RSS)
		}
		fmt.Fprintf(tw, "%-18s\t%d\t%d\t%.0f\t(%.0f-%.0f)\t%s\t%s\t%s\t%s\t%s\t\n", t.name, m.Total(), m.Errors, median(rps),
			slices.Min(rps), slices.Max(rps), ms(m.Percentile(0.50)), ms(m.Percentile(0.99)), ms(m.Max()), ratio, rss)
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintf(w, "req/s is the median of the rounds, \"vs bare\" the median of the round-by-round ratios;\nlatencies are over every request of every round.\n")
	if rps := bare.rps(); len(rps) > 1 && slices.Min(rps) > 0 && slices.Max(rps)/slices.Min(rps) > 1.3 {
		fmt.Fprintf(w, "note: the bare server's req/s varied from %.0f to %.0f between rounds, so something else was using the CPUs;\n"+
			"      the medians damp that, more --rounds damp it further.\n", slices.Min(rps), slices.Max(rps))
	}

	fmt.Fprintf(w, "\nissue targets (at %d connections):\n", o.load.Conns)
	for _, t := range targets[1:] {
		if len(t.rounds) == 0 {
			continue
		}
		if len(bare.rounds) > 0 {
			share := median(t.ratios(bare))
			fmt.Fprintf(w, "  %-18s req/s >= %2.0f%% of bare: %8.1f%%   %s\n", t.name, 100*t.goal, 100*share, verdict(share >= t.goal))
		}
		p99 := t.merged().Percentile(0.99)
		fmt.Fprintf(w, "  %-18s p99 <= %s:      %9s   %s\n", t.name, ms(goalP99), ms(p99), verdict(p99 <= goalP99))
	}

	fmt.Fprintln(w, "\nserver side (from its /metrics, warm-ups included):")
	for _, t := range targets[1:] {
		if m := t.srv; m != nil && m.batches > 0 && m.ingestCount > 0 {
			fmt.Fprintf(w, "  %-18s %d pings in %d commits, %.1f pings per commit; receipt to commit mean %s\n",
				t.name, int64(m.batchPings), int64(m.batches), m.batchPings/m.batches, ms(time.Duration(m.ingestSum/m.ingestCount*float64(time.Second))))
		}
		if t.setup > 0 {
			fmt.Fprintf(w, "  %-18s created %d checks through the API in %s\n", t.name, o.checks, t.setup.Round(time.Millisecond))
		}
	}
	where := "in a process of its own, as nightjar serve does"
	if o.bareInProcess {
		where = "inside the benchmark process (--bare-in-process)"
	}
	fmt.Fprintf(w, "\nThe load generator and the servers share this machine's CPUs; the bare server runs %s.\n", where)
}
