package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/promsli"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
	"github.com/nightjar-dev/nightjar/telemetry"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/protobuf/encoding/protowire"
)

// ingestKey makes an ingest-scoped key in e's project.
func (e *env) ingestKey() string {
	e.t.Helper()
	s, err := e.areas.Projects.CreateKey(context.Background(), &nightjar.APIKey{ProjectID: e.project.ID, Name: "ingest", Scope: nightjar.ScopeIngest}, "", t0)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// loadTargets makes ingest count by the stored objectives, as the flush
// module does.
func (e *env) loadTargets() {
	e.t.Helper()
	all, err := e.areas.SLOs.All(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	var ts []aggregate.Target
	for _, o := range all {
		obj, err := o.Objective()
		if err != nil {
			e.t.Fatal(err)
		}
		ts = append(ts, aggregate.Target{ID: o.ID, ProjectID: o.ProjectID, Objective: obj})
	}
	e.areas.Ingest.Set(ts)
}

// flush stores what ingest counted.
func (e *env) flush() {
	e.t.Helper()
	if err := e.areas.SLOs.AddMinutes(context.Background(), e.areas.Ingest.Flush(e.clock.Now()), e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
}

// traces is an export of n SERVER spans of shop's GET /, failed ones
// first, ending at at; bad adds a span without a trace id.
func traces(n, failed int, at time.Time, bad bool) ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "shop")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := range n {
		sp := spans.AppendEmpty()
		sp.SetName("GET /")
		sp.SetKind(ptrace.SpanKindServer)
		sp.SetTraceID(pcommon.TraceID{byte(i + 1)})
		sp.SetSpanID(pcommon.SpanID{byte(i + 1)})
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(at.Add(-10 * time.Millisecond)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(at))
		sp.Attributes().PutStr("enduser.id", fmt.Sprintf("u%d", i%3))
		if i < failed {
			sp.Status().SetCode(ptrace.StatusCodeError)
		}
	}
	if bad {
		sp := spans.AppendEmpty()
		sp.SetName("GET /")
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(at))
	}
	return ptraceotlp.NewExportRequestFromTraces(td)
}

func TestTracesEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{IngestBodyLimit: 4000})
		ingest := e.ingestKey()
		r := e.do("POST", "/api/v1/slos", e.rw, map[string]any{"service": "shop", "name": "availability", "objective": 99,
			"window": map[string]any{"rolling": "30d"}, "indicator": map[string]any{"kind": "availability", "selector": map[string]any{"span_name": "GET /"}}})
		if r.status != 201 {
			t.Fatalf("create slo: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		e.loadTargets()
		now := e.clock.Now()
		req := traces(10, 4, now.Add(-time.Second), true)
		pb, _ := req.MarshalProto()
		js, _ := req.MarshalJSON()
		var zipped bytes.Buffer
		zw := gzip.NewWriter(&zipped)
		zw.Write(pb)
		zw.Close()
		// Protobuf, JSON and gzip-compressed protobuf, each with one bad
		// span: a partial success in the request's encoding.
		for _, c := range []struct {
			body    []byte
			ct, ce  string
			decode  func([]byte) (ptraceotlp.ExportResponse, error)
			keyHdr  string
			keyName string
		}{
			{pb, "application/x-protobuf", "", protoResp, "X-Api-Key", ingest},
			{js, "application/json", "", jsonResp, "Authorization", "Bearer " + ingest},
			{zipped.Bytes(), "application/x-protobuf", "gzip", protoResp, "X-Api-Key", e.rw},
		} {
			r := e.do("POST", "/v1/traces", "", c.body, "Content-Type", c.ct, "Content-Encoding", c.ce, c.keyHdr, c.keyName)
			if r.status != 200 || r.header.Get("Content-Type") != c.ct {
				t.Fatalf("%s %s: %d %s %s", c.ct, c.ce, r.status, r.header.Get("Content-Type"), r.body)
			}
			out, err := c.decode(r.body)
			if err != nil {
				t.Fatal(err)
			}
			if ps := out.PartialSuccess(); ps.RejectedSpans() != 1 || !strings.Contains(ps.ErrorMessage(), "trace_id") {
				t.Errorf("%s: partial success %d %q", c.ct, ps.RejectedSpans(), ps.ErrorMessage())
			}
		}
		e.flush()
		e.clock.Advance(2 * time.Minute)
		r = e.do("GET", "/api/v1/slos/"+id+"/status", e.ro, nil)
		if r.status != 200 {
			t.Fatalf("status: %d %s", r.status, r.body)
		}
		st := r.json(t)
		if st["requests"].(float64) != 30 || st["bad_requests"].(float64) != 12 || st["users_active"].(float64) != 3 {
			t.Errorf("status = %s", r.body)
		}
		// Refusals: media type, keys, size.
		for _, c := range []struct {
			ct, key string
			body    []byte
			status  int
		}{
			{"text/plain", ingest, pb, 415},
			{"application/x-protobuf", "", pb, 401},
			{"application/x-protobuf", e.ro, pb, 403},
			{"application/x-protobuf", e.ping, pb, 403},
			{"application/x-protobuf", ingest, bytes.Repeat([]byte{0}, 5000), 413},
			{"application/x-protobuf", ingest, []byte{0xff, 0xff, 0xff}, 400},
		} {
			r := e.do("POST", "/v1/traces", c.key, c.body, "Content-Type", c.ct)
			if r.status != c.status {
				t.Errorf("%s key %.6s: %d %s, want %d", c.ct, c.key, r.status, r.body, c.status)
				continue
			}
			if _, msg := rpcStatus(t, r.body); msg == "" {
				t.Errorf("%d: no message in %x", c.status, r.body)
			}
		}
		// The ingest key opens no other API.
		if r := e.do("GET", "/api/v1/slos", ingest, nil); r.status != 403 || !strings.Contains(string(r.body), "spans and events") {
			t.Errorf("ingest key on the API: %d %s", r.status, r.body)
		}
	})
}

func protoResp(b []byte) (ptraceotlp.ExportResponse, error) {
	r := ptraceotlp.NewExportResponse()
	return r, r.UnmarshalProto(b)
}

func jsonResp(b []byte) (ptraceotlp.ExportResponse, error) {
	r := ptraceotlp.NewExportResponse()
	return r, r.UnmarshalJSON(b)
}

// rpcStatus reads a google.rpc.Status message's code and message.
func rpcStatus(t *testing.T, b []byte) (int, string) {
	t.Helper()
	var code int
	var msg string
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("not a Status message: %x", b)
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			code, b = int(v), b[n:]
		case num == 2 && typ == protowire.BytesType:
			v, n := protowire.ConsumeString(b)
			msg, b = v, b[n:]
		default:
			t.Fatalf("unexpected field %d in Status", num)
		}
	}
	return code, msg
}

// TestIngestOverloaded: at its memory limit ingest answers 429 with
// Retry-After until a flush makes room.
func TestIngestOverloaded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		ingest := aggregate.New(aggregate.Limits{Buckets: 1})
		e.areas.Ingest = ingest
		log := slog.New(slog.DiscardHandler)
		s := NewServer(db, e.areas, e.clock, log, Config{IngestRetryAfter: 7 * time.Second}, telemetry.New(telemetry.Source{Checks: e.checks, Outbox: e.outbox}, log))
		e.srv.Config.Handler = s
		r := e.do("POST", "/api/v1/slos", e.rw, map[string]any{"service": "shop", "name": "a", "objective": 99,
			"window": map[string]any{"rolling": "30d"}, "indicator": map[string]any{"kind": "availability"}})
		if r.status != 201 {
			t.Fatalf("create slo: %d %s", r.status, r.body)
		}
		e.loadTargets()
		key := e.ingestKey()
		pb, _ := traces(2, 0, e.clock.Now(), false).MarshalProto()
		if r := e.do("POST", "/v1/traces", key, pb, "Content-Type", "application/x-protobuf"); r.status != 200 {
			t.Fatalf("first export: %d", r.status)
		}
		r = e.do("POST", "/v1/traces", key, pb, "Content-Type", "application/x-protobuf")
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "7" {
			t.Fatalf("full: %d %q", r.status, r.header.Get("Retry-After"))
		}
		ev := `{"time": "` + e.clock.Now().Format(time.RFC3339) + `", "service": "shop", "operation": "x", "ok": true}`
		if r := e.do("POST", "/api/v1/events", key, ev); r.status != 429 {
			t.Errorf("events when full: %d", r.status)
		}
		e.flush()
		if r := e.do("POST", "/v1/traces", key, pb, "Content-Type", "application/x-protobuf"); r.status != 200 {
			t.Errorf("after a flush: %d", r.status)
		}
	})
}

func TestEventsEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		r := e.do("POST", "/api/v1/slos", e.rw, map[string]any{"service": "shop", "name": "checkout", "objective": 99.9,
			"window": map[string]any{"rolling": "30d"}, "indicator": map[string]any{"kind": "availability", "selector": map[string]any{"operation": "checkout"}}})
		if r.status != 201 {
			t.Fatalf("create slo: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		e.loadTargets()
		key := e.ingestKey()
		at := e.clock.Now().Add(-30 * time.Second).Format(time.RFC3339)
		body := fmt.Sprintf(`{"time": "%s", "operation": "checkout", "user": "u1", "ok": true, "latency_ms": 20}
{"time": "%s", "operation": "checkout", "user": "u2", "status": 503}
{"time": "%s", "operation": "browse", "ok": true}`, at, at, at)
		r = e.do("POST", "/api/v1/events?service=shop", key, body)
		if r.status != 200 || r.json(t)["accepted"].(float64) != 3 || r.json(t)["counted"].(float64) != 2 {
			t.Fatalf("events: %d %s", r.status, r.body)
		}
		r = e.do("POST", "/api/v1/events?service=shop", key, `{"time": "x", "operation": "checkout", "ok": true}`)
		if r.status != 400 || r.json(t)["field"] != "time" || !strings.Contains(r.json(t)["error"].(string), "line 1") {
			t.Errorf("bad event: %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/api/v1/events", e.ro, body); r.status != 403 {
			t.Errorf("read-only key: %d", r.status)
		}
		e.flush()
		e.clock.Advance(time.Minute)
		st := e.do("GET", "/api/v1/slos/"+id+"/status", e.ro, nil).json(t)
		if st["requests"].(float64) != 2 || st["bad_requests"].(float64) != 1 {
			t.Errorf("status = %v", st)
		}
	})
}

func TestSLOAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		def := map[string]any{"service": "shop", "name": "latency", "objective": 99,
			"window":    map[string]any{"calendar": "month", "time_zone": "Europe/Berlin"},
			"indicator": map[string]any{"kind": "latency", "threshold": "300ms"}}
		r := e.do("POST", "/api/v1/slos", e.rw, def)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		if r := e.do("POST", "/api/v1/slos", e.rw, def); r.status != 409 {
			t.Errorf("duplicate: %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/api/v1/slos", e.ro, def); r.status != 403 {
			t.Errorf("read-only create: %d", r.status)
		}
		for _, c := range []struct {
			body  string
			field string
		}{
			{`{"service": "shop", "name": "x", "objective": 100, "window": {"rolling": "30d"}, "indicator": {"kind": "availability"}}`, "objective"},
			{`{"service": "shop", "name": "x", "objective": 99, "window": {"rolling": "30d"}, "indicator": {"kind": "latency"}}`, "indicator.threshold"},
			{`{"service": "shop", "name": "x", "objective": "high"}`, "objective"},
			{`{"service": "shop", "name": "x", "colour": 1}`, "colour"},
		} {
			r := e.do("POST", "/api/v1/slos", e.rw, c.body)
			if r.status != 400 || r.json(t)["field"] != c.field {
				t.Errorf("%s: %d %s, want 400 naming %s", c.body, r.status, r.body, c.field)
			}
		}
		r = e.do("PATCH", "/api/v1/slos/"+id, e.rw, `{"objective": 99.5, "indicator": {"threshold": "500ms"}}`)
		got := r.json(t)
		if r.status != 200 || got["objective"].(float64) != 99.5 || got["indicator"].(map[string]any)["threshold"] != "500ms" ||
			got["indicator"].(map[string]any)["kind"] != "latency" {
			t.Errorf("patch: %d %s", r.status, r.body)
		}
		if r := e.do("PATCH", "/api/v1/slos/"+id, e.rw, `{"window": {"rolling": "1d"}}`); r.status != 400 {
			t.Errorf("bad patch: %d %s", r.status, r.body)
		}
		list := e.do("GET", "/api/v1/slos", e.ro, nil).json(t)["slos"].([]any)
		if len(list) != 1 {
			t.Errorf("list = %v", list)
		}
		st := e.do("GET", "/api/v1/slos/"+id+"/status", e.ro, nil)
		if st.status != 200 || st.json(t)["budget_remaining"].(float64) != 1 || len(st.json(t)["rules"].([]any)) != 4 {
			t.Errorf("status of an idle objective: %d %s", st.status, st.body)
		}
		if r := e.do("DELETE", "/api/v1/slos/"+id, e.rw, nil); r.status != 204 {
			t.Errorf("delete: %d", r.status)
		}
		if r := e.do("GET", "/api/v1/slos/"+id, e.ro, nil); r.status != 404 {
			t.Errorf("after delete: %d", r.status)
		}
	})
}

// The list pages by limit and offset, names a bad one, and shows each
// objective's last evaluation once there is one.
func TestSLOListPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		for _, name := range []string{"c", "a", "b"} {
			r := e.do("POST", "/api/v1/slos", e.rw, map[string]any{"service": "shop", "name": name, "objective": 99,
				"window": map[string]any{"rolling": "30d"}, "indicator": map[string]any{"kind": "availability"}})
			if r.status != 201 {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
		}
		names := func(body map[string]any) (out []string) {
			for _, o := range body["slos"].([]any) {
				out = append(out, o.(map[string]any)["name"].(string))
			}
			return out
		}
		first := e.do("GET", "/api/v1/slos?limit=2", e.ro, nil).json(t)
		if got := names(first); strings.Join(got, ",") != "a,b" || first["next_offset"] != 2.0 {
			t.Errorf("first page = %v, next_offset %v", got, first["next_offset"])
		}
		last := e.do("GET", "/api/v1/slos?limit=2&offset=2", e.ro, nil).json(t)
		if got := names(last); strings.Join(got, ",") != "c" || last["next_offset"] != nil {
			t.Errorf("last page = %v, next_offset %v", got, last["next_offset"])
		}
		for _, q := range []string{"limit=0", "limit=1001", "limit=x", "offset=-1"} {
			r := e.do("GET", "/api/v1/slos?"+q, e.ro, nil)
			if want := strings.Split(q, "=")[0]; r.status != 400 || r.json(t)["field"] != want {
				t.Errorf("%s: %d %s, want 400 naming %s", q, r.status, r.body, want)
			}
		}
		if ev := last["slos"].([]any)[0].(map[string]any)["evaluation"]; ev != nil {
			t.Errorf("evaluation before any = %v", ev)
		}
		if _, err := e.areas.SLOs.ProcessDue(context.Background(), e.clock.Now(), 10); err != nil {
			t.Fatal(err)
		}
		all := e.do("GET", "/api/v1/slos", e.ro, nil).json(t)
		for _, o := range all["slos"].([]any) {
			ev, _ := o.(map[string]any)["evaluation"].(map[string]any)
			if ev == nil || ev["budget_remaining"] != 1.0 || ev["requests"] != 0.0 || ev["at"] != e.clock.Now().Truncate(time.Minute).Format(time.RFC3339) {
				t.Errorf("%v: evaluation = %v", o.(map[string]any)["name"], ev)
			}
		}
	})
}

