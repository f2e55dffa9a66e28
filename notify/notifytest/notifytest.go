// Package notifytest is what the tests of Nightjar's channels share: a
// real HTTP receiver standing in for a service, the messages every channel
// renders into golden files, and the checks of how a channel classifies a
// service's failures. Only tests import it.
package notifytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/goldentest"
	"github.com/nightjar-dev/nightjar/netguard"
	"github.com/nightjar-dev/nightjar/notify"
)

// Request is one request as a Receiver saw it.
type Request struct {
	Method string
	// Path is the escaped path, as sent on the wire.
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

// JSON decodes the request's body into v, failing the test when it is not
// JSON of that shape (unknown fields are errors, so a misspelt field of
// the service's format shows up).
func (r Request) JSON(t testing.TB, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("request body is not the service's format: %v\n%s", err, r.Body)
	}
}

// Receiver is a real HTTP server that records requests and answers as the
// test's respond function says (200 with an empty body when it is nil).
type Receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []Request
}

// NewReceiver starts a receiver, closed when the test ends.
func NewReceiver(t testing.TB, respond http.HandlerFunc) *Receiver {
	t.Helper()
	rc := &Receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, Request{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		rc.mu.Unlock()
		if respond != nil {
			respond(w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

// Requests returns the requests received so far.
func (rc *Receiver) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.reqs...)
}

// Only returns the one request received, failing the test otherwise.
func (rc *Receiver) Only(t testing.TB) Request {
	t.Helper()
	reqs := rc.Requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// Client returns an HTTP client that may reach the receivers on
// 127.0.0.1, which the default network policy rightly refuses.
func Client() *http.Client {
	return netguard.Policy{AllowPrivate: true}.HTTPClient(5 * time.Second)
}

var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// Firing is a firing page with details, a runbook and a graph link, and a
// summary holding the characters each format must escape.
func Firing() notify.Message {
	return notify.Message{
		ID:        "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
		ProjectID: "proj_checkout",
		Event:     notify.EventAlertFiring,
		Alert: nightjar.Alert{
			DedupKey: "check:payments-heartbeat",
			Source:   "check",
			Service:  "payments-api",
			Severity: nightjar.SeverityPage,
			Summary:  "Heartbeat missed <b>&</b> *payments* @channel",
			Details:  map[string]string{"check": "payments-heartbeat", "grace_seconds": "300", "last_output": "line one\nline two"},
			Status:   nightjar.AlertFiring,
			StartsAt: start,
			Links: []nightjar.Link{
				{Href: "https://runbooks.example.com/payments#heartbeat", Text: "Runbook"},
				{Href: "https://grafana.example.com/d/abc?from=now-1h&to=now"},
				{Href: "javascript:alert(1)", Text: "never shown"},
			},
		},
		ConsoleURL: "https://nightjar.example.com/checks/payments-heartbeat",
		CreatedAt:  start.Add(time.Second),
	}
}

// Resolved is Firing's alert resolving 42 minutes later.
func Resolved() notify.Message {
	m := Firing()
	m.ID = "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c"
	m.Event = notify.EventAlertResolved
	m.Alert.Status = nightjar.AlertResolved
	m.Alert.EndsAt = start.Add(42*time.Minute + 10*time.Second)
	m.CreatedAt = m.Alert.EndsAt
	return m
}

// Test is a test notification, as the console sends it.
func Test() notify.Message {
	return notify.Message{
		ID:        "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d",
		ProjectID: "proj_checkout",
		Event:     notify.EventTest,
		CreatedAt: start,
	}
}

// Bundle is three pages for one person that fell due together, sent as
// one message: each incident with its own acknowledge link, and a title
// holding the characters each format must escape.
func Bundle() notify.Message {
	var members []notify.Message
	for i, title := range []string{"Heartbeat missed <b>&</b> *payments* @channel", "Checkout errors over budget", "Database down"} {
		m := Firing()
		m.ID = fmt.Sprintf("0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b%02d", i)
		m.IdempotencyKey = fmt.Sprintf("incident/inc%d/page/1/u/bob/phone/0s", i+12)
		m.Event = notify.EventIncidentPage
		m.Alert.Summary = title
		m.Incident = &nightjar.IncidentRef{ID: fmt.Sprintf("inc%d", i+12), Number: int64(i + 12), Title: title, Service: "payments-api",
			Urgency: nightjar.SeverityPage, Status: "triggered", Since: start, Step: 1, Round: 1,
			AckToken: fmt.Sprintf("ack-token-%d", i+12), ResolveToken: fmt.Sprintf("resolve-token-%d", i+12)}
		if i == 0 {
			m.Incident.Changes = []nightjar.ChangeRef{{At: start.Add(-20 * time.Minute), Summary: "deploy v1.4.2", Source: "github-actions",
				Links: []nightjar.Link{{Href: "https://ci.example.com/runs/42", Text: "Build"}}}}
		}
		m.ConsoleURL = "https://nightjar.example.com"
		members = append(members, m)
	}
	return notify.Message{
		ID:             "bundle/5d1c0e7a9b3f4e2d8c6a1b0f9e8d7c6b",
		IdempotencyKey: "bundle/5d1c0e7a9b3f4e2d8c6a1b0f9e8d7c6b",
		ProjectID:      "proj_checkout",
		Event:          notify.EventIncidentPage,
		Alert:          members[0].Alert,
		Incident:       members[0].Incident,
		ConsoleURL:     "https://nightjar.example.com",
		CreatedAt:      members[0].CreatedAt,
		Bundle:         members,
	}
}

// Named is a message with the name of its golden file.
type Named struct {
	Name string
	Msg  notify.Message
}

// Messages are the messages every channel renders into golden files.
func Messages() []Named {
	return []Named{{"firing", Firing()}, {"resolved", Resolved()}, {"test", Test()}, {"bundle", Bundle()}}
}

// Indent pretty-prints a JSON body for a golden file, so a diff shows the
// field that changed.
func Indent(t testing.TB, body []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	return b.String() + "\n"
}

// Build makes the channel under test aimed at a receiver's URL, sending
// through client (nil: the channel's default, the network guard).
type Build func(url string, client *http.Client) notify.Notifier

// CheckFailures runs a channel against receivers that fail the way
// services do and checks how it classifies each: 5xx and 429 are retried
// (a 429's Retry-After honoured), 400, 401 and 404 are permanent with a
// message saying what to check, and a channel built with the default
// client is refused the loopback receiver by the network guard. No error
// may quote one of secrets.
func CheckFailures(t *testing.T, build Build, secrets ...string) {
	t.Helper()
	cases := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		retry     bool
		after     time.Duration
		mentioned string
	}{
		{name: "server error", status: 502, body: "bad gateway", retry: true},
		{name: "rate limited", status: 429, header: map[string]string{"Retry-After": "7"}, retry: true, after: 7 * time.Second},
		{name: "bad payload", status: 400, body: `{"error":"invalid_payload"}`, mentioned: "invalid_payload"},
		{name: "bad token", status: 401, mentioned: "check the channel's token"},
		{name: "gone", status: 404, mentioned: "check the channel's URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := NewReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			retry, err := build(rc.URL, Client()).Notify(context.Background(), Firing())
			if err == nil || retry != tc.retry {
				t.Fatalf("Notify = (%v, %v), want retry=%v and an error", retry, err, tc.retry)
			}
			var ra *notify.RetryAfterError
			if got := errors.As(err, &ra); got != (tc.after > 0) || got && ra.After != tc.after {
				t.Errorf("error %v: Retry-After not honoured (want %v)", err, tc.after)
			}
			if !strings.Contains(err.Error(), tc.mentioned) {
				t.Errorf("error %q does not say %q", err, tc.mentioned)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q quotes the secret %q", err, s)
				}
			}
		})
	}
	t.Run("network guard", func(t *testing.T) {
		rc := NewReceiver(t, nil)
		retry, err := build(rc.URL, nil).Notify(context.Background(), Firing())
		if retry || !errors.Is(err, netguard.ErrBlocked) {
			t.Fatalf("Notify to loopback with the default client = (%v, %v), want a permanent ErrBlocked", retry, err)
		}
		if n := len(rc.Requests()); n != 0 {
			t.Errorf("receiver got %d requests through the guard", n)
		}
	})
}

