package otlpin_test

import (
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/otlpin"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// FuzzTraces feeds arbitrary bodies to both OTLP decodings: an error is
// always EINVALID, and every span handed on is valid.
func FuzzTraces(f *testing.F) {
	req := export(testSpan{service: "shop", name: "GET", kind: ptrace.SpanKindServer, status: 500, user: "u", start: t0, end: t0.Add(time.Second)})
	f.Add(encode(f, req, otlpin.Protobuf), false)
	f.Add(encode(f, req, otlpin.JSON), true)
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}`), true)
	f.Add([]byte{0x0a, 0x05, 0x12, 0x03, 0x12, 0x01, 0x00}, false)
	f.Fuzz(func(t *testing.T, body []byte, json bool) {
		enc := otlpin.Protobuf
		if json {
			enc = otlpin.JSON
		}
		td, err := otlpin.DecodeTraces(body, enc)
		if err != nil {
			if nightjar.ErrorCode(err) != nightjar.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		var v otlpin.Visitor
		res := v.Visit(td, func(s *otlpin.Span) {
			if s.Service == "" || s.SpanName == "" || s.Duration < 0 || s.TraceID == [16]byte{} {
				t.Fatalf("invalid span handed on: %+v", s)
			}
		})
		if res.Accepted+res.Rejected != int64(td.SpanCount()) {
			t.Fatalf("result %+v for %d spans", res, td.SpanCount())
		}
		if _, err := otlpin.Response(res, enc); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzEvents feeds arbitrary bodies to the event decoder: an error is
// EINVALID, and every event handed on is valid.
func FuzzEvents(f *testing.F) {
	f.Add([]byte(`{"time": "2026-11-27T10:00:00Z", "operation": "checkout", "user": "u-17", "ok": true, "latency_ms": 84}`))
	f.Add([]byte("{\"time\": \"2026-11-27T10:00:00Z\", \"operation\": \"x\", \"status\": 500}\n{\"time\": 1}"))
	f.Add([]byte(`{"attributes": {"a": 1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := otlpin.DecodeEvents(body, "shop", func(s *otlpin.Span) {
			if s.Service == "" || s.Operation == "" || s.At.IsZero() || s.Duration < 0 || !nightjar.ValidText(s.User) {
				t.Fatalf("invalid event handed on: %+v", s)
			}
		})
		if err != nil && nightjar.ErrorCode(err) != nightjar.EINVALID {
			t.Fatalf("error %v is not EINVALID", err)
		}
	})
}
