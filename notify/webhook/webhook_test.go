package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/goldentest"
	"github.com/nightjar-dev/nightjar/netguard"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/notifytest"
	"github.com/nightjar-dev/nightjar/notify/webhook"
)

const secret = "whsec_test_5f1d0c9e"

// loopbackClient allows the test receivers on 127.0.0.1, which the default
// network policy rightly refuses.
func loopbackClient(timeout time.Duration) *http.Client {
	return netguard.Policy{AllowPrivate: true}.HTTPClient(timeout)
}

func message() notify.Message {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	return notify.Message{
		ID:        "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
		ProjectID: "proj_checkout",
		Event:     notify.EventAlertFiring,
		Alert: nightjar.Alert{
			DedupKey: "check:payments-heartbeat",
			Service:  "payments-api",
			Severity: "page",
			Summary:  "Heartbeat missed for 5m <b>&</b>",
			Details:  map[string]string{"check": "payments-heartbeat", "grace_seconds": "300"},
			Status:   "firing",
			// A non-UTC zone and sub-second part, both normalised away.
			StartsAt: start.In(time.FixedZone("CET", 3600)).Add(250 * time.Millisecond),
		},
		ConsoleURL: "https://nightjar.example.com/p/proj_checkout/checks/payments-heartbeat",
		CreatedAt:  start.Add(time.Second),
	}
}

// received is one request as a test receiver saw it.
type received struct {
	header http.Header
	body   []byte
	method string
}

// receiver is a real HTTP server that records requests and answers with
// whatever the test's respond function says.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

func newReceiver(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{header: r.Header.Clone(), body: body, method: r.Method})
		rc.mu.Unlock()
		if respond != nil {
			respond(w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.reqs)
}

func TestNotifyDelivers(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	n := webhook.New(webhook.Config{
		URL:     rc.URL + "/hooks/nightjar?team=sre",
		Secret:  secret,
		Headers: map[string]string{"X-Team-Token": "abc123", "x-lowercase": "yes"},
	}, loopbackClient(5*time.Second))

	msg := message()
	before := time.Now()
	retry, err := n.Notify(context.Background(), msg)
	if err != nil || retry {
		t.Fatalf("Notify = (%v, %v), want (false, nil)", retry, err)
	}

	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver saw %d requests, want 1", len(reqs))
	}
	req := reqs[0]
	if req.method != http.MethodPost {
		t.Errorf("method = %s, want POST", req.method)
	}
	for name, want := range map[string]string{
		"Content-Type":    "application/json",
		"User-Agent":      "Nightjar-Webhook/1",
		"Idempotency-Key": msg.ID,
		"X-Team-Token":    "abc123",
		"X-Lowercase":     "yes",
	} {
		if got := req.header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	ts, err := strconv.ParseInt(req.header.Get(webhook.HeaderTimestamp), 10, 64)
	if err != nil {
		t.Fatalf("timestamp header: %v", err)
	}
	if ts < before.Unix() || ts > time.Now().Unix() {
		t.Errorf("timestamp %d is not the time of sending", ts)
	}
	if sig := req.header.Get(webhook.HeaderSignature); !strings.HasPrefix(sig, "v1=") || len(sig) != 3+64 {
		t.Errorf("signature header = %q, want v1=<64 hex digits>", sig)
	}
	if err := webhook.Verify(secret, req.header, req.body, time.Now(), time.Minute); err != nil {
		t.Errorf("Verify on the delivered request: %v", err)
	}
	if err := webhook.Verify("other-secret", req.header, req.body, time.Now(), time.Minute); !errors.Is(err, webhook.ErrSignatureMismatch) {
		t.Errorf("Verify with the wrong secret = %v, want ErrSignatureMismatch", err)
	}

	var p webhook.Payload
	if err := json.Unmarshal(req.body, &p); err != nil {
		t.Fatalf("decode payload: %v", err)
	}
	if p.ID != msg.ID || p.Version != webhook.SchemaVersion || p.Event != notify.EventAlertFiring {
		t.Errorf("payload = %+v", p)
	}
	if !p.Alert.StartsAt.Equal(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("starts_at = %v", p.Alert.StartsAt)
	}
}

