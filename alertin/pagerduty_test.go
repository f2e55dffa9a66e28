package alertin_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alertin"
)

const routingKey = "e93facc04764012d7bfb002500d5d1a6"

// pdTrigger is PagerDuty's own documented example of a trigger event.
const pdTrigger = `{
  "payload": {
    "summary": "DISK at 99% on machine prod-datapipe03.example.com",
    "timestamp": "2015-07-17T08:42:58.315+0000",
    "severity": "critical",
    "source": "prod-datapipe03.example.com",
    "component": "mysql",
    "group": "prod-datapipe",
    "class": "disk",
    "custom_details": {"free space": "1%", "ping time": "1500ms", "load avg": 0.75, "nested": {"a": [1, "<b>"]}}
  },
  "routing_key": "e93facc04764012d7bfb002500d5d1a6",
  "dedup_key": "srv01/mysql",
  "event_action": "trigger",
  "client": "Sample Monitoring Service",
  "client_url": "https://monitoring.service.com",
  "links": [{"href": "http://pagerduty.example.com", "text": "An example link."}],
  "images": [{"src": "https://chart.example.com/chart.png", "href": "https://example.com/", "alt": "An example link with an image"}]
}`

// keys returns a key generator that counts, as a stand-in for random keys.
func keys() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("generated-%d", n)
	}
}

func TestDecodePagerDutyTrigger(t *testing.T) {
	e, err := alertin.DecodePagerDuty([]byte(pdTrigger), keys())
	if err != nil {
		t.Fatal(err)
	}
	if e.RoutingKey != routingKey || e.Action != "trigger" || e.DedupKey != "srv01/mysql" || e.Generated {
		t.Errorf("event = %+v", e)
	}
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	a := e.Alert(target, now)
	want := &nightjar.Alert{
		ProjectID: "p1",
		DedupKey:  "pagerduty:int1:srv01/mysql",
		Source:    "pagerduty",
		SourceID:  "int1",
		Service:   "platform",
		Severity:  nightjar.SeverityPage,
		Summary:   "DISK at 99% on machine prod-datapipe03.example.com",
		Details:   map[string]string{"free space": "1%", "ping time": "1500ms", "load avg": "0.75", "nested": `{"a":[1,"<b>"]}`},
		Status:    nightjar.AlertFiring,
		StartsAt:  time.Date(2015, 7, 17, 8, 42, 58, 315_000_000, time.UTC),
		Labels: map[string]string{"severity": "critical", "source": "prod-datapipe03.example.com",
			"component": "mysql", "group": "prod-datapipe", "class": "disk"},
		Links: []nightjar.Link{
			{Href: "http://pagerduty.example.com", Text: "An example link."},
			{Href: "https://example.com/", Text: "An example link with an image", Image: "https://chart.example.com/chart.png"},
			{Href: "https://monitoring.service.com", Text: "View in Sample Monitoring Service"},
		},
	}
	if !a.StartsAt.Equal(want.StartsAt) {
		t.Errorf("starts at %s, want %s", a.StartsAt, want.StartsAt)
	}
	a.StartsAt = want.StartsAt
	if !reflect.DeepEqual(a, want) {
		t.Errorf("alert:\n got %+v\nwant %+v", a, want)
	}
}

