package pingclient_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/pingclient"
	"github.com/nightjar-dev/nightjar/pingclient/pingtest"
)

const (
	checkUUID = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"
	runID     = "0b4f8a84-3b36-4d6e-9d4a-5a7c3f1e2d10"
)

// fastClient retries without real waiting so tests stay quick.
func fastClient(base string) *pingclient.Client {
	return &pingclient.Client{
		BaseURL: base,
		Backoff: func(int) time.Duration { return time.Millisecond },
		Timeout: 5 * time.Second,
	}
}

func TestPingURLForms(t *testing.T) {
	tests := []struct {
		name       string
		base       string // appended to the server's base; "/" tests a trailing slash
		target     pingclient.Target
		kind       pingclient.Kind
		opts       pingclient.Options
		existing   bool // make the slug exist before pinging
		wantPath   string
		wantQuery  url.Values
		wantStatus int
	}{
		{
			name:       "uuid success",
			target:     pingclient.Target{UUID: checkUUID},
			wantPath:   "/ping/" + checkUUID,
			wantQuery:  url.Values{},
			wantStatus: 200,
		},
		{
			name:       "upper-case uuid is sent lower-case",
			target:     pingclient.Target{UUID: strings.ToUpper(checkUUID)},
			kind:       pingclient.KindStart,
			wantPath:   "/ping/" + checkUUID + "/start",
			wantQuery:  url.Values{},
			wantStatus: 200,
		},
		{
			name:       "uuid fail",
			target:     pingclient.Target{UUID: checkUUID},
			kind:       pingclient.KindFail,
			wantPath:   "/ping/" + checkUUID + "/fail",
			wantQuery:  url.Values{},
			wantStatus: 200,
		},
		{
			name:       "uuid log",
			target:     pingclient.Target{UUID: checkUUID},
			kind:       pingclient.KindLog,
			wantPath:   "/ping/" + checkUUID + "/log",
			wantQuery:  url.Values{},
			wantStatus: 200,
		},
		{
			name:       "uuid exit status 0",
			target:     pingclient.Target{UUID: checkUUID},
			kind:       pingclient.ExitStatus(0),
			wantPath:   "/ping/" + checkUUID + "/0",
			wantQuery:  url.Values{},
			wantStatus: 200,
		},
		{
			name:       "uuid exit status 255 with trailing slash in base",
			base:       "/",
			target:     pingclient.Target{UUID: checkUUID},
			kind:       pingclient.ExitStatus(255),
			wantPath:   "/ping/" + checkUUID + "/255",
			wantQuery:  url.Values{},
			wantStatus: 200,
		},
		{
			name:       "uuid with run id",
			target:     pingclient.Target{UUID: checkUUID},
			kind:       pingclient.KindStart,
			opts:       pingclient.Options{RunID: strings.ToUpper(runID)},
			wantPath:   "/ping/" + checkUUID + "/start",
			wantQuery:  url.Values{"rid": {runID}},
			wantStatus: 200,
		},
		{
			name:       "create is not sent for uuid targets",
			target:     pingclient.Target{UUID: checkUUID},
			opts:       pingclient.Options{Create: true},
			wantPath:   "/ping/" + checkUUID,
			wantQuery:  url.Values{},
			wantStatus: 200,
		},
		{
			name:       "existing slug",
			target:     pingclient.Target{PingKey: "pk1", Slug: "nightly-backup"},
			kind:       pingclient.KindStart,
			existing:   true,
			wantPath:   "/ping/pk1/nightly-backup/start",
			wantQuery:  url.Values{},
			wantStatus: 200,
		},
		{
			name:       "missing slug without create is rejected",
			target:     pingclient.Target{PingKey: "pk1", Slug: "unknown"},
			wantPath:   "/ping/pk1/unknown",
			wantQuery:  url.Values{},
			wantStatus: 404,
		},
		{
			name:       "slug create answers 201",
			target:     pingclient.Target{PingKey: "pk1", Slug: "new-check"},
			kind:       pingclient.ExitStatus(3),
			opts:       pingclient.Options{Create: true, RunID: runID},
			wantPath:   "/ping/pk1/new-check/3",
			wantQuery:  url.Values{"create": {"1"}, "rid": {runID}},
			wantStatus: 201,
		},
		{
			name:       "metrics",
			target:     pingclient.Target{UUID: checkUUID},
			opts:       pingclient.Options{Metrics: map[string]float64{"rows": 1200, "bytes.out": 2.5e9, "lag-s": -0.25}},
			wantPath:   "/ping/" + checkUUID,
			wantQuery:  url.Values{"m": {"bytes.out:2.5e+09,lag-s:-0.25,rows:1200"}},
			wantStatus: 200,
		},
		{
			name:       "segments are escaped",
			target:     pingclient.Target{PingKey: "k+y%", Slug: "db backup?#ü"},
			kind:       pingclient.KindLog,
			opts:       pingclient.Options{Create: true},
			wantPath:   "/ping/k+y%/db backup?#ü/log",
			wantQuery:  url.Values{"create": {"1"}},
			wantStatus: 201,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pingtest.NewServer(t)
			if tc.existing {
				srv.AddSlug(tc.target.PingKey, tc.target.Slug)
			}
			c := fastClient(srv.Base() + tc.base)
			c.UserAgent = "test-agent/1"
			res, err := c.Ping(context.Background(), tc.target, tc.kind, tc.opts)

			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Path != tc.wantPath {
				t.Errorf("path = %q, want %q", r.Path, tc.wantPath)
			}
			if got, want := r.RawPath, (&url.URL{Path: tc.wantPath}).EscapedPath(); got != want {
				t.Errorf("raw path = %q, want %q", got, want)
			}
			if got, want := r.Query.Encode(), tc.wantQuery.Encode(); got != want {
				t.Errorf("query = %q, want %q", got, want)
			}
			if r.Method != http.MethodPost {
				t.Errorf("method = %s, want POST", r.Method)
			}
			if got := r.Header.Get("Content-Type"); got != "text/plain" {
				t.Errorf("Content-Type = %q, want text/plain", got)
			}
			if got := r.Header.Get("User-Agent"); got != "test-agent/1" {
				t.Errorf("User-Agent = %q", got)
			}
			if res.Status != tc.wantStatus {
				t.Errorf("status = %d, want %d", res.Status, tc.wantStatus)
			}
			if tc.wantStatus < 300 {
				if err != nil {
					t.Fatalf("Ping: %v", err)
				}
				if res.BodyLimit != 100000 {
					t.Errorf("body limit = %d, want 100000", res.BodyLimit)
				}
			} else if err == nil {
				t.Errorf("Ping succeeded on status %d", tc.wantStatus)
			}
		})
	}
}

