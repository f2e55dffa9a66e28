package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/password"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

func TestMain(m *testing.M) {
	// Production's password cost is tested in the password package.
	passwords = password.New(password.TestCost, 0)
	os.Exit(m.Run())
}

// runCLI runs the nightjar command line in-process.
func runCLI(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errb.String(), err
}

// server is a running `nightjar serve`.
type server struct {
	base, key string
	stdout    *bytes.Buffer
	stop      func()
}

const testKey = "test-key-0123456789abcdef"

func startServer(t *testing.T, cfg *config.Config) *server {
	t.Helper()
	return startServerWith(t, cfg, serveOptions{})
}

// startServerWith starts serve with opts; its output and readiness are the
// test's. It waits for serve to be ready or to fail however long that
// takes on a busy machine; a serve that hangs is stopped by go test's
// -timeout, with every goroutine's stack.
func startServerWith(t *testing.T, cfg *config.Config, opts serveOptions) *server {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	cfg.BootstrapAPIKey = testKey
	cfg.LogLevel = "warn"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	out := &bytes.Buffer{}
	opts.stdout, opts.stderr, opts.ready = out, io.Discard, ready
	go func() { done <- serve(ctx, cfg, opts) }()
	select {
	case addr := <-ready:
		s := &server{base: "http://" + addr, key: testKey, stdout: out}
		var stopped bool
		s.stop = func() {
			if stopped {
				return
			}
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
		t.Cleanup(s.stop)
		return s
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	return nil
}

func (s *server) api(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	req.Header.Set("X-Api-Key", s.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 || json.Unmarshal(b, &m) != nil {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return m
}

func TestServeBootstrapAndRestart(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			cfg := config.Default()
			cfg.DataDir = t.TempDir()
			if dialect == "postgres" {
				cfg.DatabaseURL = config.Secret(storetest.PostgresURL(t))
			}
			s := startServer(t, cfg)
			out := s.stdout.String()
			for _, want := range []string{"Admin login:   admin@localhost", "Password:", "Ping key:"} {
				if !strings.Contains(out, want) {
					t.Fatalf("first start output lacks %q:\n%s", want, out)
				}
			}
			c := s.api(t, "POST", "/api/v3/checks/", map[string]any{"name": "job"})
			s.stop()
			s2 := startServer(t, cfg)
			if strings.Contains(s2.stdout.String(), "Password:") {
				t.Fatal("second start bootstrapped again")
			}
			got := s2.api(t, "GET", "/api/v3/checks/"+c["uuid"].(string), nil)
			if got["name"] != "job" {
				t.Fatalf("after restart: %v", got)
			}
		})
	}
}

// `nightjar run` against a live server: start with a run id, the job's
// exit code passed through, a failure ping carrying the output tail and
// the duration, under the same run id.
func TestRunAgainstLiveServer(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	s := startServer(t, cfg)
	c := s.api(t, "POST", "/api/v3/checks/", map[string]any{"name": "backup", "timeout": 3600})
	id := c["uuid"].(string)

	stdout, _, err := runCLI(t, "", "run", "--url", s.base+"/ping", "--check", id, "--", "sh", "-c", "echo working; sleep 0.2; echo disk full >&2; exit 3")
	var ec exitCode
	if !errors.As(err, &ec) || ec != 3 {
		t.Fatalf("exit = %v, want exit status 3", err)
	}
	if stdout != "working\n" {
		t.Fatalf("job stdout passed through as %q", stdout)
	}
	pings := s.api(t, "GET", "/api/v3/checks/"+id+"/pings/", nil)["pings"].([]any)
	if len(pings) != 2 {
		t.Fatalf("pings: %v", pings)
	}
	fail, start := pings[0].(map[string]any), pings[1].(map[string]any)
	if start["type"] != "start" || fail["type"] != "fail" || fail["rid"] != start["rid"] || start["rid"] == nil {
		t.Fatalf("start %v, finish %v", start, fail)
	}
	if d, _ := fail["duration"].(float64); d < 0.2 {
		t.Fatalf("duration %v, want >= 0.2 s", fail["duration"])
	}
	req, _ := http.NewRequest("GET", fail["body_url"].(string), nil)
	req.Header.Set("X-Api-Key", s.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "disk full") || !strings.Contains(string(body), "working") {
		t.Fatalf("failure ping body: %q", body)
	}
	if got := s.api(t, "GET", "/api/v1/checks/"+id, nil); got["status"] != "down" {
		t.Fatalf("status after failed run: %v", got["status"])
	}

	// A successful run brings it back up; the job's exit code is 0.
	if _, _, err := runCLI(t, "", "run", "--url", s.base+"/ping", "--check", id, "--", "true"); err != nil {
		t.Fatalf("successful run: %v", err)
	}
	if got := s.api(t, "GET", "/api/v1/checks/"+id, nil); got["status"] != "up" {
		t.Fatalf("status after good run: %v", got["status"])
	}

	// The server being unreachable never changes the job's exit code.
	_, _, err = runCLI(t, "", "run", "--url", "http://127.0.0.1:1/ping", "--ping-timeout", "300ms", "--check", id, "--", "sh", "-c", "exit 0")
	if err != nil {
		t.Fatalf("run with the server down: %v", err)
	}
}

func TestPingCommand(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	s := startServer(t, cfg)
	c := s.api(t, "POST", "/api/v3/checks/", map[string]any{"name": "nightly", "timeout": 3600})
	id := c["uuid"].(string)
	out, _, err := runCLI(t, "log line\n", "ping", "--url", s.base+"/ping", "--log", "--body", "-", id)
	if err != nil || strings.TrimSpace(out) != "OK" {
		t.Fatalf("ping --log: %q %v", out, err)
	}
	if _, _, err := runCLI(t, "", "ping", "--url", s.base+"/ping", "--fail", "--start", id); err == nil {
		t.Fatal("--fail --start accepted")
	}
	if _, _, err := runCLI(t, "", "ping", "--url", s.base+"/ping", "00000000-0000-4000-8000-000000000000"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("ping of unknown check: %v", err)
	}
	pings := s.api(t, "GET", "/api/v3/checks/"+id+"/pings/", nil)["pings"].([]any)
	if len(pings) != 1 || pings[0].(map[string]any)["type"] != "log" {
		t.Fatalf("pings: %v", pings)
	}
}

func TestScheduleNext(t *testing.T) {
	out, _, err := runCLI(t, "", "schedule", "next", "30 2 * * *", "--tz", "Europe/Berlin", "--after", "2026-03-28T00:00:00Z", "-n", "3")
	if err != nil {
		t.Fatal(err)
	}
	want := "2026-03-28T02:30:00+01:00\n2026-03-29T03:00:00+02:00\n2026-03-30T02:30:00+02:00\n"
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	// Backward change: the 02:30 run happens once on 2026-10-25.
	out, _, _ = runCLI(t, "", "schedule", "next", "30 2 * * *", "--tz", "Europe/Berlin", "--after", "2026-10-24T12:00:00Z", "-n", "2")
	if out != "2026-10-25T02:30:00+02:00\n2026-10-26T02:30:00+01:00\n" {
		t.Fatalf("backward change: %q", out)
	}
	for _, args := range [][]string{
		{"schedule", "next", "61 * * * *"},
		{"schedule", "next", "* * * * *", "--tz", "Nowhere/City"},
		{"schedule", "next", "* * * * *", "--after", "tomorrow"},
	} {
		if _, _, err := runCLI(t, "", args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestApplyIdempotent(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "nightjar.yaml")
	os.WriteFile(file, []byte(`projects:
  - name: Ops
    checks:
      - slug: db-backup
        name: DB backup
        schedule: "0 3 * * *"
        tz: Europe/Berlin
        grace: 1h
        max_runtime: 2h
        metric_rules: ["bytes >= 0.5 * previous"]
`), 0o600)
	data := filepath.Join(dir, "data")
	out, _, err := runCLI(t, "", "apply", "-f", file, "--data", data)
	if err != nil || !strings.Contains(out, "+ project Ops") || !strings.Contains(out, "+ check Ops/db-backup") {
		t.Fatalf("first apply: %q %v", out, err)
	}
	out, _, err = runCLI(t, "", "apply", "-f", file, "--data", data)
	if err != nil || strings.TrimSpace(out) != "no changes" {
		t.Fatalf("second apply: %q %v", out, err)
	}
	os.WriteFile(file, []byte(strings.Replace(mustRead(t, file), "grace: 1h", "grace: 2h", 1)), 0o600)
	out, _, err = runCLI(t, "", "apply", "-f", file, "--data", data, "--dry-run")
	if err != nil || !strings.Contains(out, "~ check Ops/db-backup: grace 1h0m0s → 2h0m0s") {
		t.Fatalf("dry run: %q %v", out, err)
	}
	os.WriteFile(file, []byte("projects:\n  - name: Ops\n    checks:\n      - slug: x\n        schedule: \"99 * * * *\"\n"), 0o600)
	if _, _, err := runCLI(t, "", "apply", "-f", file, "--data", data); err == nil || !strings.Contains(err.Error(), "schedule") {
		t.Fatalf("bad schedule: %v", err)
	}
}

func mustRead(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestUserCommands(t *testing.T) {
	data := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = data
	s := startServer(t, cfg) // bootstraps the Default project
	s.stop()
	out, _, err := runCLI(t, "a long passphrase\n", "user", "create", "alice@example.com", "--role", "viewer", "--data", data)
	if err != nil || !strings.Contains(out, `created user alice@example.com, viewer of project "Default"`) {
		t.Fatalf("create: %q %v", out, err)
	}
	if _, _, err := runCLI(t, "short\n", "user", "create", "bob@example.com", "--data", data); err == nil || !strings.Contains(err.Error(), "at least 10") {
		t.Fatalf("short password: %v", err)
	}
	if _, _, err := runCLI(t, "another long passphrase\n", "user", "create", "carol@example.com", "--project", "Nope", "--data", data); err == nil {
		t.Fatal("unknown project accepted")
	}
	out, _, err = runCLI(t, "a brand new passphrase\n", "user", "passwd", "alice@example.com", "--data", data)
	if err != nil || !strings.Contains(out, "password of alice@example.com changed") {
		t.Fatalf("passwd: %q %v", out, err)
	}
	out, _, err = runCLI(t, "", "user", "list", "--data", data)
	if err != nil || !strings.Contains(out, "alice@example.com") || !strings.Contains(out, "Default (viewer)") || !strings.Contains(out, "admin@localhost") {
		t.Fatalf("list: %q %v", out, err)
	}
}

// The job sees its run id and can log to the same run.
func TestRunPassesRunID(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	s := startServer(t, cfg)
	id := s.api(t, "POST", "/api/v3/checks/", map[string]any{"name": "logger", "timeout": 3600})["uuid"].(string)
	out, _, err := runCLI(t, "", "run", "--url", s.base+"/ping", "--check", id, "--", "sh", "-c", `echo "rid=$NIGHTJAR_RUN_ID"`)
	if err != nil || !strings.HasPrefix(out, "rid=") || len(strings.TrimSpace(out)) != len("rid=")+36 {
		t.Fatalf("job output %q, %v", out, err)
	}
	pings := s.api(t, "GET", "/api/v3/checks/"+id+"/pings/", nil)["pings"].([]any)
	if rid := pings[0].(map[string]any)["rid"]; rid != strings.TrimSpace(strings.TrimPrefix(out, "rid=")) {
		t.Fatalf("run id %v, job saw %q", rid, out)
	}
}