func TestPagerDutyActions(t *testing.T) {
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	newKey := keys()
	minimal := `{"routing_key": "` + routingKey + `", "event_action": "trigger", "payload": {"summary": "s", "source": "h", "severity": "%s"}}`

	e, err := alertin.DecodePagerDuty([]byte(fmt.Sprintf(minimal, "warning")), newKey)
	if err != nil {
		t.Fatal(err)
	}
	if e.DedupKey != "generated-1" || !e.Generated {
		t.Errorf("a trigger without a dedup key: %q generated %v", e.DedupKey, e.Generated)
	}
	a := e.Alert(target, now)
	if a.DedupKey != "pagerduty:int1:generated-1" || !a.StartsAt.Equal(now) || a.Severity != nightjar.SeverityTicket || a.Details != nil || a.Links != nil {
		t.Errorf("minimal trigger's alert = %+v", a)
	}
	e, _ = alertin.DecodePagerDuty([]byte(fmt.Sprintf(minimal, "warning")), newKey)
	if e.DedupKey != "generated-2" {
		t.Errorf("the second trigger without a key got %q", e.DedupKey)
	}
	for sev, want := range map[string]nightjar.Severity{"critical": nightjar.SeverityPage, "error": nightjar.SeverityPage,
		"warning": nightjar.SeverityTicket, "info": nightjar.SeverityInfo} {
		e, err := alertin.DecodePagerDuty([]byte(fmt.Sprintf(minimal, sev)), newKey)
		if err != nil || e.Alert(target, now).Severity != want {
			t.Errorf("severity %s: %v, want %s", sev, err, want)
		}
	}

	// Acknowledge and resolve name the alert; their payload is ignored.
	for _, action := range []string{"acknowledge", "resolve"} {
		body := `{"routing_key": "` + routingKey + `", "event_action": "` + action + `", "dedup_key": "srv01/mysql", "payload": {"summary": 5}}`
		e, err := alertin.DecodePagerDuty([]byte(body), newKey)
		if err != nil {
			t.Fatalf("%s: %v", action, err)
		}
		if e.AlertKey(target) != "pagerduty:int1:srv01/mysql" || e.Generated {
			t.Errorf("%s: key %q", action, e.AlertKey(target))
		}
		a := e.Alert(target, now)
		switch action {
		case "acknowledge":
			if a != nil {
				t.Errorf("acknowledge changed an alert: %+v", a)
			}
		case "resolve":
			if a == nil || a.Status != nightjar.AlertResolved || a.DedupKey != "pagerduty:int1:srv01/mysql" || !a.EndsAt.Equal(now) {
				t.Errorf("resolve's alert = %+v", a)
			}
		}
	}
}