// failingProm is a Prometheus that cannot be read.
type failingProm struct{}

func (failingProm) Fetch(context.Context, slo.PromQuery, time.Time, time.Time) (*promsli.Minutes, error) {
	return nil, fmt.Errorf("%w: prometheus.test answered 503", promsli.ErrUnavailable)
}

// A failed Prometheus read made by another replica (another Service on
// the database) is in the objective's status and in the list, with when.
func TestSLOSourceErrorFromAnotherReplica(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		r := e.do("POST", "/api/v1/slos", e.rw, map[string]any{"service": "shop", "name": "prom", "objective": 99,
			"window": map[string]any{"rolling": "30d"}, "indicator": map[string]any{"kind": "availability",
				"prometheus": map[string]any{"url": "http://prometheus.test:9090", "good": "good", "total": "total"}}})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		at := e.clock.Now()
		if _, err := slos.New(db, nil).FetchPrometheus(context.Background(), failingProm{}, at); err != nil {
			t.Fatal(err)
		}
		st := e.do("GET", "/api/v1/slos/"+id+"/status", e.ro, nil).json(t)
		listed := e.do("GET", "/api/v1/slos", e.ro, nil).json(t)["slos"].([]any)[0].(map[string]any)
		for name, got := range map[string]map[string]any{"status": st, "list": listed} {
			msg, _ := got["source_error"].(string)
			if !strings.Contains(msg, "prometheus.test answered 503") || got["source_error_at"] != at.Format(time.RFC3339) {
				t.Errorf("%s: source_error %q at %v", name, got["source_error"], got["source_error_at"])
			}
		}
	})
}

// TestTracesUserAttribute counts customers by the configured attribute
// rather than enduser.id when the server names another one.
func TestTracesUserAttribute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{IngestUserAttribute: "app.customer_id"})
		ingest := e.ingestKey()
		r := e.do("POST", "/api/v1/slos", e.rw, map[string]any{"service": "shop", "name": "availability", "objective": 99,
			"window": map[string]any{"rolling": "30d"}, "indicator": map[string]any{"kind": "availability", "selector": map[string]any{"span_name": "GET /"}}})
		if r.status != 201 {
			t.Fatalf("create slo: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		e.loadTargets()
		req := traces(10, 0, e.clock.Now().Add(-time.Second), false)
		// enduser.id names 3 users; the configured attribute names 5.
		spans := req.Traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		for i := range spans.Len() {
			spans.At(i).Attributes().PutStr("app.customer_id", fmt.Sprintf("c%d", i%5))
		}
		pb, _ := req.MarshalProto()
		if r := e.do("POST", "/v1/traces", "", pb, "Content-Type", "application/x-protobuf", "X-Api-Key", ingest); r.status != 200 {
			t.Fatalf("traces: %d %s", r.status, r.body)
		}
		e.flush()
		e.clock.Advance(2 * time.Minute)
		r = e.do("GET", "/api/v1/slos/"+id+"/status", e.ro, nil)
		if r.status != 200 {
			t.Fatalf("status: %d %s", r.status, r.body)
		}
		if st := r.json(t); st["requests"].(float64) != 10 || st["users_active"].(float64) != 5 {
			t.Errorf("status = %s", r.body)
		}
	})
}

