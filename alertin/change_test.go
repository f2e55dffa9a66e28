package alertin_test

import (
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alertin"
)

func TestDecodePagerDutyChange(t *testing.T) {
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	e, err := alertin.DecodePagerDutyChange([]byte(`{"routing_key": "`+routingKey+`", "payload": {"summary": "deploy v1.4.2",
		"timestamp": "2026-01-05T09:58:00Z", "source": "github-actions", "custom_details": {"sha": "abc", "n": 2}},
		"links": [{"href": "https://ci.example/1", "text": "build"}]}`), now)
	if err != nil {
		t.Fatal(err)
	}
	c := e.Change
	if e.RoutingKey != routingKey || c.Summary != "deploy v1.4.2" || c.Source != "github-actions" || !c.At.Equal(now.Add(-2*time.Minute)) ||
		c.Details["sha"] != "abc" || c.Details["n"] != "2" || len(c.Links) != 1 || c.Links[0].Href != "https://ci.example/1" {
		t.Fatalf("change = %+v", e)
	}
	e, err = alertin.DecodePagerDutyChange([]byte(`{"routing_key": "`+routingKey+`", "payload": {"summary": "flag on"}}`), now)
	if err != nil || !e.Change.At.Equal(now) {
		t.Fatalf("without timestamp: %+v, %v", e, err)
	}

	for _, tc := range []struct{ body, field string }{
		{`{"payload": {"summary": "s"}}`, "routing_key"},
		{`{"routing_key": "short", "payload": {"summary": "s"}}`, "routing_key"},
		{`{"routing_key": "` + routingKey + `"}`, "payload"},
		{`{"routing_key": "` + routingKey + `", "payload": {}}`, "payload.summary"},
		{`{"routing_key": "` + routingKey + `", "payload": {"summary": "s", "timestamp": "soon"}}`, "payload.timestamp"},
		{`{"routing_key": "` + routingKey + `", "payload": {"summary": "line\nbreak"}}`, "payload.summary"},
		{`{"routing_key": "` + routingKey + `", "payload": {"summary": "s"}, "links": [{"href": "ftp://x"}]}`, "links[0].href"},
	} {
		_, err := alertin.DecodePagerDutyChange([]byte(tc.body), now)
		if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != tc.field {
			t.Errorf("%s: error %v (field %q), want one naming %s", tc.body, err, nightjar.ErrorField(err), tc.field)
		}
	}
}

func TestDecodeChange(t *testing.T) {
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	c, err := alertin.DecodeChange([]byte(`{"service": "payments-api", "summary": "deploy v2", "source": "deploy.sh"}`), now)
	if err != nil || c.Service != "payments-api" || c.Summary != "deploy v2" || c.Source != "deploy.sh" || !c.At.Equal(now) {
		t.Fatalf("change = %+v, %v", c, err)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"summary": "s"}`, "service"},
		{`{"service": "a"}`, "summary"},
		{`{"service": "a", "summary": "s", "at": 5}`, "at"},
	} {
		_, err := alertin.DecodeChange([]byte(tc.body), now)
		if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != tc.field {
			t.Errorf("%s: error %v (field %q), want one naming %s", tc.body, err, nightjar.ErrorField(err), tc.field)
		}
	}
}
