package demo_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/nightjar-dev/nightjar/demo"
)

// span is what the tests look at of one received span.
type span struct {
	service, name    string
	kind             ptrace.SpanKind
	trace, id, their string // trace, span and parent span ids
	failed           bool
	attrs            map[string]any
}

// receiver is an OTLP/HTTP trace receiver that decodes exports with the
// OpenTelemetry Collector's own types, as Nightjar's ingest does.
type receiver struct {
	t     *testing.T
	key   string
	mu    sync.Mutex
	spans []span
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		rc.t.Errorf("export %s %s as %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		http.Error(w, "unexpected", http.StatusBadRequest)
		return
	}
	if r.Header.Get("X-Api-Key") != rc.key {
		http.Error(w, "bad key", http.StatusUnauthorized)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(data); err != nil {
		rc.t.Errorf("decode export: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rs := req.Traces().ResourceSpans()
	rc.mu.Lock()
	for i := range rs.Len() {
		service, _ := rs.At(i).Resource().Attributes().Get("service.name")
		ss := rs.At(i).ScopeSpans()
		for j := range ss.Len() {
			spans := ss.At(j).Spans()
			for k := range spans.Len() {
				s := spans.At(k)
				rc.spans = append(rc.spans, span{
					service: service.Str(), name: s.Name(), kind: s.Kind(),
					trace: s.TraceID().String(), id: s.SpanID().String(), their: parent(s.ParentSpanID()),
					failed: s.Status().Code() == ptrace.StatusCodeError, attrs: s.Attributes().AsRaw(),
				})
			}
		}
	}
	rc.mu.Unlock()
	resp, _ := ptraceotlp.NewExportResponse().MarshalProto()
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

func parent(id pcommon.SpanID) string {
	if id.IsEmpty() {
		return ""
	}
	return id.String()
}

func (rc *receiver) received() []span {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]span(nil), rc.spans...)
}

// start runs the shop against a fresh receiver.
func start(t *testing.T, failPercent float64) (*demo.App, *receiver) {
	t.Helper()
	rc := &receiver{t: t, key: "demo-key"}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	app, err := demo.Start(context.Background(), demo.Config{
		Endpoint: srv.URL + "/v1/traces", Headers: map[string]string{"X-Api-Key": rc.key}, FailPercent: failPercent,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close(context.Background()) })
	return app, rc
}

func visit(t *testing.T, app *demo.App, user, path string, want int) {
	t.Helper()
	status, err := app.Visit(context.Background(), user, path)
	if err != nil || status != want {
		t.Fatalf("%s %s: %d %v, want %d", user, path, status, err, want)
	}
}

// byTrace groups spans by trace id.
func byTrace(spans []span) map[string][]span {
	out := map[string][]span{}
	for _, s := range spans {
		out[s.trace] = append(out[s.trace], s)
	}
	return out
}

// path describes a checkout trace from the edge down, one span a line,
// following parent links: "service kind name status failed peer.service".
func path(t *testing.T, spans []span) []string {
	t.Helper()
	children := map[string][]span{}
	var roots []span
	for _, s := range spans {
		if s.their == "" {
			roots = append(roots, s)
		} else {
			children[s.their] = append(children[s.their], s)
		}
	}
	if len(roots) != 1 {
		t.Fatalf("trace has %d roots: %+v", len(roots), spans)
	}
	var out []string
	for s := roots[0]; ; {
		line := strings.Join([]string{s.service, strings.ToUpper(s.kind.String()), s.name}, " ")
		line += " " + toString(s.attrs["http.response.status_code"])
		if s.failed {
			line += " error"
		}
		if p, ok := s.attrs["peer.service"]; ok {
			line += " peer=" + toString(p)
		}
		out = append(out, line)
		next := children[s.id]
		if len(next) == 0 {
			break
		}
		if len(next) > 1 {
			t.Fatalf("span %s has %d children", s.name, len(next))
		}
		s = next[0]
	}
	if len(out) != len(spans) {
		t.Fatalf("%d spans, %d on the path from the root: %+v", len(spans), len(out), spans)
	}
	return out
}

func toString(v any) string {
	switch v := v.(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		return v
	}
	return fmt.Sprint(v)
}

func TestCheckoutTracesCrossTheThreeServices(t *testing.T) {
	app, rc := start(t, 0)
	visit(t, app, "user-001", "/checkout", 200)
	visit(t, app, "user-002", "/products", 200)
	if err := app.SetFailPercent(100); err != nil {
		t.Fatal(err)
	}
	visit(t, app, "user-003", "/checkout", 502)
	visit(t, app, "user-003", "/orders", 200) // payments' failures stay at checkout
	if err := app.Close(context.Background()); err != nil {
		t.Fatal(err) // exports the remaining spans
	}

	traces := byTrace(rc.received())
	if len(traces) != 4 {
		t.Fatalf("%d traces, want 4", len(traces))
	}
	services := map[string]bool{}
	got := map[string][]string{}
	for _, spans := range traces {
		p := path(t, spans)
		var user string
		for _, s := range spans {
			services[s.service] = true
			if s.their == "" {
				user = toString(s.attrs["enduser.id"])
				if s.attrs["http.route"] != strings.TrimPrefix(s.name, "GET ") {
					t.Errorf("edge span %s has route %v", s.name, s.attrs["http.route"])
				}
			} else if _, ok := s.attrs["enduser.id"]; ok {
				t.Errorf("inner span %s %s has enduser.id", s.service, s.name)
			}
		}
		got[user+" "+strings.Fields(p[0])[3]] = p
	}
	if len(services) != 3 || !services[demo.Storefront] || !services[demo.Orders] || !services[demo.Payments] {
		t.Errorf("services %v", services)
	}
	want := map[string][]string{
		"user-001 /checkout": {
			"storefront SERVER GET /checkout 200",
			"storefront CLIENT POST /orders 200 peer=orders",
			"orders SERVER POST /orders 200",
			"orders CLIENT POST /charge 200 peer=payments",
			"payments SERVER POST /charge 200",
		},
		"user-002 /products": {"storefront SERVER GET /products 200"},
		"user-003 /checkout": {
			"storefront SERVER GET /checkout 502 error",
			"storefront CLIENT POST /orders 502 error peer=orders",
			"orders SERVER POST /orders 502 error",
			"orders CLIENT POST /charge 503 error peer=payments",
			"payments SERVER POST /charge 503 error",
		},
		"user-003 /orders": {
			"storefront SERVER GET /orders 200",
			"storefront CLIENT GET /orders 200 peer=orders",
			"orders SERVER GET /orders 200",
		},
	}
	for k, w := range want {
		if strings.Join(got[k], "\n") != strings.Join(w, "\n") {
			t.Errorf("%s:\n got  %q\n want %q", k, got[k], w)
		}
	}
}

// The load generator's users each send requests under their own id, at
// the rate asked for, and a share of them fail while failures are on.
func TestLoadUsersAndFailures(t *testing.T) {
	app, rc := start(t, 50)
	var stats demo.Stats
	begin := time.Now()
	if err := app.Run(context.Background(), demo.Load{Users: 4, RPS: 200, Limit: 60}, &stats); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(begin)
	if err := app.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	users := map[string]int{}
	failedEdge := 0
	for _, s := range rc.received() {
		if s.their == "" {
			users[toString(s.attrs["enduser.id"])]++
			if s.failed {
				failedEdge++
			}
		}
	}
	if stats.Requests != 60 || len(users) != 4 || int64(failedEdge) != stats.Failed {
		t.Errorf("stats %+v, edge spans by user %v, %d failed", stats, users, failedEdge)
	}
	for u, n := range users {
		if n < 10 || n > 20 {
			t.Errorf("%s made %d of 60 requests; users should take turns evenly", u, n)
		}
	}
	// 60 requests at 200/s take about 0.3 s; far less means no pacing.
	if elapsed < 200*time.Millisecond {
		t.Errorf("60 requests at 200/s took %s", elapsed)
	}
	if stats.Failed == 0 || stats.Failed == stats.Requests {
		t.Errorf("with half the charges failing, %d of %d requests failed", stats.Failed, stats.Requests)
	}
	if err := app.Run(context.Background(), demo.Load{Users: 0, RPS: 1}, nil); err == nil || !strings.Contains(err.Error(), "users") {
		t.Errorf("no users: %v", err)
	}
}

func TestControlEndpoint(t *testing.T) {
	app, _ := start(t, 0)
	srv := httptest.NewServer(app.ControlHandler())
	defer srv.Close()
	for _, tc := range []struct {
		method, query string
		status        int
		body          string
	}{
		{"GET", "", 200, `{"fail_percent":0}`},
		{"POST", "?percent=25", 200, `{"fail_percent":25}`},
		{"PUT", "?percent=100", 200, `{"fail_percent":100}`},
		{"POST", "?percent=101", 400, `{"error":"percent: must be a number from 0 to 100","field":"percent"}`},
		{"POST", "?percent=NaN", 400, `"field":"percent"`},
		{"POST", "", 400, `"field":"percent"`},
		{"GET", "", 200, `{"fail_percent":100}`},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+"/failures"+tc.query, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.body) {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.query, resp.StatusCode, body, tc.status, tc.body)
		}
	}
	if app.FailPercent() != 100 {
		t.Errorf("fail percent %v", app.FailPercent())
	}
}
