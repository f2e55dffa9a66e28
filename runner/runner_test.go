//go:build unix

package runner_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nightjar-dev/nightjar/pingclient"
	"github.com/nightjar-dev/nightjar/pingclient/pingtest"
	"github.com/nightjar-dev/nightjar/runner"
)

const checkUUID = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"

// syncBuffer is a bytes.Buffer safe to read while the command writes, and
// able to announce when a marker shows up.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	seen   chan struct{}
}

func newSyncBuffer(marker string) *syncBuffer {
	return &syncBuffer{marker: marker, seen: make(chan struct{})}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.marker != "" && strings.Contains(b.buf.String(), b.marker) {
		b.marker = ""
		close(b.seen)
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness bundles a fake server with options wired to in-memory streams.
type harness struct {
	srv            *pingtest.Server
	opts           runner.Options
	stdout, stderr *syncBuffer
	log            *syncBuffer
	signals        chan os.Signal
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	srv := pingtest.NewServer(t)
	h := &harness{
		srv:     srv,
		stdout:  newSyncBuffer("ready"),
		stderr:  newSyncBuffer(""),
		log:     newSyncBuffer(""),
		signals: make(chan os.Signal, 1),
	}
	h.opts = runner.Options{
		Client: &pingclient.Client{
			BaseURL: srv.Base(),
			Backoff: func(int) time.Duration { return time.Millisecond },
			Timeout: 5 * time.Second,
		},
		Target:  pingclient.Target{UUID: checkUUID},
		Stdin:   strings.NewReader(""),
		Stdout:  h.stdout,
		Stderr:  h.stderr,
		Log:     slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:     steppingClock(1500 * time.Millisecond),
		Signals: h.signals,
	}
	return h
}

// steppingClock advances by step on every reading, so a run always lasts
// exactly step.
func steppingClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(step)
		return now
	}
}

func (h *harness) run(t *testing.T, ctx context.Context, argv ...string) (int, error) {
	t.Helper()
	return runner.Run(ctx, h.opts, argv)
}

// runAsync runs the command in the background; the returned function
// waits for its result.
func (h *harness) runAsync(t *testing.T, ctx context.Context, argv ...string) func() (int, error) {
	t.Helper()
	type out struct {
		code int
		err  error
	}
	ch := make(chan out, 1)
	go func() {
		code, err := runner.Run(ctx, h.opts, argv)
		ch <- out{code, err}
	}()
	return func() (int, error) {
		select {
		case o := <-ch:
			return o.code, o.err
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return")
			return 0, nil
		}
	}
}

func (h *harness) waitReady(t *testing.T) {
	t.Helper()
	select {
	case <-h.stdout.seen:
	case <-time.After(10 * time.Second):
		t.Fatalf("command never printed ready; stdout %q, log %q", h.stdout.String(), h.log.String())
	}
}

// pings returns the start and finish requests, checking there are two and
// that they share a version 4 run id.
func (h *harness) pings(t *testing.T) (start, finish pingtest.Request) {
	t.Helper()
	reqs := h.srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("server saw %d requests, want start and finish: %+v", len(reqs), reqs)
	}
	start, finish = reqs[0], reqs[1]
	if start.Kind != "start" {
		t.Errorf("first ping kind = %q, want start", start.Kind)
	}
	rid := start.Query.Get("rid")
	id, err := uuid.Parse(rid)
	if err != nil || id.Version() != 4 {
		t.Errorf("start rid %q is not a version 4 uuid", rid)
	}
	if got := finish.Query.Get("rid"); got != rid {
		t.Errorf("finish rid = %q, want the start's %q", got, rid)
	}
	return start, finish
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\n")
	return line
}