func TestPingBody(t *testing.T) {
	srv := pingtest.NewServer(t)
	c := fastClient(srv.Base())
	body := []byte("line one\nline two\n")
	if _, err := c.Ping(context.Background(), pingclient.Target{UUID: checkUUID}, pingclient.KindFail, pingclient.Options{Body: body}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ping(context.Background(), pingclient.Target{UUID: checkUUID}, pingclient.KindStart, pingclient.Options{}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if string(reqs[0].Body) != string(body) {
		t.Errorf("body = %q, want %q", reqs[0].Body, body)
	}
	if got := reqs[0].Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length = %q, want %d", got, len(body))
	}
	if got := reqs[0].Header.Get("Transfer-Encoding"); got != "" {
		t.Errorf("Transfer-Encoding = %q, want none", got)
	}
	if got := reqs[1].Header.Get("Content-Length"); got != "0" {
		t.Errorf("empty body Content-Length = %q, want 0", got)
	}
	if got := reqs[1].Header.Get("User-Agent"); got != pingclient.DefaultUserAgent {
		t.Errorf("default User-Agent = %q", got)
	}
}

func TestPingBodyLimitHeader(t *testing.T) {
	for _, limit := range []int64{-1, 0, 1234} {
		t.Run(strconv.FormatInt(limit, 10), func(t *testing.T) {
			srv := pingtest.NewServer(t)
			srv.SetBodyLimit(limit)
			res, err := fastClient(srv.Base()).Ping(context.Background(), pingclient.Target{UUID: checkUUID}, pingclient.KindStart, pingclient.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.BodyLimit != limit {
				t.Errorf("BodyLimit = %d, want %d", res.BodyLimit, limit)
			}
		})
	}
}

func TestPingRejectsBadInputWithoutRequest(t *testing.T) {
	tests := []struct {
		name   string
		base   string // "" uses the server's base
		target pingclient.Target
		kind   pingclient.Kind
		opts   pingclient.Options
	}{
		{name: "empty target"},
		{name: "bad uuid", target: pingclient.Target{UUID: "not-a-uuid"}},
		{name: "both forms", target: pingclient.Target{UUID: checkUUID, PingKey: "k", Slug: "s"}},
		{name: "slug without key", target: pingclient.Target{Slug: "s"}},
		{name: "slug with slash", target: pingclient.Target{PingKey: "k", Slug: "a/b"}},
		{name: "dot dot slug", target: pingclient.Target{PingKey: "k", Slug: ".."}},
		{name: "exit status too large", target: pingclient.Target{UUID: checkUUID}, kind: pingclient.ExitStatus(256)},
		{name: "negative exit status", target: pingclient.Target{UUID: checkUUID}, kind: pingclient.ExitStatus(-1)},
		{name: "unknown kind", target: pingclient.Target{UUID: checkUUID}, kind: "finish"},
		{name: "bad run id", target: pingclient.Target{UUID: checkUUID}, opts: pingclient.Options{RunID: "run-1"}},
		{name: "bad metric name", target: pingclient.Target{UUID: checkUUID}, opts: pingclient.Options{Metrics: map[string]float64{"a:b": 1}}},
		{name: "unsupported scheme", base: "ftp://example.com/ping", target: pingclient.Target{UUID: checkUUID}},
		{name: "relative base", base: "/ping", target: pingclient.Target{UUID: checkUUID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pingtest.NewServer(t)
			base := tc.base
			if base == "" {
				base = srv.Base()
			}
			_, err := fastClient(base).Ping(context.Background(), tc.target, tc.kind, tc.opts)
			if err == nil {
				t.Fatal("Ping succeeded, want error")
			}
			if n := len(srv.Requests()); n != 0 {
				t.Errorf("server saw %d requests, want 0", n)
			}
		})
	}
	t.Run("empty base URL", func(t *testing.T) {
		_, err := (&pingclient.Client{}).Ping(context.Background(), pingclient.Target{UUID: checkUUID}, "", pingclient.Options{})
		if err == nil || !strings.Contains(err.Error(), pingclient.EnvPingURL) {
			t.Errorf("err = %v, want a hint naming %s", err, pingclient.EnvPingURL)
		}
	})
}

func TestPingRetriesTransientStatuses(t *testing.T) {
	for _, status := range []int{408, 429, 500, 502, 503, 504} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			srv := pingtest.NewServer(t)
			srv.Respond(status, status)
			var mu sync.Mutex
			var waits []int
			c := fastClient(srv.Base())
			c.Backoff = func(attempt int) time.Duration {
				mu.Lock()
				defer mu.Unlock()
				waits = append(waits, attempt)
				return time.Millisecond
			}
			body := []byte("output")
			res, err := c.Ping(context.Background(), pingclient.Target{UUID: checkUUID}, pingclient.ExitStatus(1), pingclient.Options{Body: body})
			if err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if res.Attempts != 3 || res.Status != 200 {
				t.Errorf("result = %+v, want 3 attempts ending in 200", res)
			}
			reqs := srv.Requests()
			if len(reqs) != 3 {
				t.Fatalf("server saw %d requests, want 3", len(reqs))
			}
			for i, r := range reqs {
				if string(r.Body) != "output" {
					t.Errorf("attempt %d body = %q, want the body resent", i+1, r.Body)
				}
			}
			if len(waits) != 2 || waits[0] != 1 || waits[1] != 2 {
				t.Errorf("backoff called with %v, want [1 2]", waits)
			}
		})
	}
}

