package otlpin_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/attribution"
	"github.com/nightjar-dev/nightjar/otlpin"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// testSpan describes one span of a test export.
type testSpan struct {
	service, name string
	kind          ptrace.SpanKind
	failed        bool
	status        int64
	user          string
	start, end    time.Time
	noTrace       bool
	route, peer   string
	attrs         map[string]string
}

// export builds an export request with one resource per span.
func export(spans ...testSpan) ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	for i, s := range spans {
		rs := td.ResourceSpans().AppendEmpty()
		if s.service != "" {
			rs.Resource().Attributes().PutStr("service.name", s.service)
		}
		sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		sp.SetName(s.name)
		sp.SetKind(s.kind)
		if !s.noTrace {
			sp.SetTraceID(pcommon.TraceID{1, 2, 3, byte(i)})
		}
		sp.SetSpanID(pcommon.SpanID{9, byte(i)})
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(s.start))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(s.end))
		if s.failed {
			sp.Status().SetCode(ptrace.StatusCodeError)
		}
		if s.status != 0 {
			sp.Attributes().PutInt("http.response.status_code", s.status)
		}
		if s.user != "" {
			sp.Attributes().PutStr("enduser.id", s.user)
		}
		if s.route != "" {
			sp.Attributes().PutStr("http.route", s.route)
		}
		if s.peer != "" {
			sp.Attributes().PutStr("peer.service", s.peer)
		}
		for k, v := range s.attrs {
			sp.Attributes().PutStr(k, v)
		}
	}
	return ptraceotlp.NewExportRequestFromTraces(td)
}