// GET /api/v1/bad-time counts each service's customers once and each
// objective's, from this server's events and another replica's flushed
// ones, with the later request of a customer winning.
func TestBadTimeEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		ids := map[string]string{}
		for _, c := range []struct{ service, name, op string }{{"shop", "checkout", "checkout"}, {"shop", "browse", "browse"}, {"billing", "checkout", "checkout"}} {
			r := e.do("POST", "/api/v1/slos", e.rw, map[string]any{"service": c.service, "name": c.name, "objective": 99,
				"window": map[string]any{"rolling": "30d"}, "indicator": map[string]any{"kind": "availability", "selector": map[string]any{"operation": c.op}}})
			if r.status != 201 {
				t.Fatalf("create slo: %d %s", r.status, r.body)
			}
			ids[c.service+"/"+c.name] = r.json(t)["id"].(string)
		}
		e.loadTargets()
		now := e.clock.Now()
		// Another replica saw u1 fail a minute ago and u3 succeed.
		other := aggregate.New(aggregate.Limits{})
		if err := engine.LoadTargets(context.Background(), e.areas.SLOs, other); err != nil {
			t.Fatal(err)
		}
		other.Observe(e.project.ID, &slo.Request{Service: "shop", Operation: "checkout", Failed: true}, "u1", now.Add(-time.Minute), now)
		other.Observe(e.project.ID, &slo.Request{Service: "shop", Operation: "browse"}, "u3", now.Add(-time.Minute), now)
		if err := e.areas.SLOs.AddRecentUsers(context.Background(), other.ChangedUsers(), now); err != nil {
			t.Fatal(err)
		}
		at := func(ago time.Duration) string { return now.Add(-ago).Format(time.RFC3339) }
		body := fmt.Sprintf(`{"time": "%s", "operation": "checkout", "user": "u1", "ok": true}
{"time": "%s", "operation": "checkout", "user": "u2", "status": 503}
{"time": "%s", "operation": "browse", "user": "u2", "ok": true}
{"time": "%s", "operation": "browse", "user": "u4", "ok": true}`, at(10*time.Second), at(20*time.Second), at(30*time.Second), at(10*time.Minute))
		if r := e.do("POST", "/api/v1/events?service=shop", e.ingestKey(), body); r.status != 200 {
			t.Fatalf("events: %d %s", r.status, r.body)
		}
		r := e.do("GET", "/api/v1/bad-time", e.ro, nil)
		if r.status != 200 {
			t.Fatalf("bad time: %d %s", r.status, r.body)
		}
		var got struct {
			RecentSeconds int `json:"recent_seconds"`
			Services      []struct {
				Service     string
				UsersActive int `json:"users_active"`
				UsersDown   int `json:"users_down"`
			}
			SLOs []struct {
				ID, Service, Name string
				UsersActive       int `json:"users_active"`
				UsersDown         int `json:"users_down"`
			}
		}
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		// u1's success here came after its failure there; u2's failure
		// came after its success; u3 counts from the other replica; u4 is
		// not recent.
		want := map[string][2]int{"shop": {3, 1}, "billing": {0, 0}, "shop/checkout": {2, 1}, "shop/browse": {2, 0}, "billing/checkout": {0, 0}}
		if got.RecentSeconds != 300 || len(got.Services) != 2 || len(got.SLOs) != 3 || got.Services[0].Service != "billing" {
			t.Fatalf("bad time = %s", r.body)
		}
		for _, s := range got.Services {
			if w := want[s.Service]; s.UsersActive != w[0] || s.UsersDown != w[1] {
				t.Errorf("service %s: %d active, %d down; want %v", s.Service, s.UsersActive, s.UsersDown, w)
			}
		}
		for _, s := range got.SLOs {
			if w := want[s.Service+"/"+s.Name]; s.UsersActive != w[0] || s.UsersDown != w[1] || s.ID != ids[s.Service+"/"+s.Name] {
				t.Errorf("slo %s/%s: %d active, %d down; want %v", s.Service, s.Name, s.UsersActive, s.UsersDown, w)
			}
		}
		st := e.do("GET", "/api/v1/slos/"+ids["shop/checkout"]+"/status", e.ro, nil).json(t)
		if st["users_active"].(float64) != 2 || st["users_down"].(float64) != 1 {
			t.Errorf("status's customers: %v active, %v down; want 2, 1", st["users_active"], st["users_down"])
		}
		if r := e.do("GET", "/api/v1/bad-time", "", nil); r.status != 401 {
			t.Errorf("without a key: %d", r.status)
		}
	})
}