func TestPingGivesUpAfterMaxAttempts(t *testing.T) {
	srv := pingtest.NewServer(t)
	srv.Respond(503, 503, 503, 503)
	c := fastClient(srv.Base())
	c.MaxAttempts = 3
	res, err := c.Ping(context.Background(), pingclient.Target{UUID: checkUUID}, "", pingclient.Options{})
	var se *pingclient.StatusError
	if !errors.As(err, &se) || se.StatusCode != 503 {
		t.Fatalf("err = %v, want a StatusError for 503", err)
	}
	if res.Attempts != 3 || len(srv.Requests()) != 3 {
		t.Errorf("attempts = %d, requests = %d, want 3", res.Attempts, len(srv.Requests()))
	}
	if !strings.Contains(err.Error(), "503 Service Unavailable") {
		t.Errorf("error %q does not name the status", err)
	}
}

func TestPingDoesNotRetryPermanentStatuses(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409, 422} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			srv := pingtest.NewServer(t)
			srv.Respond(status)
			res, err := fastClient(srv.Base()).Ping(context.Background(), pingclient.Target{UUID: checkUUID}, "", pingclient.Options{})
			if err == nil {
				t.Fatal("Ping succeeded, want error")
			}
			if want := strconv.Itoa(status) + " " + http.StatusText(status); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
			var se *pingclient.StatusError
			if !errors.As(err, &se) || se.StatusCode != status {
				t.Errorf("err = %#v, want a StatusError for %d", err, status)
			}
			if res.Attempts != 1 || len(srv.Requests()) != 1 {
				t.Errorf("attempts = %d, requests = %d, want 1", res.Attempts, len(srv.Requests()))
			}
		})
	}
}

