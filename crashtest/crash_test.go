package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nightjar-dev/nightjar/serverproc"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/store/storetest"
)

// Load shape: bounded in count (workers × maxPerWorker) and in time
// (killAfter), and the kill comes well before the count runs out, so
// pings are in flight when the server dies.
const (
	nChecks       = 4
	workers       = 16
	maxPerWorker  = 300
	killAfter     = 1500 * time.Millisecond
	killAfterAcks = 3000
	reqTimeout    = 5 * time.Second
)

func TestAcknowledgedPingsSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real server; skipped with -short")
	}
	bin := buildNightjar(t)
	t.Run("sqlite", func(t *testing.T) {
		runCrash(t, bin, backend{dataDir: filepath.Join(t.TempDir(), "data")})
	})
	t.Run("postgres", func(t *testing.T) {
		// Skips when no PostgreSQL answers, except in CI where it fails;
		// the schema is dropped after the test.
		runCrash(t, bin, backend{databaseURL: storetest.PostgresURL(t)})
	})
}

// backend is where the server keeps its data: a SQLite directory or a
// PostgreSQL URL.
type backend struct {
	dataDir     string
	databaseURL string
}

func runCrash(t *testing.T, bin string, be backend) {
	apiKey := "crashtest-" + serverproc.RandomHex(12)
	logDir := t.TempDir()

	srv := startServer(t, bin, be, apiKey, logDir)
	api := &client{t: t, base: srv.Base, key: apiKey, http: newHTTPClient(workers)}
	ids := make([]string, nChecks)
	for i := range ids {
		var out struct {
			UUID string `json:"uuid"`
		}
		api.mustDo(http.MethodPost, "/api/v3/checks/", map[string]any{"name": fmt.Sprintf("crash-%d", i), "timeout": 3600, "grace": 60}, &out)
		if out.UUID == "" {
			t.Fatal("created check has no uuid")
		}
		ids[i] = out.UUID
	}

	// Load: every worker pings one check with bodies "w<worker>-i<n>" and
	// records the bodies that were answered 200.
	var (
		mu         sync.Mutex
		acked      = map[string]string{} // body → check id
		nAcked     atomic.Int64
		killed     atomic.Bool
		afterKill  atomic.Int64 // requests that failed once the server was killed
		unexpected []string     // wrong answers while the server was up
		wg         sync.WaitGroup
	)
	pinger := newHTTPClient(workers)
	stop := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			check := ids[w%len(ids)]
			for i := range maxPerWorker {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf("w%d-i%d", w, i)
				status, err := post(pinger, srv.Base+"/ping/"+check, body)
				switch {
				case err == nil && status == http.StatusOK:
					mu.Lock()
					acked[body] = check
					mu.Unlock()
					nAcked.Add(1)
				case killed.Load():
					afterKill.Add(1)
					return // the server is gone
				default:
					mu.Lock()
					unexpected = append(unexpected, fmt.Sprintf("%s: status %d, err %v", body, status, err))
					mu.Unlock()
				}
			}
		}()
	}

	start := time.Now()
	for time.Since(start) < killAfter && nAcked.Load() < killAfterAcks {
		time.Sleep(5 * time.Millisecond)
	}
	killed.Store(true)
	if err := srv.Kill(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Since(start)
	close(stop)
	waitOrFail(t, &wg, 2*reqTimeout, "load goroutines did not stop after the kill")
	pinger.CloseIdleConnections()

	mu.Lock()
	if len(unexpected) > 0 {
		t.Errorf("%d pings got an unexpected answer before the kill, first: %s", len(unexpected), unexpected[0])
	}
	mu.Unlock()
	if len(acked) == 0 {
		t.Fatalf("no ping was acknowledged before the kill; the test proves nothing (server log:\n%s)", srv.LogTail(20))
	}

	// Restart on the same data and look for every acknowledged ping.
	srv2 := startServer(t, bin, be, apiKey, logDir)
	api.base = srv2.Base
	stored := map[string]int{} // body → times stored
	total := 0
	for _, id := range ids {
		var c struct {
			NPings int64 `json:"n_pings"`
		}
		api.mustDo(http.MethodGet, "/api/v1/checks/"+id, nil, &c)
		bodies := api.pingBodies(id, c.NPings)
		for _, b := range bodies {
			stored[b]++
		}
		total += len(bodies)
	}
	lost := 0
	for body, check := range acked {
		switch n := stored[body]; {
		case n == 0:
			lost++
			if lost <= 10 {
				t.Errorf("acknowledged ping %q to check %s is missing after the restart", body, check)
			}
		case n > 1:
			t.Errorf("ping %q is stored %d times", body, n)
		}
	}
	notAcked := 0
	for body := range stored {
		if _, ok := acked[body]; !ok {
			notAcked++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged pings were lost; server log before the kill:\n%s", lost, len(acked), srv.LogTail(20))
	}
	t.Logf("killed after %s: %d pings acknowledged, %d stored after the restart (%d committed but not acknowledged), %d requests cut off by the kill",
		killedAt.Round(time.Millisecond), len(acked), total, notAcked, afterKill.Load())

	// The restarted server takes pings again.
	if status, err := post(api.http, srv2.Base+"/ping/"+ids[0], "after-restart"); err != nil || status != http.StatusOK {
		t.Errorf("ping after restart: status %d, err %v", status, err)
	}
}

// startServer starts nightjar serve, keeping every ping, with the extra
// NAME=value settings, and waits until it is ready. It is killed when the
// test ends.
func startServer(t *testing.T, bin string, be backend, apiKey, logDir string, env ...string) *serverproc.Proc {
	t.Helper()
	p, err := serverproc.Start(serverproc.Options{Binary: bin, DataDir: be.dataDir, DatabaseURL: be.databaseURL,
		LogDir: logDir, APIKey: apiKey, Env: append([]string{"NIGHTJAR_PING_RETENTION=0"}, env...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Kill(10 * time.Second); err != nil {
			t.Error(err)
		}
	})
	if _, err := p.WaitReady(time.Now(), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	return p
}

// buildNightjar builds ./cmd/nightjar into a temporary directory.
func buildNightjar(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := serverproc.Build(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func newHTTPClient(conns int) *http.Client {
	return &http.Client{Timeout: reqTimeout, Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
	}}
}

// post sends one ping and returns the status once the answer was read.
func post(c *http.Client, url, body string) (int, error) {
	resp, err := c.Post(url, "text/plain", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

func waitOrFail(t *testing.T, wg *sync.WaitGroup, d time.Duration, msg string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatal(msg)
	}
}

// client calls the server's API with a key.
type client struct {
	t    *testing.T
	base string
	key  string
	http *http.Client
}

func (c *client) get(path string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Api-Key", c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

func (c *client) mustDo(method, path string, in, out any) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			c.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("X-Api-Key", c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		c.t.Fatalf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// pingBodies fetches the bodies of pings 1..n of a check (retention is
// off, so all of them exist), eight at a time.
func (c *client) pingBodies(checkID string, n int64) []string {
	c.t.Helper()
	bodies := make([]string, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= n {
					return
				}
				path := fmt.Sprintf("/api/v1/checks/%s/pings/%d/body", checkID, i+1)
				status, b, err := c.get(path)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("HTTP %d: %s", status, b)
				}
				if err != nil {
					errs[i] = fmt.Errorf("GET %s: %w", path, err)
					continue
				}
				bodies[i] = string(b)
			}
		}()
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		c.t.Fatalf("check %s counts %d pings but %d cannot be read, first:\n%v", checkID, n, len(failed), errors.Join(failed[:min(5, len(failed))]...))
	}
	return bodies
}
