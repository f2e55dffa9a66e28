package alertin_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alertin"
)

var target = alertin.Target{ProjectID: "p1", Service: "platform", Integration: "int1"}

// amPayload is a notification as Alertmanager's webhook notifier sends it:
// one alert firing with a runbook, one resolved without a fingerprint
// (as older Alertmanagers send).
const amPayload = `{
  "version": "4",
  "groupKey": "{}/{severity=\"critical\"}:{alertname=\"ProbeFailure\"}",
  "truncatedAlerts": 2,
  "status": "firing",
  "receiver": "nightjar",
  "groupLabels": {"alertname": "ProbeFailure"},
  "commonLabels": {"alertname": "ProbeFailure", "job": "http_checks"},
  "commonAnnotations": {},
  "externalURL": "http://alertmanager.example.org:9093",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "ProbeFailure", "instance": "https://shop.example.org", "job": "http_checks", "severity": "critical", "service": "shop"},
      "annotations": {"summary": "Probe failure: https://shop.example.org", "description": "Down for over 5m.", "runbook_url": "https://wiki.example.org/probe"},
      "startsAt": "2026-01-05T09:58:45.828Z",
      "endsAt": "2026-01-05T10:08:45.828Z",
      "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0",
      "fingerprint": "1a30ba71cca2921f",
      "silenceURL": "ignored: Grafana adds fields like this"
    },
    {
      "status": "resolved",
      "labels": {"first-label": "first-label-value", "severity": "Warning", "alertname": "ProbeFailure"},
      "annotations": {"description": "Certificate expires in 20 days"},
      "startsAt": "2026-01-05T08:00:00+01:00",
      "endsAt": "2026-01-05T09:59:00Z",
      "generatorURL": "/graph?g0.expr=x"
    }
  ]
}`