func TestNotifyWithoutSecretSendsNoSignature(t *testing.T) {
	rc := newReceiver(t, nil)
	n := webhook.New(webhook.Config{URL: rc.URL}, loopbackClient(5*time.Second))
	if _, err := n.Notify(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	h := rc.requests()[0].header
	if _, ok := h[webhook.HeaderSignature]; ok {
		t.Errorf("signature header sent without a secret: %q", h.Get(webhook.HeaderSignature))
	}
	if h.Get(webhook.HeaderTimestamp) == "" {
		t.Error("timestamp header missing")
	}
}

func TestNotifyRetriesAreIdempotent(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	n := webhook.New(webhook.Config{URL: rc.URL, Secret: secret}, loopbackClient(5*time.Second))
	msg := message()
	for range 2 {
		if retry, err := n.Notify(context.Background(), msg); !retry || err == nil {
			t.Fatalf("Notify = (%v, %v), want a retryable error", retry, err)
		}
	}
	reqs := rc.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2", len(reqs))
	}
	if !bytes.Equal(reqs[0].body, reqs[1].body) {
		t.Error("retried body differs from the first attempt")
	}
	if a, b := reqs[0].header.Get("Idempotency-Key"), reqs[1].header.Get("Idempotency-Key"); a != msg.ID || b != msg.ID {
		t.Errorf("idempotency keys = %q, %q, want %q twice", a, b, msg.ID)
	}
}

// A message its producer named with an idempotency key is sent with that
// key, in the header and as the payload's id, rather than its outbox id.
func TestNotifySendsIdempotencyKey(t *testing.T) {
	rc := newReceiver(t, nil)
	n := webhook.New(webhook.Config{URL: rc.URL, Secret: secret}, loopbackClient(5*time.Second))
	msg := message()
	msg.IdempotencyKey = "alert-firing-7"
	if _, err := n.Notify(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	req := rc.requests()[0]
	if got := req.header.Get(webhook.HeaderIdempotencyKey); got != "alert-firing-7" {
		t.Errorf("Idempotency-Key = %q, want the message's key", got)
	}
	var p webhook.Payload
	if err := json.Unmarshal(req.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.ID != "alert-firing-7" {
		t.Errorf("payload id = %q, want the Idempotency-Key", p.ID)
	}
}

func TestNotifyClassifiesResponses(t *testing.T) {
	httpDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		status     int
		retryAfter string
		body       string
		wantRetry  bool
		wantErr    bool
		wantAfter  time.Duration // zero: no *RetryAfterError expected
		afterSlack time.Duration
		wantInErr  string
	}{
		{name: "200 ok", status: 200},
		{name: "204 no content", status: 204},
		{name: "400 bad request is permanent", status: 400, body: `{"error":"unknown field"}`, wantErr: true, wantInErr: `400 Bad Request: {"error":"unknown field"}`},
		{name: "401 unauthorized is permanent", status: 401, wantErr: true},
		{name: "404 not found is permanent", status: 404, wantErr: true},
		{name: "410 gone is permanent", status: 410, wantErr: true},
		{name: "400 ignores retry-after", status: 400, retryAfter: "30", wantErr: true},
		{name: "408 request timeout retries", status: 408, wantRetry: true, wantErr: true},
		{name: "425 too early retries", status: 425, wantRetry: true, wantErr: true},
		{name: "429 with retry-after seconds", status: 429, retryAfter: "120", wantRetry: true, wantErr: true, wantAfter: 2 * time.Minute},
		{name: "429 without retry-after", status: 429, wantRetry: true, wantErr: true},
		{name: "429 with garbage retry-after", status: 429, retryAfter: "soon", wantRetry: true, wantErr: true},
		{name: "503 with retry-after date", status: 503, retryAfter: httpDate, wantRetry: true, wantErr: true, wantAfter: 90 * time.Second, afterSlack: 3 * time.Second},
		{name: "500 retries", status: 500, body: "boom\n\x1b[31mstack", wantRetry: true, wantErr: true, wantInErr: "500 Internal Server Error: boom [31mstack"},
		{name: "502 retries", status: 502, wantRetry: true, wantErr: true},
		{name: "large body is truncated", status: 500, body: strings.Repeat("x", 100<<10), wantRetry: true, wantErr: true, wantInErr: strings.Repeat("x", 512) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			n := webhook.New(webhook.Config{URL: rc.URL + "/secret-token-in-path", Secret: secret}, loopbackClient(5*time.Second))
			retry, err := n.Notify(context.Background(), message())
			if retry != tt.wantRetry || (err != nil) != tt.wantErr {
				t.Fatalf("Notify = (%v, %v), want retry=%v, error=%v", retry, err, tt.wantRetry, tt.wantErr)
			}
			if err == nil {
				return
			}
			var se *webhook.StatusError
			if !errors.As(err, &se) || se.StatusCode != tt.status {
				t.Errorf("error %v does not carry status %d", err, tt.status)
			}
			if se != nil && len(se.Body) > 4<<10 {
				t.Errorf("StatusError.Body holds %d bytes, want at most 4 KiB", len(se.Body))
			}
			var ra *notify.RetryAfterError
			gotAfter := errors.As(err, &ra)
			if tt.wantAfter == 0 && gotAfter {
				t.Errorf("unexpected retry-after %v", ra.After)
			}
			if tt.wantAfter != 0 {
				if !gotAfter {
					t.Fatalf("error %v carries no retry-after", err)
				}
				if d := ra.After - tt.wantAfter; d > tt.afterSlack || d < -tt.afterSlack {
					t.Errorf("retry-after = %v, want %v±%v", ra.After, tt.wantAfter, tt.afterSlack)
				}
			}
			if tt.wantInErr != "" && !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantInErr)
			}
			for _, leak := range []string{secret, "secret-token-in-path"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q leaks %q", err, leak)
				}
			}
		})
	}
}