func TestPingRetriesAttemptTimeout(t *testing.T) {
	srv := pingtest.NewServer(t)
	srv.Respond(pingtest.Hang)
	c := fastClient(srv.Base())
	c.Timeout = 100 * time.Millisecond
	res, err := c.Ping(context.Background(), pingclient.Target{UUID: checkUUID}, pingclient.KindStart, pingclient.Options{})
	if err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if res.Attempts != 2 {
		t.Errorf("attempts = %d, want 2", res.Attempts)
	}
}

func TestPingRetriesHTTPClientTimeout(t *testing.T) {
	srv := pingtest.NewServer(t)
	srv.Respond(pingtest.Hang)
	c := fastClient(srv.Base())
	c.HTTP = &http.Client{Timeout: 100 * time.Millisecond}
	res, err := c.Ping(context.Background(), pingclient.Target{UUID: checkUUID}, pingclient.KindStart, pingclient.Options{})
	if err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if res.Attempts != 2 {
		t.Errorf("attempts = %d, want 2", res.Attempts)
	}
}

func TestPingRetriesNetworkErrors(t *testing.T) {
	base := closedBase(t)
	c := fastClient(base)
	c.MaxAttempts = 3
	target := pingclient.Target{PingKey: "secret-ping-key", Slug: "job"}
	res, err := c.Ping(context.Background(), target, "", pingclient.Options{})
	if err == nil {
		t.Fatal("Ping to a closed port succeeded")
	}
	if res.Attempts != 3 || res.Status != 0 {
		t.Errorf("result = %+v, want 3 attempts and no status", res)
	}
	if strings.Contains(err.Error(), "secret-ping-key") {
		t.Errorf("error %q reveals the ping key", err)
	}
}