func encode(t testing.TB, req ptraceotlp.ExportRequest, enc otlpin.Encoding) []byte {
	t.Helper()
	var b []byte
	var err error
	if enc == otlpin.JSON {
		b, err = req.MarshalJSON()
	} else {
		b, err = req.MarshalProto()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestDecodeBothEncodings(t *testing.T) {
	req := export(
		testSpan{service: "shop", name: "GET /orders/{id}", kind: ptrace.SpanKindServer, status: 503, user: "u1",
			route: "/orders/{id}", start: t0, end: t0.Add(120 * time.Millisecond), attrs: map[string]string{"region": "eu"}},
		testSpan{service: "shop", name: "SELECT", kind: ptrace.SpanKindClient, failed: true, peer: "db",
			start: t0, end: t0.Add(5 * time.Millisecond)},
	)
	for _, enc := range []otlpin.Encoding{otlpin.Protobuf, otlpin.JSON} {
		for _, zip := range []bool{false, true} {
			body := encode(t, req, enc)
			ce := ""
			if zip {
				body, ce = gz(body), "gzip"
			}
			raw, err := otlpin.ReadBody(bytes.NewReader(body), ce, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			td, err := otlpin.DecodeTraces(raw, enc)
			if err != nil {
				t.Fatal(err)
			}
			var got []otlpin.Span
			var v otlpin.Visitor
			res := v.Visit(td, func(s *otlpin.Span) {
				c := *s
				c.Attributes = map[string]string{}
				for k, v := range s.Attributes {
					c.Attributes[k] = v
				}
				got = append(got, c)
			})
			if res.Accepted != 2 || res.Rejected != 0 || len(got) != 2 {
				t.Fatalf("enc %d gzip %v: result %+v, %d spans", enc, zip, res, len(got))
			}
			s := got[0]
			if s.Service != "shop" || s.SpanKind != "SERVER" || s.HTTPStatus != 503 || s.User != "u1" || s.Route != "/orders/{id}" ||
				s.Duration != 120*time.Millisecond || !s.At.Equal(t0.Add(120*time.Millisecond)) || s.Attributes["region"] != "eu" || s.Failed {
				t.Errorf("server span = %+v", s)
			}
			if s.TraceID != [16]byte{1, 2, 3, 0} || s.Peer != "" {
				t.Errorf("server span ids/peer = %x %q", s.TraceID, s.Peer)
			}
			c := got[1]
			if c.SpanKind != "CLIENT" || !c.Failed || c.Peer != "db" || c.User != "" || len(c.Attributes) != 0 {
				t.Errorf("client span = %+v", c)
			}
		}
	}
}

func TestPartialSuccess(t *testing.T) {
	good := testSpan{service: "shop", name: "GET", kind: ptrace.SpanKindServer, start: t0, end: t0.Add(time.Millisecond)}
	noService := good
	noService.service = ""
	noTrace := good
	noTrace.noTrace = true
	backwards := good
	backwards.start, backwards.end = t0.Add(time.Second), t0
	td, err := otlpin.DecodeTraces(encode(t, export(good, noService, noTrace, backwards), otlpin.Protobuf), otlpin.Protobuf)
	if err != nil {
		t.Fatal(err)
	}
	var v otlpin.Visitor
	n := 0
	res := v.Visit(td, func(*otlpin.Span) { n++ })
	if res.Accepted != 1 || res.Rejected != 3 || n != 1 {
		t.Fatalf("result = %+v, visited %d", res, n)
	}
	if !strings.Contains(res.Problem, "resource_spans[1]") || !strings.Contains(res.Problem, "service.name") {
		t.Errorf("problem = %q", res.Problem)
	}
	for _, enc := range []otlpin.Encoding{otlpin.Protobuf, otlpin.JSON} {
		b, err := otlpin.Response(res, enc)
		if err != nil {
			t.Fatal(err)
		}
		resp := ptraceotlp.NewExportResponse()
		if enc == otlpin.JSON {
			err = resp.UnmarshalJSON(b)
		} else {
			err = resp.UnmarshalProto(b)
		}
		if err != nil {
			t.Fatal(err)
		}
		ps := resp.PartialSuccess()
		if ps.RejectedSpans() != 3 || !strings.Contains(ps.ErrorMessage(), "3 of 4 spans rejected") {
			t.Errorf("partial success = %d %q", ps.RejectedSpans(), ps.ErrorMessage())
		}
	}
	b, _ := otlpin.Response(otlpin.Result{Accepted: 3}, otlpin.JSON)
	if string(b) != "{}" {
		t.Errorf("full success answer = %s, want {}", b)
	}
}

func TestJSONHexIDs(t *testing.T) {
	body := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
	"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b173",
	"name":"GET /","kind":2,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000",
	"status":{"code":2}}]}]}]}`
	td, err := otlpin.DecodeTraces([]byte(body), otlpin.JSON)
	if err != nil {
		t.Fatal(err)
	}
	var v otlpin.Visitor
	var got otlpin.Span
	v.Visit(td, func(s *otlpin.Span) { got = *s })
	if got.TraceID != [16]byte{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c} ||
		got.ParentID != [8]byte{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73} || !got.Failed || got.SpanKind != "SERVER" || got.Duration != time.Second {
		t.Errorf("span = %+v", got)
	}
}

func TestReadBodyLimits(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 2000)
	if _, err := otlpin.ReadBody(bytes.NewReader(big), "", 1000); !errors.Is(err, otlpin.ErrTooLarge) {
		t.Errorf("plain over limit: %v", err)
	}
	if _, err := otlpin.ReadBody(bytes.NewReader(gz(big)), "gzip", 1000); !errors.Is(err, otlpin.ErrTooLarge) {
		t.Errorf("gzip bomb over limit: %v", err)
	}
	if b, err := otlpin.ReadBody(bytes.NewReader(gz(big)), "gzip", 2000); err != nil || len(b) != 2000 {
		t.Errorf("gzip at limit: %d %v", len(b), err)
	}
	_, err := otlpin.ReadBody(bytes.NewReader(big), "gzip", 5000)
	if nightjar.ErrorField(err) != "Content-Encoding" {
		t.Errorf("not gzip: %v", err)
	}
	_, err = otlpin.ReadBody(bytes.NewReader(big), "br", 5000)
	if nightjar.ErrorField(err) != "Content-Encoding" {
		t.Errorf("brotli: %v", err)
	}
	if _, err := otlpin.DecodeTraces([]byte("not proto \xff\xff"), otlpin.Protobuf); nightjar.ErrorCode(err) != nightjar.EINVALID {
		t.Errorf("garbage: %v", err)
	}
}

func TestParseContentType(t *testing.T) {
	for ct, want := range map[string]int{"application/x-protobuf": 0, "application/json; charset=utf-8": 1, "text/plain": -1, "": -1} {
		enc, ok := otlpin.ParseContentType(ct)
		if got := map[bool]int{false: -1, true: int(enc)}[ok]; got != want {
			t.Errorf("%q: %d, want %d", ct, got, want)
		}
	}
}

// The failing-trace sample gets a span's ids and times as the export
// carried them, and hands kept traces out with the ids hex-encoded as
// tracing tools show them, so that evidence names traces one can look up.
func TestAttributionKeepsTheExportsIds(t *testing.T) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "shop")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	tid := pcommon.TraceID{0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff}
	root, call := spans.AppendEmpty(), spans.AppendEmpty()
	for _, sp := range []ptrace.Span{root, call} {
		sp.SetTraceID(tid)
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(t0))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(t0.Add(20 * time.Millisecond)))
		sp.Status().SetCode(ptrace.StatusCodeError)
	}
	root.SetSpanID(pcommon.SpanID{0xc0, 0xff, 0xee, 0, 0, 0, 0, 1})
	root.SetName("GET /cart")
	root.SetKind(ptrace.SpanKindServer)
	call.SetSpanID(pcommon.SpanID{0xc0, 0xff, 0xee, 0, 0, 0, 0, 2})
	call.SetParentSpanID(root.SpanID())
	call.SetName("SELECT cart")
	call.SetKind(ptrace.SpanKindClient)
	call.SetStartTimestamp(pcommon.NewTimestampFromTime(t0.Add(5 * time.Millisecond)))
	call.Attributes().PutStr("server.address", "db.internal")
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := otlpin.DecodeTraces(body, otlpin.Protobuf)
	if err != nil {
		t.Fatal(err)
	}
	s, err := attribution.NewSampler(attribution.SamplerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var v otlpin.Visitor
	v.Visit(decoded, func(sp *otlpin.Span) { s.Add(new(sp.Attribution()), t0) })
	s.Advance(t0.Add(time.Hour))
	kept := s.Traces(attribution.Operation{Service: "shop", Name: "GET /cart"})
	if len(kept) != 1 || kept[0].ID != "ab0102030405060708090a0b0c0d0eff" || len(kept[0].Spans) != 2 {
		t.Fatalf("kept %+v", kept)
	}
	got := kept[0].Spans[1]
	if got.SpanID != "c0ffee0000000002" || got.ParentID != "c0ffee0000000001" || kept[0].Spans[0].ParentID != "" ||
		!got.Start.Equal(t0.Add(5*time.Millisecond)) || !got.End.Equal(t0.Add(20*time.Millisecond)) || got.Kind != "CLIENT" {
		t.Errorf("client span %+v", got)
	}
	if o, ok := attribution.FindOrigin(kept[0].Spans); !ok || o.Service != "db.internal" || !o.Peer || o.SpanID != "c0ffee0000000002" {
		t.Errorf("origin %+v, %v", o, ok)
	}
}