func TestNotifyTransportFailures(t *testing.T) {
	release := make(chan struct{})
	slow := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) })

	var loop *receiver
	loop = newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loop.URL+"/again", http.StatusTemporaryRedirect)
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/hook"
	ln.Close()

	tests := []struct {
		name      string
		url       string
		client    *http.Client
		ctx       func() (context.Context, context.CancelFunc)
		wantRetry bool
		wantIn    string
		blocked   bool
	}{
		{name: "client timeout", url: slow.URL + "/token123", client: loopbackClient(200 * time.Millisecond), wantRetry: true, wantIn: "timed out"},
		{name: "context deadline", url: slow.URL + "/token123", client: loopbackClient(10 * time.Second), wantRetry: true, wantIn: "timed out",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 200*time.Millisecond)
			}},
		{name: "connection refused", url: refused, client: loopbackClient(5 * time.Second), wantRetry: true, wantIn: "refused"},
		{name: "default policy blocks loopback", url: slow.URL + "/token123", client: nil, wantRetry: false, wantIn: "allow_private_networks", blocked: true},
		{name: "redirect loop is permanent", url: loop.URL + "/token123", client: loopbackClient(5 * time.Second), wantRetry: false, wantIn: "stopped after 5 redirects"},
		{name: "invalid scheme is permanent", url: "ftp://example.com/hook", client: loopbackClient(time.Second), wantRetry: false, wantIn: "http or https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			n := webhook.New(webhook.Config{URL: tt.url, Secret: secret}, tt.client)
			start := time.Now()
			retry, err := n.Notify(ctx, message())
			if err == nil {
				t.Fatal("Notify succeeded, want an error")
			}
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v (err: %v)", retry, tt.wantRetry, err)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("error %q does not contain %q", err, tt.wantIn)
			}
			if errors.Is(err, netguard.ErrBlocked) != tt.blocked {
				t.Errorf("errors.Is(err, ErrBlocked) = %v, want %v", !tt.blocked, tt.blocked)
			}
			for _, leak := range []string{secret, "token123", "/hook"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q leaks %q", err, leak)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Notify took %v", d)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     webhook.Config
		wantErr string
	}{
		{name: "valid", cfg: webhook.Config{URL: "https://hooks.example.com/x", Headers: map[string]string{"Authorization": "Bearer t"}}},
		{name: "no scheme", cfg: webhook.Config{URL: "hooks.example.com/x"}, wantErr: "http or https"},
		{name: "no host", cfg: webhook.Config{URL: "https:///x"}, wantErr: "absolute http or https URL"},
		{name: "credentials in url", cfg: webhook.Config{URL: "https://user:pw@hooks.example.com/"}, wantErr: "credentials"},
		{name: "override signature", cfg: webhook.Config{URL: "https://h.example.com/", Headers: map[string]string{"x-nightjar-signature": "v1=00"}}, wantErr: "X-Nightjar- headers are set by Nightjar"},
		{name: "override idempotency key", cfg: webhook.Config{URL: "https://h.example.com/", Headers: map[string]string{"Idempotency-Key": "1"}}, wantErr: "Idempotency-Key"},
		{name: "bad header name", cfg: webhook.Config{URL: "https://h.example.com/", Headers: map[string]string{"X Bad": "1"}}, wantErr: "not a valid"},
		{name: "header injection", cfg: webhook.Config{URL: "https://h.example.com/", Headers: map[string]string{"X-Ok": "1\r\nX-Evil: 2"}}, wantErr: "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want error containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("error %q leaks URL credentials", err)
			}
		})
	}
}