func TestPingStopsOnContextCancel(t *testing.T) {
	t.Run("during a request", func(t *testing.T) {
		srv := pingtest.NewServer(t)
		srv.Respond(pingtest.Hang)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		res, err := fastClient(srv.Base()).Ping(ctx, pingclient.Target{UUID: checkUUID}, "", pingclient.Options{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if res.Attempts != 1 {
			t.Errorf("attempts = %d, want 1", res.Attempts)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Ping took %v after cancel", d)
		}
	})
	t.Run("while backing off", func(t *testing.T) {
		srv := pingtest.NewServer(t)
		srv.Respond(503)
		c := fastClient(srv.Base())
		c.Backoff = func(int) time.Duration { return time.Hour }
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		res, err := c.Ping(ctx, pingclient.Target{UUID: checkUUID}, "", pingclient.Options{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if res.Attempts != 1 || res.Status != 503 {
			t.Errorf("result = %+v, want one attempt ending in 503", res)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		srv := pingtest.NewServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := fastClient(srv.Base()).Ping(ctx, pingclient.Target{UUID: checkUUID}, "", pingclient.Options{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

func TestDefaultBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{0, time.Second},
		{1, time.Second},
		{2, 2 * time.Second},
		{3, 4 * time.Second},
		{4, 8 * time.Second},
		{5, 16 * time.Second},
		{6, pingclient.MaxBackoff},
		{100, pingclient.MaxBackoff},
	}
	for _, tc := range tests {
		if got := pingclient.DefaultBackoff(tc.attempt); got != tc.want {
			t.Errorf("DefaultBackoff(%d) = %v, want %v", tc.attempt, got, tc.want)
		}
	}
}

func TestNewRunID(t *testing.T) {
	a, err := pingclient.NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pingclient.NewRunID()
	if a == b {
		t.Error("two run ids are equal")
	}
	if len(a) != 36 || a[14] != '4' {
		t.Errorf("run id %q is not a version 4 uuid", a)
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

// roundTripFunc lets a test see the exact request URL without a server.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestPingURLAgainstOtherBases(t *testing.T) {
	tests := []struct {
		base string
		kind pingclient.Kind
		want string
	}{
		{"https://hc-ping.com", pingclient.KindStart, "https://hc-ping.com/" + checkUUID + "/start"},
		{"https://hc-ping.com/", "", "https://hc-ping.com/" + checkUUID},
		{"http://localhost:8080/ping", pingclient.ExitStatus(1), "http://localhost:8080/ping/" + checkUUID + "/1"},
		{"https://example.com/a%2Fb/ping", pingclient.KindLog, "https://example.com/a%2Fb/ping/" + checkUUID + "/log"},
		{"https://example.com/ping?token=x#frag", pingclient.KindFail, "https://example.com/ping/" + checkUUID + "/fail?token=x"},
	}
	for _, tc := range tests {
		t.Run(tc.base, func(t *testing.T) {
			var got string
			c := &pingclient.Client{
				BaseURL: tc.base,
				HTTP: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					got = r.URL.String()
					return &http.Response{StatusCode: 200, Status: "200 OK", Body: http.NoBody, Header: http.Header{}}, nil
				})},
			}
			if _, err := c.Ping(context.Background(), pingclient.Target{UUID: checkUUID}, tc.kind, pingclient.Options{}); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("URL = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestPingErrorsHideCredentials(t *testing.T) {
	c := &pingclient.Client{
		BaseURL:     "https://user:hunter2@example.com/ping",
		MaxAttempts: 1,
		HTTP: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return nil, errors.New("connection reset")
		})},
	}
	_, err := c.Ping(context.Background(), pingclient.Target{PingKey: "secret-key", Slug: "job"}, "", pingclient.Options{})
	if err == nil {
		t.Fatal("Ping succeeded")
	}
	for _, secret := range []string{"hunter2", "secret-key"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q reveals %q", err, secret)
		}
	}
	if !strings.Contains(err.Error(), "example.com/ping") || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("error %q should name the server and the cause", err)
	}
}
