package notify_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/goldentest"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/notifytest"
)

var (
	start   = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	created = time.Date(2025, 3, 1, 12, 0, 1, 0, time.UTC)
)

// sample returns a realistic firing message that the cases below vary.
func sample() notify.Message {
	return notify.Message{
		ID:        "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
		ProjectID: "proj_checkout",
		Event:     notify.EventAlertFiring,
		Alert: nightjar.Alert{
			DedupKey: "check:payments-heartbeat",
			Service:  "payments-api",
			Severity: "page",
			Summary:  "Heartbeat missed for 5m",
			Details: map[string]string{
				"check":         "payments-heartbeat",
				"last_ping":     "2025-03-01T11:55:00Z",
				"grace_seconds": "300",
			},
			Status:   "firing",
			StartsAt: start,
		},
		ConsoleURL: "https://nightjar.example.com/p/proj_checkout/checks/payments-heartbeat",
		CreatedAt:  created,
	}
}

func TestRenderText(t *testing.T) {
	tests := []struct {
		name string
		msg  func() notify.Message
	}{
		{name: "firing", msg: sample},
		{name: "resolved", msg: func() notify.Message {
			m := sample()
			m.Event = notify.EventAlertResolved
			m.Alert.Status = "resolved"
			m.Alert.EndsAt = start.Add(42*time.Minute + 10*time.Second)
			return m
		}},
		{name: "test_event", msg: func() notify.Message {
			m := sample()
			m.Event = notify.EventTest
			m.Alert = nightjar.Alert{}
			m.ConsoleURL = ""
			return m
		}},
		{name: "links", msg: func() notify.Message {
			m := sample()
			m.Alert.Links = []nightjar.Link{
				{Href: "https://grafana.example.com/d/abc"},
				{Href: "https://runbooks.example.com/payments", Text: "Runbook"},
				{Href: "javascript:alert(1)", Text: "left out"},
				{Href: "https://x.example/\r\nInjected: 1", Text: "Line\nbreak"},
			}
			return m
		}},
		{name: "minimal", msg: func() notify.Message {
			return notify.Message{Event: notify.EventAlertFiring}
		}},
		{name: "hostile_fields", msg: func() notify.Message {
			m := sample()
			m.Alert.Service = "svc\r\nBcc: victim@example.com"
			m.Alert.Summary = "Über-latency \x00\x1b[31m on\tcheckout\u2028now"
			m.Alert.Details = map[string]string{
				"stack":    "line one\r\nline two\rline three",
				"bad\nkey": "value",
				"utf8":     "\xff invalid",
			}
			m.Alert.EndsAt = start.Add(-time.Minute) // before StartsAt: no duration
			return m
		}},
		{name: "incident_page", msg: func() notify.Message {
			m := sample()
			m.Event = notify.EventIncidentPage
			m.ConsoleURL = "https://nightjar.example.com/"
			m.Incident = &nightjar.IncidentRef{ID: "inc1", Number: 12, Title: "Heartbeat missed for 5m", Service: "payments-api",
				Urgency: "page", Status: "triggered", Since: start, Step: 2, Round: 2, RunbookURL: "https://wiki.example.com/payments",
				AckToken: "ack-token", ResolveToken: "resolve-token"}
			return m
		}},
		{name: "incident_resolved", msg: func() notify.Message {
			m := sample()
			m.Event = notify.EventIncidentResolved
			m.Alert.Status = "resolved"
			m.Incident = &nightjar.IncidentRef{ID: "inc1", Number: 12, Title: "Payments\r\nBcc: x", Urgency: "page", Status: "resolved", Since: start}
			return m
		}},
		{name: "bundle", msg: notifytest.Bundle},
		{name: "long_summary", msg: func() notify.Message {
			m := sample()
			m.Alert.Summary = strings.Repeat("very long summary ", 20)
			m.Alert.Details = nil
			return m
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := tt.msg()
			subject, body := notify.RenderText(msg)

			for _, r := range subject {
				if unicode.IsControl(r) {
					t.Errorf("subject %q contains control character %U", subject, r)
				}
			}
			if s2, b2 := notify.RenderText(msg); s2 != subject || b2 != body {
				t.Error("rendering the same message twice gave different text")
			}

			got := "Subject: " + subject + "\n\n" + body
			goldentest.Compare(t, filepath.Join("testdata", "render_"+tt.name+".golden"), got)
		})
	}
}

// An incident's recent changes are a fact of its message in every text
// form, newest first, with the date shown only for a change made the day
// before the incident opened.
func TestRecentChangesInIncidentMessage(t *testing.T) {
	msg := notifytest.Bundle().Bundle[0]
	inc := *msg.Incident
	inc.Since = time.Date(2025, 3, 1, 0, 30, 0, 0, time.UTC)
	inc.Changes = []nightjar.ChangeRef{
		{At: time.Date(2025, 3, 1, 0, 2, 0, 0, time.UTC), Summary: "deploy v1.4.2", Source: "github-actions"},
		{At: time.Date(2025, 2, 28, 23, 50, 0, 0, time.UTC), Summary: "flag checkout-v2\non"},
	}
	msg.Incident = &inc
	want := "00:02 deploy v1.4.2 (github-actions); Feb 28 23:50 flag checkout-v2 on"
	c := notify.Compose(msg)
	found := false
	for _, f := range c.Facts {
		if f.Label == "Recent changes" {
			found = f.Value == want
			if !found {
				t.Errorf("Recent changes = %q, want %q", f.Value, want)
			}
		}
	}
	if !found {
		t.Fatalf("facts %v have no recent changes", c.Facts)
	}
	if _, body := notify.RenderText(msg); !strings.Contains(body, "Recent changes: "+want) {
		t.Errorf("text body lacks the recent changes:\n%s", body)
	}
	inc.Changes = nil
	for _, f := range notify.Compose(msg).Facts {
		if f.Label == "Recent changes" {
			t.Errorf("a message without changes has the fact %q", f.Value)
		}
	}
}