// TestPayloadSchema pins the JSON document receivers depend on: its exact
// bytes (golden files) and its exact key sets.
func TestPayloadSchema(t *testing.T) {
	resolved := message()
	resolved.Event = notify.EventAlertResolved
	resolved.Alert.Status = "resolved"
	resolved.Alert.EndsAt = time.Date(2025, 3, 1, 12, 42, 10, 999, time.UTC)
	bare := notify.Message{ID: "m1", Event: notify.EventTest}
	linked := message()
	linked.Alert.Links = []nightjar.Link{{Href: "https://grafana.example.com/d/abc"}, {Href: "https://runbooks.example.com/payments", Text: "Runbook"}, {Href: "javascript:alert(1)", Text: "dropped"}}
	page := message()
	page.Event, page.ConsoleURL = notify.EventIncidentPage, "https://nightjar.example.com"
	page.Incident = &nightjar.IncidentRef{ID: "inc1", Number: 7, Title: "Checkout down", Service: "checkout", Urgency: "page",
		Status: "triggered", Since: time.Date(2025, 3, 1, 12, 0, 0, 5, time.UTC), Step: 1, Round: 1, AckToken: "a.b", ResolveToken: "c.d",
		Changes: []nightjar.ChangeRef{{At: time.Date(2025, 3, 1, 11, 40, 0, 0, time.UTC), Summary: "deploy v1.4.2", Source: "github-actions"}}}

	tests := []struct {
		name string
		msg  notify.Message
	}{
		{name: "firing", msg: message()},
		{name: "resolved", msg: resolved},
		{name: "bare_test_event", msg: bare},
		{name: "links", msg: linked},
		{name: "incident_page", msg: page},
		{name: "bundle", msg: notifytest.Bundle()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := webhook.Encode(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatalf("payload is not JSON: %v", err)
			}
			keys := []string{"version", "id", "event", "project_id", "alert", "console_url", "created_at"}
			if tt.msg.Incident != nil {
				keys = append(keys, "incident")
				inc, _ := doc["incident"].(map[string]any)
				assertKeys(t, "incident", inc, "id", "number", "title", "service", "urgency", "status", "since", "step", "round", "ack_url", "resolve_url", "changes")
			}
			if len(tt.msg.Bundle) > 0 {
				keys = append(keys, "bundle")
				items, _ := doc["bundle"].([]any)
				if len(items) != len(tt.msg.Bundle) {
					t.Fatalf("bundle has %d items, want %d", len(items), len(tt.msg.Bundle))
				}
				for i, it := range items {
					item, _ := it.(map[string]any)
					assertKeys(t, "bundle item", item, "id", "alert", "incident", "created_at")
					inc, _ := item["incident"].(map[string]any)
					if want := "https://nightjar.example.com/ack/" + tt.msg.Bundle[i].Incident.AckToken; inc["ack_url"] != want || item["id"] != tt.msg.Bundle[i].Key() {
						t.Errorf("bundle item %d: id %v, ack_url %v, want %s, %s", i, item["id"], inc["ack_url"], tt.msg.Bundle[i].Key(), want)
					}
				}
				if doc["id"] != tt.msg.Key() {
					t.Errorf("bundle's id = %v, want its own key %s", doc["id"], tt.msg.Key())
				}
			}
			assertKeys(t, "payload", doc, keys...)
			alert, ok := doc["alert"].(map[string]any)
			if !ok {
				t.Fatalf("alert is %T, want an object", doc["alert"])
			}
			assertKeys(t, "alert", alert, "dedup_key", "service", "severity", "summary", "details", "status", "starts_at", "ends_at", "links")
			if _, ok := alert["details"].(map[string]any); !ok {
				t.Errorf("details is %T, want an object", alert["details"])
			}
			if _, ok := alert["links"].([]any); !ok {
				t.Errorf("links is %T, want an array", alert["links"])
			}
			if v, ok := doc["version"].(float64); !ok || v != 1 {
				t.Errorf("version = %v, want 1", doc["version"])
			}
			for _, f := range []string{"starts_at", "ends_at"} {
				if s, ok := alert[f].(string); ok {
					if _, err := time.Parse(time.RFC3339, s); err != nil || !strings.HasSuffix(s, "Z") {
						t.Errorf("%s = %q, want RFC 3339 in UTC", f, s)
					}
				}
			}

			var pretty bytes.Buffer
			if err := json.Indent(&pretty, body, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			goldentest.Compare(t, filepath.Join("testdata", "payload_"+tt.name+".golden.json"), pretty.String())
		})
	}
}

func assertKeys(t *testing.T, what string, obj map[string]any, want ...string) {
	t.Helper()
	var got []string
	for k := range obj {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s keys = %v, want %v", what, got, want)
	}
}