var (
	htmlTag    = regexp.MustCompile(`^</?([a-z]+)(?: href="[^"<>]*")?>`)
	htmlEntity = regexp.MustCompile(`^&(?:lt|gt|amp|quot|#[0-9]+);`)
)

// CheckHTML fails the test when s is not HTML of the kind chat services
// parse strictly (Telegram refuses the whole message otherwise): every tag
// one of tags, every "&" an entity they know, tags balanced.
func CheckHTML(t testing.TB, s string, tags ...string) {
	t.Helper()
	var open []string
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			m := htmlTag.FindStringSubmatch(s[i:])
			if m == nil || !slices.Contains(tags, m[1]) {
				t.Fatalf("HTML has a stray or unknown tag at %q", s[i:min(len(s), i+20)])
			}
			if strings.HasPrefix(m[0], "</") {
				if len(open) == 0 || open[len(open)-1] != m[1] {
					t.Fatalf("HTML closes %s, which is not open: %s", m[1], s)
				}
				open = open[:len(open)-1]
			} else if m[1] != "br" { // br is a void element
				open = append(open, m[1])
			}
			i += len(m[0]) - 1
		case '&':
			if !htmlEntity.MatchString(s[i:]) {
				t.Fatalf("HTML has a bare & at %q", s[i:min(len(s), i+20)])
			}
		case '>':
			t.Fatalf("HTML has a bare > at %q", s[i:min(len(s), i+20)])
		}
	}
	if len(open) > 0 {
		t.Fatalf("HTML leaves %v open: %s", open, s)
	}
}

// Deliver has the channel built by build send msg to a receiver answering
// as respond says, fails the test unless the delivery succeeded with
// exactly one request, and returns that request.
func Deliver(t testing.TB, build Build, respond http.HandlerFunc, msg notify.Message) Request {
	t.Helper()
	rc := NewReceiver(t, respond)
	if retry, err := build(rc.URL, Client()).Notify(context.Background(), msg); err != nil {
		t.Fatalf("Notify = (%v, %v)", retry, err)
	}
	return rc.Only(t)
}

// Golden compares a request's JSON body, indented, with the golden file
// testdata/<name>.golden.
func Golden(t testing.TB, name string, req Request) {
	t.Helper()
	goldentest.Compare(t, filepath.Join("testdata", name+".golden"), Indent(t, req.Body))
}

// Respond answers with status and body, as a JSON document.
func Respond(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// CheckRetryHint checks that the channel honours a delay its service gives
// in the body of a 429 answer without a Retry-After header.
func CheckRetryHint(t *testing.T, build Build, body string, want time.Duration) {
	t.Helper()
	rc := NewReceiver(t, Respond(http.StatusTooManyRequests, body))
	retry, err := build(rc.URL, Client()).Notify(context.Background(), Firing())
	var ra *notify.RetryAfterError
	if !retry || !errors.As(err, &ra) || ra.After != want {
		t.Fatalf("Notify = (%v, %v), want a retry after %v", retry, err, want)
	}
}