func TestPagerDutyErrors(t *testing.T) {
	event := func(action, extra string) string {
		return `{"routing_key": "` + routingKey + `", "event_action": "` + action + `"` + extra + `}`
	}
	trigger := func(payload, extra string) string {
		return event("trigger", `, "payload": {`+payload+`}`+extra)
	}
	good := `"summary": "s", "source": "h", "severity": "info"`
	tests := []struct {
		name, body, field, text string
	}{
		{"not JSON", `{"routing_key"`, "", "not valid JSON"},
		{"an array", `[]`, "", "one JSON object"},
		{"too large", `{"x": "` + strings.Repeat("a", 512*1024) + `"}`, "", "512 KB"},
		{"no routing key", `{"event_action": "trigger"}`, "routing_key", "is required"},
		{"short routing key", `{"routing_key": "abc", "event_action": "trigger"}`, "routing_key", "must be 32 characters"},
		{"routing key not a string", `{"routing_key": 12, "event_action": "trigger"}`, "routing_key", "expected a string"},
		{"no action", `{"routing_key": "` + routingKey + `"}`, "event_action", "is required"},
		{"bad action", event("snooze", ""), "event_action", `"trigger", "acknowledge" or "resolve"`},
		{"acknowledge without a key", event("acknowledge", ""), "dedup_key", "is required to acknowledge"},
		{"resolve with an empty key", event("resolve", `, "dedup_key": ""`), "dedup_key", "is required to resolve"},
		{"long dedup key", event("resolve", `, "dedup_key": "`+strings.Repeat("k", 256)+`"`), "dedup_key", "at most 255 characters"},
		{"no payload", event("trigger", ""), "payload", "is required for a trigger"},
		{"payload not an object", event("trigger", `, "payload": []`), "payload", "expected an object"},
		{"no summary", trigger(`"source": "h", "severity": "info"`, ""), "payload.summary", "is required"},
		{"long summary", trigger(`"summary": "`+strings.Repeat("é", 1025)+`", "source": "h", "severity": "info"`, ""), "payload.summary", "at most 1024 characters"},
		{"no source", trigger(`"summary": "s", "severity": "info"`, ""), "payload.source", "is required"},
		{"no severity", trigger(`"summary": "s", "source": "h"`, ""), "payload.severity", "is required"},
		{"bad severity", trigger(`"summary": "s", "source": "h", "severity": "high"`, ""), "payload.severity", `"critical", "error", "warning" or "info"`},
		{"bad timestamp", trigger(good+`, "timestamp": "17/07/2015"`, ""), "payload.timestamp", "ISO 8601"},
		{"NUL in the summary", trigger(`"summary": "a\u0000", "source": "h", "severity": "info"`, ""), "payload.summary", "without NUL bytes"},
		{"NUL in a detail", trigger(good+`, "custom_details": {"k": "\u0000"}`, ""), "payload.custom_details.k", "without NUL bytes"},
		{"bad UTF-8 in details", trigger(good+`, "custom_details": {"k": ["`+"\xff"+`"]}`, ""), "payload.custom_details", "valid UTF-8"},
		{"component not a string", trigger(good+`, "component": {}`, ""), "payload.component", "expected a string"},
		{"link without href", trigger(good, `, "links": [{"text": "t"}]`), "links[0].href", "is required"},
		{"script link", trigger(good, `, "links": [{"href": "https://ok.example"}, {"href": "javascript:alert(1)"}]`), "links[1].href", "http or https URL"},
		{"links not a list", trigger(good, `, "links": {"href": "https://x.example"}`), "links", "expected an array of objects"},
		{"image without src", trigger(good, `, "images": [{"href": "https://x.example"}]`), "images[0].src", "is required"},
		{"relative image href", trigger(good, `, "images": [{"src": "https://x.example/a.png", "href": "/a"}]`), "images[0].href", "http or https URL"},
		{"bad client URL", trigger(good, `, "client_url": "monitoring"`), "client_url", "http or https URL"},
		{"FTP image", trigger(good, `, "images": [{"src": "ftp://files.example/a.png"}]`), "images[0].src", "http or https URL"},
	}
	for _, tt := range tests {
		_, err := alertin.DecodePagerDuty([]byte(tt.body), keys())
		wantField(t, tt.name, err, tt.field, tt.text)
	}

	// At the limits: 1024 characters of summary, 255 of dedup key.
	body := trigger(`"summary": "`+strings.Repeat("é", 1024)+`", "source": "h", "severity": "info"`, `, "dedup_key": "`+strings.Repeat("k", 255)+`"`)
	if _, err := alertin.DecodePagerDuty([]byte(body), keys()); err != nil {
		t.Errorf("event at the limits: %v", err)
	}
	// custom_details that is not an object is kept whole.
	e, err := alertin.DecodePagerDuty([]byte(trigger(good+`, "custom_details": "free text"`, "")), keys())
	if err != nil || e.Details["custom_details"] != "free text" {
		t.Errorf("string custom_details: %+v, %v", e, err)
	}
}

func TestPagerDutyResponses(t *testing.T) {
	b, _ := json.Marshal(alertin.PagerDutyAccepted("srv01/mysql"))
	if string(b) != `{"status":"success","message":"Event processed","dedup_key":"srv01/mysql"}` {
		t.Errorf("accepted: %s", b)
	}
	_, err := alertin.DecodePagerDuty([]byte(`{"routing_key": "`+routingKey+`", "event_action": "trigger", "payload": {"source": "h", "severity": "info"}}`), keys())
	b, _ = json.Marshal(alertin.PagerDutyRejected(err))
	if string(b) != `{"status":"invalid event","message":"Event object is invalid","errors":["payload.summary: is required"]}` {
		t.Errorf("rejected: %s", b)
	}
}