func TestRunSuccess(t *testing.T) {
	h := newHarness(t)
	code, err := h.run(t, context.Background(), "sh", "-c", "echo hello; echo oops >&2")
	if code != 0 || err != nil {
		t.Fatalf("Run = %d, %v; want 0, nil", code, err)
	}
	if got := h.stdout.String(); got != "hello\n" {
		t.Errorf("stdout = %q, want %q", got, "hello\n")
	}
	if got := h.stderr.String(); got != "oops\n" {
		t.Errorf("stderr = %q, want %q", got, "oops\n")
	}
	start, finish := h.pings(t)
	if start.Path != "/ping/"+checkUUID+"/start" || len(start.Body) != 0 {
		t.Errorf("start ping = %s with body %q", start.Path, start.Body)
	}
	if finish.Path != "/ping/"+checkUUID || finish.Kind != "" {
		t.Errorf("finish ping path = %s, want the success route", finish.Path)
	}
	want := "nightjar run: command exited with status 0 after 1.5s\n"
	if body := string(finish.Body); !strings.HasPrefix(body, want) ||
		!strings.Contains(body, "hello\n") || !strings.Contains(body, "oops\n") {
		t.Errorf("finish body = %q, want summary %q and both streams", body, want)
	}
	if got := finish.Header.Get("Content-Type"); got != "text/plain" {
		t.Errorf("finish Content-Type = %q", got)
	}
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name        string
		script      string
		wantCode    int
		wantSummary string
	}{
		{"exit 3", "echo failing; exit 3", 3, "nightjar run: command exited with status 3 after 1.5s"},
		{"exit 255", "exit 255", 255, "nightjar run: command exited with status 255 after 1.5s"},
		{"killed by SIGKILL", "kill -KILL $$", 137, "nightjar run: command was killed by signal 9 (killed); exit status 137 after 1.5s"},
		{"killed by SIGTERM", "kill -TERM $$", 143, "nightjar run: command was killed by signal 15 (terminated); exit status 143 after 1.5s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			code, err := h.run(t, context.Background(), "sh", "-c", tc.script)
			if code != tc.wantCode || err != nil {
				t.Fatalf("Run = %d, %v; want %d, nil", code, err, tc.wantCode)
			}
			_, finish := h.pings(t)
			if want := "/ping/" + checkUUID + "/" + strconv.Itoa(tc.wantCode); finish.Path != want {
				t.Errorf("finish path = %s, want %s", finish.Path, want)
			}
			if got := firstLine(finish.Body); got != tc.wantSummary {
				t.Errorf("summary = %q, want %q", got, tc.wantSummary)
			}
			if tc.wantCode == 3 && !strings.HasSuffix(string(finish.Body), "\nfailing\n") {
				t.Errorf("finish body = %q, want the output tail", finish.Body)
			}
		})
	}
}

// writeOutputFile writes n bytes of numbered lines, so any cut is visible.
func writeOutputFile(t *testing.T, n int) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		b.WriteString("line " + strconv.Itoa(i) + " of the job's output\n")
	}
	data := b.Bytes()[:n]
	path := filepath.Join(t.TempDir(), "output.txt")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func TestRunLargeOutput(t *testing.T) {
	tests := []struct {
		name      string
		tailBytes int
		bodyLimit int64
		wantTail  int // bytes of output expected in the body
	}{
		{"default tail", 0, -1, runner.DefaultTailBytes},
		{"custom tail", 777, -1, 777},
		{"tail capped by body limit", 0, 2000, -1},
		{"tiny body limit", 0, 20, -1},
		{"no output wanted", -1, -1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.srv.SetBodyLimit(tc.bodyLimit)
			h.opts.TailBytes = tc.tailBytes
			path, data := writeOutputFile(t, 123456)
			code, err := h.run(t, context.Background(), "cat", path)
			if code != 0 || err != nil {
				t.Fatalf("Run = %d, %v", code, err)
			}
			if !bytes.Equal([]byte(h.stdout.String()), data) {
				t.Fatalf("stdout differs from the command's output (%d vs %d bytes)", len(h.stdout.String()), len(data))
			}
			_, finish := h.pings(t)
			body := finish.Body
			if tc.bodyLimit >= 0 && int64(len(body)) > tc.bodyLimit {
				t.Fatalf("body is %d bytes, over the server's limit %d", len(body), tc.bodyLimit)
			}
			if tc.bodyLimit >= 0 && tc.bodyLimit < 100 {
				if len(body) != int(tc.bodyLimit) || !strings.HasPrefix("nightjar run: command exited with status 0", string(body)) {
					t.Errorf("tiny body = %q, want the summary cut to the limit", body)
				}
				return
			}
			summary, tail, _ := bytes.Cut(body, []byte("\n"))
			if !bytes.HasSuffix(data, tail) {
				t.Errorf("body tail is not the end of the output: %q", tail)
			}
			if tc.wantTail >= 0 && len(tail) != tc.wantTail {
				t.Errorf("tail is %d bytes, want %d", len(tail), tc.wantTail)
			}
			if tc.bodyLimit >= 0 && int64(len(body)) < tc.bodyLimit-1 {
				t.Errorf("body is %d bytes, want it to use the limit %d", len(body), tc.bodyLimit)
			}
			wantNote := "output truncated to the last " + strconv.Itoa(len(tail)) + " of 123456 bytes"
			if !strings.Contains(string(summary), wantNote) {
				t.Errorf("summary %q does not say %q", summary, wantNote)
			}
		})
	}
}

