package incidents_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// TestPageCarriesRecentChanges: a page's webhook message lists the
// incident's service's changes of the day before it opened, newest first
// and at most three, and neither another service's change nor one older
// than a day.
func TestPageCarriesRecentChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rcv := newReceiver(t)
		w := newWorld(t, db)
		w.pagesThrough(t, w.bob, rcv)
		deliver := w.deliverer(t)

		record := func(service, summary string, ago time.Duration) {
			t.Helper()
			must(t, w.s.RecordChange(ctx, &nightjar.Change{ProjectID: w.project, Service: service, Summary: summary, Source: "ci",
				At: t0.Add(-ago)}, t0.Add(-ago)))
		}
		record("checkout", "deploy v1.0 (too old)", 25*time.Hour)
		record("checkout", "deploy v1.1", 3*time.Hour)
		record("checkout", "deploy v1.2", 2*time.Hour)
		record("checkout", "flag checkout-v2 on", 90*time.Minute)
		record("checkout", "deploy v1.3", 10*time.Minute)
		record("billing", "deploy billing v9", 5*time.Minute)
		// Made after the incident opened: not what led to it.
		record("checkout", "rollback to v1.2", -time.Minute)

		w.alert(t, t0, "db", "checkout", nightjar.AlertFiring)
		deliver(t0)
		var got []string
		for _, p := range rcv.payloads() {
			if p.Event != notify.EventIncidentPage || p.Incident == nil {
				continue
			}
			for _, c := range p.Incident.Changes {
				got = append(got, c.At.Format("15:04")+" "+c.Summary+" "+c.Source)
			}
		}
		at := func(ago time.Duration) string { return t0.Add(-ago).Format("15:04") }
		want := []string{at(10*time.Minute) + " deploy v1.3 ci", at(90*time.Minute) + " flag checkout-v2 on ci", at(2*time.Hour) + " deploy v1.2 ci"}
		if len(got) != len(want) {
			t.Fatalf("page changes = %q, want %q", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("page changes = %q, want %q", got, want)
			}
		}

		// The postmortem draft lists the same changes.
		pm, err := w.s.Postmortem(ctx, w.project, w.only(t).ID, time.UTC, t0)
		must(t, err)
		if !strings.Contains(pm.Text, "## Contributing changes") || !strings.Contains(pm.Text, "deploy v1.3") ||
			strings.Contains(pm.Text, "billing") || strings.Contains(pm.Text, "v1.0") || strings.Contains(pm.Text, "rollback") {
			t.Fatalf("postmortem draft:\n%s", pm.Text)
		}

		// The service's changes over the area, newest first; pruning
		// after 30 days forgets them.
		all, err := w.s.Changes(ctx, w.project, "checkout", 0)
		must(t, err)
		if len(all) != 6 || all[0].Summary != "rollback to v1.2" || all[5].Summary != "deploy v1.0 (too old)" {
			t.Fatalf("changes = %+v", all)
		}
		if _, err := w.s.Prune(ctx, t0.Add(30*24*time.Hour-2*time.Hour-time.Minute)); err != nil {
			t.Fatal(err)
		}
		all, err = w.s.Changes(ctx, w.project, "checkout", 0)
		must(t, err)
		if len(all) != 4 || all[3].Summary != "deploy v1.2" {
			t.Fatalf("after pruning, changes = %+v, want the last four", all)
		}
	})
}