func TestDecodeAlertmanager(t *testing.T) {
	b, err := alertin.DecodeAlertmanager([]byte(amPayload), target)
	if err != nil {
		t.Fatal(err)
	}
	if b.Receiver != "nightjar" || b.Status != "firing" || b.Truncated != 2 || b.ExternalURL != "http://alertmanager.example.org:9093" ||
		!strings.HasPrefix(b.GroupKey, "{}/{severity=") || b.GroupLabels["alertname"] != "ProbeFailure" {
		t.Errorf("batch = %+v", b)
	}
	am := nightjar.Link{Href: "http://alertmanager.example.org:9093", Text: "Alertmanager"}
	want := []nightjar.Alert{{
		ProjectID: "p1",
		DedupKey:  "alertmanager:1a30ba71cca2921f",
		Source:    "alertmanager",
		SourceID:  "int1",
		Service:   "shop",
		Severity:  nightjar.SeverityPage,
		Summary:   "Probe failure: https://shop.example.org",
		Details:   map[string]string{"summary": "Probe failure: https://shop.example.org", "description": "Down for over 5m.", "runbook_url": "https://wiki.example.org/probe"},
		Status:    nightjar.AlertFiring,
		StartsAt:  time.Date(2026, 1, 5, 9, 58, 45, 828_000_000, time.UTC),
		Labels:    map[string]string{"alertname": "ProbeFailure", "instance": "https://shop.example.org", "job": "http_checks", "severity": "critical", "service": "shop"},
		Links: []nightjar.Link{
			{Href: "https://wiki.example.org/probe", Text: "Runbook"},
			{Href: "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0", Text: "Alert source"},
			am,
		},
	}, {
		ProjectID: "p1",
		// prometheus/common's own test vector for one label is
		// 5146282821936882169; severity and alertname change it.
		DedupKey: "alertmanager:" + fingerprintOf(t, b.Alerts[1].Labels),
		Source:   "alertmanager",
		SourceID: "int1",
		Service:  "platform",
		Severity: nightjar.SeverityTicket,
		Summary:  "Certificate expires in 20 days",
		Details:  map[string]string{"description": "Certificate expires in 20 days", "generatorURL": "/graph?g0.expr=x"},
		Status:   nightjar.AlertResolved,
		StartsAt: time.Date(2026, 1, 5, 7, 0, 0, 0, time.UTC),
		EndsAt:   time.Date(2026, 1, 5, 9, 59, 0, 0, time.UTC),
		Labels:   map[string]string{"first-label": "first-label-value", "severity": "Warning", "alertname": "ProbeFailure"},
		Links:    []nightjar.Link{am},
	}}
	if len(b.Alerts) != len(want) {
		t.Fatalf("%d alerts, want %d", len(b.Alerts), len(want))
	}
	for i := range want {
		got := b.Alerts[i]
		if !got.StartsAt.Equal(want[i].StartsAt) || !got.EndsAt.Equal(want[i].EndsAt) {
			t.Errorf("alert %d: starts %s ends %s, want %s and %s", i, got.StartsAt, got.EndsAt, want[i].StartsAt, want[i].EndsAt)
		}
		got.StartsAt, got.EndsAt = want[i].StartsAt, want[i].EndsAt
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("alert %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
}

// fingerprintOf computes the fingerprint Alertmanager gives a label set by
// decoding an alert that carries no fingerprint of its own.
func fingerprintOf(t *testing.T, labels map[string]string) string {
	t.Helper()
	var pairs []string
	for k, v := range labels {
		pairs = append(pairs, fmt.Sprintf("%q: %q", k, v))
	}
	body := `{"version": "4", "status": "firing", "alerts": [{"status": "firing", "startsAt": "2026-01-05T10:00:00Z", "labels": {` +
		strings.Join(pairs, ", ") + `}}]}`
	b, err := alertin.DecodeAlertmanager([]byte(body), target)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(b.Alerts[0].DedupKey, "alertmanager:")
}

// TestAlertmanagerFingerprint checks the computed fingerprint against
// prometheus/common's published vectors, which is how Alertmanager
// fingerprints an alert's labels, and that it ignores label order and
// depends on every label.
func TestAlertmanagerFingerprint(t *testing.T) {
	for labels, want := range map[string]uint64{
		`{"first-label": "first-label-value"}`:                                       5146282821936882169,
		`{"second-label": "second-label-value", "first-label": "first-label-value"}`: 3195800080984914717,
	} {
		body := `{"version": "4", "status": "firing", "alerts": [{"status": "firing", "startsAt": "2026-01-05T10:00:00Z", "labels": ` + labels + `}]}`
		b, err := alertin.DecodeAlertmanager([]byte(body), target)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := b.Alerts[0].DedupKey, fmt.Sprintf("alertmanager:%016x", want); got != want {
			t.Errorf("labels %s: dedup key %s, want %s", labels, got, want)
		}
	}
}

func TestAlertmanagerSummaryAndSeverity(t *testing.T) {
	tests := []struct {
		labels, annotations string
		summary             string
		severity            nightjar.Severity
	}{
		{`{"alertname": "A", "severity": "critical"}`, `{"summary": "S", "description": "D"}`, "S", nightjar.SeverityPage},
		{`{"alertname": "A", "severity": "PAGE"}`, `{"description": "D"}`, "D", nightjar.SeverityPage},
		{`{"alertname": "A", "severity": "warning"}`, `{"summary": "  "}`, "A", nightjar.SeverityTicket},
		{`{"alertname": "A", "severity": "ticket"}`, `{}`, "A", nightjar.SeverityTicket},
		{`{"alertname": "Watchdog", "severity": "none"}`, `{}`, "Watchdog", nightjar.SeverityInfo},
		{`{"alertname": "A", "severity": " Info "}`, `{}`, "A", nightjar.SeverityInfo},
		{`{"alertname": "A", "severity": "low"}`, `{}`, "A", nightjar.SeverityPage},
		{`{"job": "x"}`, `{}`, "Alertmanager alert f00d", nightjar.SeverityPage},
		{`{"alertname": "A"}`, `{"summary": "` + strings.Repeat("é", 1100) + `"}`, strings.Repeat("é", 1024), nightjar.SeverityPage},
	}
	for _, tt := range tests {
		body := `{"version": "4", "status": "firing", "alerts": [{"status": "firing", "fingerprint": "f00d", "startsAt": "2026-01-05T10:00:00Z",
			"labels": ` + tt.labels + `, "annotations": ` + tt.annotations + `}]}`
		b, err := alertin.DecodeAlertmanager([]byte(body), target)
		if err != nil {
			t.Errorf("%s: %v", tt.labels, err)
			continue
		}
		if a := b.Alerts[0]; a.Summary != tt.summary || a.Severity != tt.severity {
			t.Errorf("%s %.40s: summary %.40q severity %s, want %.40q and %s", tt.labels, tt.annotations, a.Summary, a.Severity, tt.summary, tt.severity)
		}
	}
}

// wantField checks that err is an invalid-input error naming field, whose
// message starts with the field and contains text.
func wantField(t *testing.T, what string, err error, field, text string) {
	t.Helper()
	msg := nightjar.ErrorMessage(err)
	if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != field ||
		(field != "" && !strings.HasPrefix(msg, field+": ")) || !strings.Contains(msg, text) {
		t.Errorf("%s: error %v, want an invalid-input error on %q containing %q", what, err, field, text)
	}
}

func TestAlertmanagerErrors(t *testing.T) {
	alert := func(fields string) string {
		return `{"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": {"a": "b"}, "startsAt": "2026-01-05T10:00:00Z"}, {` + fields + `}]}`
	}
	good := `"status": "firing", "labels": {"alertname": "X"}, "startsAt": "2026-01-05T10:00:00Z"`
	tests := []struct {
		name, body, field, text string
	}{
		{"not JSON", `{"version": `, "", "not valid JSON"},
		{"not an object", `[{"version": "4"}]`, "", "one JSON object"},
		{"empty", ``, "", "one JSON object"},
		{"trailing data", `{"version": "4"} {}`, "", "not valid JSON"},
		{"no version", `{"status": "firing", "alerts": []}`, "version", "is required"},
		{"old version", `{"version": "3", "status": "firing", "alerts": []}`, "version", `must be "4"`},
		{"numeric version", `{"version": 4, "status": "firing", "alerts": []}`, "version", "expected a string"},
		{"bad status", `{"version": "4", "status": "pending", "alerts": []}`, "status", `"firing" or "resolved"`},
		{"no alerts", `{"version": "4", "status": "firing"}`, "alerts", "is required"},
		{"alerts not a list", `{"version": "4", "status": "firing", "alerts": {}}`, "alerts", "expected an array of objects"},
		{"alert not an object", `{"version": "4", "status": "firing", "alerts": [1]}`, "alerts[0]", "expected an object"},
		{"negative truncation", `{"version": "4", "status": "firing", "alerts": [], "truncatedAlerts": -1}`, "truncatedAlerts", "at least 0"},
		{"group labels of numbers", `{"version": "4", "status": "firing", "alerts": [], "groupLabels": {"a": 1}}`, "groupLabels.a", "expected a string"},
		{"common annotations not an object", `{"version": "4", "status": "firing", "alerts": [], "commonAnnotations": "x"}`, "commonAnnotations", "expected an object"},
		{"alert status", alert(`"status": "ok", "labels": {"a": "b"}, "startsAt": "2026-01-05T10:00:00Z"`), "alerts[1].status", `"firing" or "resolved"`},
		{"no labels", alert(`"status": "firing", "startsAt": "2026-01-05T10:00:00Z"`), "alerts[1].labels", "at least one label"},
		{"empty labels", alert(`"status": "firing", "labels": {}, "startsAt": "2026-01-05T10:00:00Z"`), "alerts[1].labels", "at least one label"},
		{"label not a string", alert(`"status": "firing", "labels": {"severity": 2}, "startsAt": "2026-01-05T10:00:00Z"`), "alerts[1].labels.severity", "expected a string"},
		{"NUL in an annotation", alert(good + `, "annotations": {"summary": "a\u0000b"}`), "alerts[1].annotations.summary", "without NUL bytes"},
		{"bad UTF-8 in a label", alert(`"status": "firing", "labels": {"a": "` + "\xff" + `"}, "startsAt": "2026-01-05T10:00:00Z"`), "alerts[1].labels.a", "valid UTF-8"},
		{"bad UTF-8 in a label name", alert(`"status": "firing", "labels": {"` + "\xff" + `": "a"}, "startsAt": "2026-01-05T10:00:00Z"`), "alerts[1].labels", "names must be valid UTF-8"},
		{"no start", alert(`"status": "firing", "labels": {"a": "b"}`), "alerts[1].startsAt", "is required"},
		{"bad start", alert(`"status": "firing", "labels": {"a": "b"}, "startsAt": "yesterday"`), "alerts[1].startsAt", "ISO 8601"},
		{"bad end", alert(good + `, "endsAt": "2026-13-01T00:00:00Z"`), "alerts[1].endsAt", "ISO 8601"},
		{"long fingerprint", alert(good + `, "fingerprint": "` + strings.Repeat("f", 65) + `"`), "alerts[1].fingerprint", "at most 64"},
		{"long service", alert(`"status": "firing", "labels": {"service": "` + strings.Repeat("s", 101) + `"}, "startsAt": "2026-01-05T10:00:00Z"`), "alerts[1].labels.service", "at most 100"},
	}
	for _, tt := range tests {
		_, err := alertin.DecodeAlertmanager([]byte(tt.body), target)
		wantField(t, tt.name, err, tt.field, tt.text)
	}
}

// BenchmarkDecodeAlertmanager decodes a notification of 20 alerts, as the
// Alertmanager receiver does for each request.
func BenchmarkDecodeAlertmanager(b *testing.B) {
	var alerts []string
	for i := range 20 {
		alerts = append(alerts, fmt.Sprintf(`{"status": "firing", "labels": {"alertname": "DiskFull", "instance": "host-%d:9100", "job": "node", "severity": "warning"},
			"annotations": {"summary": "Disk full on host-%d", "runbook_url": "https://runbooks.example/disk"},
			"startsAt": "2026-03-01T11:58:00Z", "endsAt": "0001-01-01T00:00:00Z",
			"generatorURL": "http://prometheus.example:9090/graph?g0.expr=x", "fingerprint": "%016x"}`, i, i, i))
	}
	body := []byte(`{"version": "4", "status": "firing", "receiver": "nightjar", "groupKey": "{}:{}", "truncatedAlerts": 0,
		"groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager.example:9093",
		"alerts": [` + strings.Join(alerts, ",") + `]}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := alertin.DecodeAlertmanager(body, target); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*20)/b.Elapsed().Seconds(), "alerts/s")
}
