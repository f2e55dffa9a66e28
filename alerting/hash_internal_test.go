package alerting

import (
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// An alert's content hash changes with everything stored about it, and
// texts cannot run together into the same sum.
func TestContentHash(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	base := func() *nightjar.Alert {
		return &nightjar.Alert{Source: "alertmanager", SourceID: "int1", Service: "svc", Severity: nightjar.SeverityPage,
			Summary: "s", Status: nightjar.AlertFiring, StartsAt: at,
			Details: map[string]string{"a": "bc"}, Labels: map[string]string{"x": "y"},
			Links: []nightjar.Link{{Href: "https://a.example", Text: "A"}}}
	}
	want := contentHash(base())
	if got := contentHash(base()); got != want {
		t.Fatalf("the same alert sums %s and %s", got, want)
	}
	for name, change := range map[string]func(a *nightjar.Alert){
		"source":        func(a *nightjar.Alert) { a.Source = "pagerduty" },
		"source id":     func(a *nightjar.Alert) { a.SourceID = "int2" },
		"service":       func(a *nightjar.Alert) { a.Service = "other" },
		"severity":      func(a *nightjar.Alert) { a.Severity = nightjar.SeverityInfo },
		"summary":       func(a *nightjar.Alert) { a.Summary = "t" },
		"status":        func(a *nightjar.Alert) { a.Status = nightjar.AlertResolved },
		"start":         func(a *nightjar.Alert) { a.StartsAt = at.Add(time.Millisecond) },
		"end":           func(a *nightjar.Alert) { a.EndsAt = at },
		"detail value":  func(a *nightjar.Alert) { a.Details["a"] = "b" },
		"detail names":  func(a *nightjar.Alert) { a.Details = map[string]string{"ab": "c"} },
		"details moved": func(a *nightjar.Alert) { a.Details, a.Labels = a.Labels, a.Details },
		"label added":   func(a *nightjar.Alert) { a.Labels["z"] = "" },
		"link text":     func(a *nightjar.Alert) { a.Links[0].Text = "B" },
		"link image":    func(a *nightjar.Alert) { a.Links[0].Image = "https://a.example/i.png" },
		"no links":      func(a *nightjar.Alert) { a.Links = nil },
	} {
		a := base()
		change(a)
		if contentHash(a) == want {
			t.Errorf("%s: the hash did not change", name)
		}
	}
}
