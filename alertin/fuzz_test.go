package alertin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alertin"
)

// checkRefusal holds a refused payload to the rules every front door
// keeps: an invalid-input error whose message is safe to show and, when
// it names a field, starts with that field.
func checkRefusal(t *testing.T, body []byte, err error) {
	t.Helper()
	field, msg := nightjar.ErrorField(err), nightjar.ErrorMessage(err)
	if nightjar.ErrorCode(err) != nightjar.EINVALID || msg == "" || (field != "" && !strings.HasPrefix(msg, field+": ")) {
		t.Fatalf("payload %q: error %v, want an invalid-input error naming its field", body, err)
	}
}

// checkAlert holds a decoded alert to what the alert stage relies on:
// text that every database stores, a dedup key, a known status and
// severity, and links that are web pages.
func checkAlert(t *testing.T, a *nightjar.Alert) {
	t.Helper()
	texts := []string{a.DedupKey, a.Summary, a.Service, a.Source, a.SourceID}
	for k, v := range a.Labels {
		texts = append(texts, k, v)
	}
	for k, v := range a.Details {
		texts = append(texts, k, v)
	}
	for _, l := range a.Links {
		texts = append(texts, l.Text)
		if !strings.HasPrefix(l.Href, "http://") && !strings.HasPrefix(l.Href, "https://") {
			t.Fatalf("link to %q", l.Href)
		}
	}
	for _, s := range texts {
		if !nightjar.ValidText(s) {
			t.Fatalf("alert holds text %q that is not valid", s)
		}
	}
	if a.DedupKey == "" || a.ProjectID != target.ProjectID || (a.Status != nightjar.AlertFiring && a.Status != nightjar.AlertResolved) {
		t.Fatalf("alert = %+v", a)
	}
	if a.Status == nightjar.AlertFiring && (a.Summary == "" || len([]rune(a.Summary)) > alertin.MaxSummaryLength) {
		t.Fatalf("firing alert with summary %q", a.Summary)
	}
	switch a.Severity {
	case nightjar.SeverityPage, nightjar.SeverityTicket, nightjar.SeverityInfo:
	default:
		if a.Status == nightjar.AlertFiring {
			t.Fatalf("severity %q", a.Severity)
		}
	}
}

// FuzzDecodeAlertmanager checks that no payload makes the decoder panic,
// that a refused one is a field error, and that accepted alerts are fit
// for the alert stage.
func FuzzDecodeAlertmanager(f *testing.F) {
	f.Add([]byte(amPayload))
	f.Add([]byte(`{"version": "4", "status": "resolved", "alerts": []}`))
	f.Add([]byte(`{"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": {"a": "b"}, "startsAt": "2026-01-05T10:00:00Z"}]}`))
	f.Add([]byte(`{"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": {"a": "\u0000"}, "startsAt": "x"}]}`))
	f.Add([]byte(`{"version": "4", "alerts": null, "groupLabels": {"` + "\xff" + `": "x"}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := alertin.DecodeAlertmanager(body, target)
		if err != nil {
			checkRefusal(t, body, err)
			return
		}
		for i := range b.Alerts {
			checkAlert(t, &b.Alerts[i])
			if !strings.HasPrefix(b.Alerts[i].DedupKey, "alertmanager:") {
				t.Fatalf("dedup key %q", b.Alerts[i].DedupKey)
			}
		}
	})
}

// FuzzDecodePagerDuty does the same for PagerDuty events, and checks that
// an accepted event has the dedup key its answer returns.
func FuzzDecodePagerDuty(f *testing.F) {
	f.Add([]byte(pdTrigger))
	f.Add([]byte(`{"routing_key": "` + routingKey + `", "event_action": "resolve", "dedup_key": "k"}`))
	f.Add([]byte(`{"routing_key": "` + routingKey + `", "event_action": "trigger", "payload": {"summary": "s", "source": "h", "severity": "info", "custom_details": [1, {"a": null}]}}`))
	f.Add([]byte(`{"routing_key": "` + routingKey + `", "event_action": "trigger", "payload": {"summary": "s", "source": "h", "severity": "info", "timestamp": "2015-07-17T08:42:58+0000"}, "images": [{"src": "https://a.example/x.png"}]}`))
	f.Add([]byte(`{"routing_key": 1}`))
	f.Add([]byte(`null`))
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := alertin.DecodePagerDuty(body, keys())
		if err != nil {
			checkRefusal(t, body, err)
			return
		}
		if e.DedupKey == "" || len(e.RoutingKey) == 0 {
			t.Fatalf("event = %+v", e)
		}
		if a := e.Alert(target, now); a != nil {
			checkAlert(t, a)
		} else if e.Action != alertin.PagerDutyAcknowledge {
			t.Fatalf("%s event without an alert", e.Action)
		}
	})
}

// FuzzDecodePagerDutyChange checks that no change event makes the decoder
// panic, that a refusal names its field, and that an accepted change
// holds text every database stores, a summary within PagerDuty's limit, a
// time, and links that are web pages.
func FuzzDecodePagerDutyChange(f *testing.F) {
	f.Add([]byte(`{"routing_key": "` + routingKey + `", "payload": {"summary": "deploy v1.4.2", "timestamp": "2026-01-05T10:00:00Z", "source": "github-actions", "custom_details": {"sha": "abc"}}, "links": [{"href": "https://ci.example/1", "text": "build"}]}`))
	f.Add([]byte(`{"routing_key": "` + routingKey + `", "payload": {"summary": ""}}`))
	f.Add([]byte(`{"routing_key": "` + routingKey + `", "payload": {"summary": "s", "timestamp": "yesterday"}, "links": [{"href": "javascript:x"}]}`))
	f.Add([]byte(`{"routing_key": "` + routingKey + `"}`))
	f.Add([]byte(`{"service": "api", "summary": "deploy", "at": "2026-01-05T10:00:00Z", "links": [{"href": "https://a.example"}]}`))
	f.Add([]byte(`null`))
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	check := func(t *testing.T, c *nightjar.Change) {
		t.Helper()
		texts := []string{c.Summary, c.Source, c.Service}
		for k, v := range c.Details {
			texts = append(texts, k, v)
		}
		for _, l := range c.Links {
			texts = append(texts, l.Text)
			if !strings.HasPrefix(l.Href, "http://") && !strings.HasPrefix(l.Href, "https://") {
				t.Fatalf("link to %q", l.Href)
			}
		}
		for _, s := range texts {
			if !nightjar.ValidText(s) {
				t.Fatalf("change holds text %q that is not valid", s)
			}
		}
		if c.Summary == "" || len([]rune(c.Summary)) > nightjar.MaxChangeSummaryLength || c.At.IsZero() ||
			strings.ContainsAny(c.Summary+c.Source, "\n\r\t") {
			t.Fatalf("change = %+v", c)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := alertin.DecodePagerDutyChange(body, now)
		if err != nil {
			checkRefusal(t, body, err)
		} else {
			if len([]rune(e.RoutingKey)) != alertin.PagerDutyRoutingKeyLength {
				t.Fatalf("routing key %q", e.RoutingKey)
			}
			check(t, &e.Change)
		}
		c, err := alertin.DecodeChange(body, now)
		if err != nil {
			checkRefusal(t, body, err)
		} else {
			check(t, c)
			if c.Service == "" {
				t.Fatalf("change without a service: %+v", c)
			}
		}
	})
}