func TestRunPassesStdinThrough(t *testing.T) {
	h := newHarness(t)
	h.opts.Stdin = strings.NewReader("from stdin\n")
	if code, err := h.run(t, context.Background(), "cat"); code != 0 || err != nil {
		t.Fatalf("Run = %d, %v", code, err)
	}
	if got := h.stdout.String(); got != "from stdin\n" {
		t.Errorf("stdout = %q", got)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("stdout closed") }

func TestRunKeepsRecordingWhenStdoutFails(t *testing.T) {
	h := newHarness(t)
	h.opts.Stdout = failingWriter{}
	code, err := h.run(t, context.Background(), "sh", "-c", "echo one; echo two; exit 4")
	if code != 4 || err != nil {
		t.Fatalf("Run = %d, %v; want 4", code, err)
	}
	_, finish := h.pings(t)
	if !strings.HasSuffix(string(finish.Body), "\none\ntwo\n") {
		t.Errorf("finish body = %q, want the output despite the failed stdout", finish.Body)
	}
	if !strings.Contains(h.log.String(), "stdout closed") {
		t.Errorf("log = %q, want a warning about stdout", h.log.String())
	}
}

func TestRunForwardsSignals(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		signal   os.Signal
		wantCode int
		wantOut  string
	}{
		{
			name:     "SIGTERM handled by a trap",
			script:   `trap 'echo got term; exit 42' TERM; echo ready; while :; do sleep 0.05; done`,
			signal:   syscall.SIGTERM,
			wantCode: 42,
			wantOut:  "ready\ngot term\n",
		},
		{
			name:     "SIGUSR1 handled by a trap",
			script:   `trap 'echo got usr1; exit 7' USR1; echo ready; while :; do sleep 0.05; done`,
			signal:   syscall.SIGUSR1,
			wantCode: 7,
			wantOut:  "ready\ngot usr1\n",
		},
		{
			name:     "SIGHUP handled by a trap",
			script:   `trap 'exit 0' HUP; echo ready; while :; do sleep 0.05; done`,
			signal:   syscall.SIGHUP,
			wantCode: 0,
			wantOut:  "ready\n",
		},
		{
			name:     "SIGTERM kills an untrapping command",
			script:   `echo ready; exec sleep 10`,
			signal:   syscall.SIGTERM,
			wantCode: 143,
			wantOut:  "ready\n",
		},
		{
			name:     "SIGINT kills an untrapping command",
			script:   `echo ready; exec sleep 10`,
			signal:   syscall.SIGINT,
			wantCode: 130,
			wantOut:  "ready\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			wait := h.runAsync(t, context.Background(), "sh", "-c", tc.script)
			h.waitReady(t)
			h.signals <- tc.signal
			code, err := wait()
			if code != tc.wantCode || err != nil {
				t.Fatalf("Run = %d, %v; want %d, nil", code, err, tc.wantCode)
			}
			if got := h.stdout.String(); got != tc.wantOut {
				t.Errorf("stdout = %q, want %q", got, tc.wantOut)
			}
			_, finish := h.pings(t)
			wantPath := "/ping/" + checkUUID + "/" + strconv.Itoa(tc.wantCode)
			if tc.wantCode == 0 {
				wantPath = "/ping/" + checkUUID
			}
			if finish.Path != wantPath {
				t.Errorf("finish path = %s, want %s", finish.Path, wantPath)
			}
			if tc.wantCode > 128 {
				sig := tc.signal.(syscall.Signal)
				want := "killed by signal " + strconv.Itoa(int(sig)) + " (" + sig.String() + ")"
				if !strings.Contains(firstLine(finish.Body), want) {
					t.Errorf("summary %q does not say %q", firstLine(finish.Body), want)
				}
			}
		})
	}
}

func TestRunCommandCannotStart(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\necho hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		argv     []string
		wantCode int
		wantErr  string
	}{
		{"not on PATH", []string{"nightjar-test-no-such-command"}, 127, "executable file not found"},
		{"missing path", []string{filepath.Join(dir, "missing")}, 127, "no such file"},
		{"not executable", []string{notExec}, 126, "permission denied"},
		{"directory", []string{dir}, 126, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			code, err := h.run(t, context.Background(), tc.argv...)
			if code != tc.wantCode || err == nil {
				t.Fatalf("Run = %d, %v; want %d and an error", code, err, tc.wantCode)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			_, finish := h.pings(t)
			if finish.Kind != "fail" {
				t.Errorf("finish kind = %q, want fail", finish.Kind)
			}
			summary := firstLine(finish.Body)
			if !strings.Contains(summary, "could not be started") || !strings.Contains(summary, tc.wantErr) ||
				!strings.HasSuffix(summary, "exit status "+strconv.Itoa(tc.wantCode)) {
				t.Errorf("fail ping summary = %q", summary)
			}
		})
	}
}

// closedBase returns a base URL on a loopback port nothing listens on.
func closedBase(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/ping"
}

