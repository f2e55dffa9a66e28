package otlpin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/otlpin"
)

func TestDecodeEvents(t *testing.T) {
	body := `{"time": "2026-11-27T10:00:00Z", "operation": "checkout", "user": "u-17", "ok": true, "latency_ms": 84.5, "attributes": {"region": "eu"}}

{"time": "2026-11-27T10:00:01.5+01:00", "service": "billing", "operation": "charge", "status": 502}
`
	var got []otlpin.Span
	n, err := otlpin.DecodeEvents([]byte(body), "shop", func(s *otlpin.Span) { got = append(got, *s) })
	if err != nil || n != 2 {
		t.Fatalf("n = %d, err = %v", n, err)
	}
	a := got[0]
	if a.Service != "shop" || a.Operation != "checkout" || a.User != "u-17" || a.Failed || a.Duration != 84500*time.Microsecond ||
		!a.At.Equal(t0) || a.Attributes["region"] != "eu" || a.SpanKind != "" {
		t.Errorf("first = %+v", a)
	}
	b := got[1]
	if b.Service != "billing" || b.HTTPStatus != 502 || b.Failed || !b.At.Equal(t0.Add(-time.Hour+1500*time.Millisecond)) {
		t.Errorf("second = %+v", b)
	}
}

func TestDecodeEventsErrors(t *testing.T) {
	for _, c := range []struct{ body, field, msg string }{
		{`{"operation": "x", "ok": true}`, "time", "line 1"},
		{`{"time": "yesterday", "operation": "x", "ok": true}`, "time", "RFC 3339"},
		{"{\"time\": \"2026-11-27T10:00:00Z\", \"operation\": \"x\", \"ok\": true}\n{\"time\": \"2026-11-27T10:00:00Z\", \"ok\": true}", "operation", "line 2"},
		{`{"time": "2026-11-27T10:00:00Z", "operation": "x"}`, "ok", "ok or status"},
		{`{"time": "2026-11-27T10:00:00Z", "operation": "x", "status": 42}`, "status", "100 to 599"},
		{`{"time": "2026-11-27T10:00:00Z", "operation": "x", "ok": "yes"}`, "ok", "expected bool"},
		{`{"time": "2026-11-27T10:00:00Z", "operation": "x", "ok": true, "latency_ms": -1}`, "latency_ms", "from 0"},
		{`{"time": "2026-11-27T10:00:00Z", "operation": "x", "ok": true, "colour": 1}`, "colour", "unknown field"},
		{`{"time": "2026-11-27T10:00:00Z", "operation": "x", "ok": true, "user": "` + strings.Repeat("u", 201) + `"}`, "user", "at most"},
		{`{"time": "2026-11-27T10:00:00Z", "operation": "x", "ok": true, "attributes": {"k": "\u0000"}}`, "attributes.k", ""},
		{`{"time": "2026-11-27T10:00:00Z", "service": "", "operation": "x", "ok": true}`, "service", "service parameter"},
		{`[1, 2]`, "", "JSON object"},
		{`{"time": "2026-11-27T10:00:00Z", "operation": "x", "ok": true} {}`, "", "nothing after"},
		{"\n\n", "", "no events"},
	} {
		service := "shop"
		if strings.Contains(c.body, `"service": ""`) {
			service = ""
		}
		called := false
		_, err := otlpin.DecodeEvents([]byte(c.body), service, func(*otlpin.Span) { called = true })
		if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != c.field || !strings.Contains(nightjar.ErrorMessage(err), c.msg) {
			t.Errorf("%s: err = %v, want field %q and %q", c.body, err, c.field, c.msg)
		}
		if called {
			t.Errorf("%s: events of a refused batch were handed on", c.body)
		}
	}
}
