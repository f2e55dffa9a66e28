package incidents_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/integrations"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// TestSenderAcknowledgeStopsEscalation: at 0 a PagerDuty-style trigger
// opens an incident and pages alice; at 2m the sender acknowledges the
// event; the incident is acknowledged with the integration as the actor
// (not its assignee), #ops alice hears it, and bob's step at 5m never
// pages. An acknowledge of an alert no incident holds changes nothing.
func TestSenderAcknowledgeStopsEscalation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p := w.policy(t, "web", 0, step(5*time.Minute, user(w.alice)), step(10*time.Minute, user(w.bob), incident.Target{Kind: incident.TargetChannel, ID: w.channel}))
		w.service(t, "checkout", p, incident.DefaultServiceConfig())
		in := integrations.New(db, w.stage)
		k := &nightjar.IntegrationKey{ProjectID: w.project, Name: "payments-monitor", Service: "checkout"}
		secret, err := in.Create(ctx, k, t0)
		must(t, err)
		event := func(at time.Time, action, dedup string) {
			t.Helper()
			body := fmt.Sprintf(`{"routing_key": %q, "event_action": %q, "dedup_key": %q,
				"payload": {"summary": "checkout latency high", "source": "prom-1", "severity": "critical"}}`, secret, action, dedup)
			if action != "trigger" {
				body = fmt.Sprintf(`{"routing_key": %q, "event_action": %q, "dedup_key": %q}`, secret, action, dedup)
			}
			_, err := in.PagerDuty(ctx, []byte(body), at)
			must(t, err)
		}

		event(t0, "trigger", "lat-1")
		w.want(t, t0, "the trigger", "incident.page → alice")
		event(t0.Add(time.Minute), "acknowledge", "unknown-key")
		if inc := w.only(t); inc.Status != incident.Triggered {
			t.Fatalf("an acknowledge of another alert changed the incident: %s", inc.Status)
		}

		event(t0.Add(2*time.Minute), "acknowledge", "lat-1")
		w.want(t, t0.Add(2*time.Minute), "the sender acknowledges", "incident.acknowledged → alice")
		inc := w.only(t)
		if inc.Status != incident.Acknowledged || !inc.AckedAt.Equal(t0.Add(2*time.Minute)) || inc.Assignee != "" {
			t.Fatalf("incident after the acknowledge = %+v", inc)
		}
		tl, err := w.s.Timeline(ctx, w.project, inc.ID)
		must(t, err)
		var ack *incidents.TimelineEntry
		for i := range tl {
			if tl[i].Kind == incident.EntryAcknowledged {
				ack = &tl[i]
			}
		}
		if ack == nil || ack.Actor != "integration:"+k.ID || !strings.Contains(ack.Text, "pagerduty integration "+k.ID) {
			t.Fatalf("acknowledged entry = %+v in %+v", ack, tl)
		}
		for _, at := range []time.Duration{5 * time.Minute, time.Hour} {
			w.step(t, t0.Add(at))
			w.want(t, t0.Add(at), "after the sender's acknowledgement")
		}
		// A second acknowledge is ignored, as PagerDuty ignores it.
		event(t0.Add(2*time.Hour), "acknowledge", "lat-1")
		w.want(t, t0.Add(2*time.Hour), "a second acknowledge")
		event(t0.Add(3*time.Hour), "resolve", "lat-1")
		w.want(t, t0.Add(3*time.Hour), "the resolve", "incident.resolved → alice")
		if inc := w.only(t); inc.Status != incident.Resolved {
			t.Fatalf("incident after the resolve: %s", inc.Status)
		}
	})
}