func TestRunWithServerUnreachable(t *testing.T) {
	h := newHarness(t)
	h.opts.Client.BaseURL = closedBase(t)
	code, err := h.run(t, context.Background(), "sh", "-c", "echo still ran; exit 3")
	if code != 3 || err != nil {
		t.Fatalf("Run = %d, %v; want 3, nil", code, err)
	}
	if got := h.stdout.String(); got != "still ran\n" {
		t.Errorf("stdout = %q", got)
	}
	log := h.log.String()
	if !strings.Contains(log, "start ping not delivered") || !strings.Contains(log, "finish ping not delivered") {
		t.Errorf("log = %q, want both ping failures reported", log)
	}
	if strings.Contains(h.stdout.String()+h.stderr.String(), "ping") {
		t.Error("ping diagnostics leaked into the command's output")
	}
}

func TestRunStartPingIsTimeBounded(t *testing.T) {
	h := newHarness(t)
	h.srv.Respond(pingtest.Hang)
	h.opts.StartTimeout = 200 * time.Millisecond
	began := time.Now()
	code, err := h.run(t, context.Background(), "sh", "-c", "exit 5")
	if code != 5 || err != nil {
		t.Fatalf("Run = %d, %v; want 5, nil", code, err)
	}
	if d := time.Since(began); d > 4*time.Second {
		t.Errorf("Run took %v with a hanging server, want the start ping cut short", d)
	}
	if !strings.Contains(h.log.String(), "start ping not delivered") {
		t.Errorf("log = %q, want the start ping failure", h.log.String())
	}
	h.pings(t) // the start ping still carried the run id the finish uses
}

func TestRunSignalCutsStartPingShort(t *testing.T) {
	h := newHarness(t)
	h.srv.Respond(pingtest.Hang)
	h.opts.StartTimeout = time.Minute
	began := time.Now()
	wait := h.runAsync(t, context.Background(), "sleep", "10")
	time.Sleep(100 * time.Millisecond)
	h.signals <- syscall.SIGTERM
	code, err := wait()
	if code != 143 || err != nil {
		t.Fatalf("Run = %d, %v; want 143 from the signal forwarded once the command started", code, err)
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("Run took %v, want the signal to end the start ping", d)
	}
}

func TestRunContextCancelStopsCommand(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait := h.runAsync(t, ctx, "sh", "-c", "echo ready; exec sleep 10")
	h.waitReady(t)
	cancel()
	code, err := wait()
	if code != 143 || err != nil {
		t.Fatalf("Run = %d, %v; want 143 from SIGTERM", code, err)
	}
	_, finish := h.pings(t)
	if finish.Kind != "143" {
		t.Errorf("finish kind = %q, want 143 despite the cancelled context", finish.Kind)
	}
}

func TestRunSlugCreateAndMetrics(t *testing.T) {
	h := newHarness(t)
	h.opts.Target = pingclient.Target{PingKey: "pk", Slug: "nightly"}
	h.opts.Create = true
	h.opts.Metrics = map[string]float64{"rows": 5, "seconds": 0.25}
	if code, err := h.run(t, context.Background(), "true"); code != 0 || err != nil {
		t.Fatalf("Run = %d, %v", code, err)
	}
	start, finish := h.pings(t)
	if start.Status != 201 || start.Query.Get("create") != "1" || start.Path != "/ping/pk/nightly/start" {
		t.Errorf("start = %s %v answered %d, want a creating start ping", start.Path, start.Query, start.Status)
	}
	if finish.Status != 200 || finish.Query.Get("create") != "1" || finish.Path != "/ping/pk/nightly" {
		t.Errorf("finish = %s %v answered %d", finish.Path, finish.Query, finish.Status)
	}
	if got := finish.Query.Get("m"); got != "rows:5,seconds:0.25" {
		t.Errorf("finish metrics = %q", got)
	}
	if start.Query.Has("m") {
		t.Errorf("start ping carries metrics %q, want them on the finish only", start.Query.Get("m"))
	}
}

func TestRunRejectsUnusableOptions(t *testing.T) {
	tests := []struct {
		name   string
		change func(*runner.Options)
		argv   []string
	}{
		{"no command", func(*runner.Options) {}, nil},
		{"empty command", func(*runner.Options) {}, []string{""}},
		{"no client", func(o *runner.Options) { o.Client = nil }, []string{"true"}},
		{"bad target", func(o *runner.Options) { o.Target = pingclient.Target{UUID: "x"} }, []string{"true"}},
		{"bad metric", func(o *runner.Options) { o.Metrics = map[string]float64{"a,b": 1} }, []string{"true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			tc.change(&h.opts)
			code, err := runner.Run(context.Background(), h.opts, tc.argv)
			if code != 2 || err == nil {
				t.Errorf("Run = %d, %v; want 2 and an error", code, err)
			}
			if n := len(h.srv.Requests()); n != 0 {
				t.Errorf("server saw %d requests, want none", n)
			}
		})
	}
}
