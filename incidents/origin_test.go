package incidents_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// TestAdaptivePaging: an SLO alert of the storefront whose failing traces
// clearly originate in payments pages payments' team and opens a payments
// incident that keeps the evidence; one without a clear winner, or naming
// a service the project does not have, pages the storefront's team.
func TestAdaptivePaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		w.service(t, "storefront", w.policy(t, "front", 0, step(5*time.Minute, user(w.alice))), incident.DefaultServiceConfig())
		w.service(t, "payments", w.policy(t, "pay", 0, step(5*time.Minute, user(w.bob))), incident.DefaultServiceConfig())
		fire := func(at time.Time, key, attributed, origin string) *incident.Incident {
			t.Helper()
			a := &nightjar.Alert{ProjectID: w.project, DedupKey: key, Source: "slo", Service: "storefront", Severity: nightjar.SeverityPage,
				Summary: key + " burns its budget", Status: nightjar.AlertFiring, StartsAt: at, Details: map[string]string{
					"origin_service": origin, "origin_attributed": attributed, "origin_reason": "8 of 10 failing traces (80%) originate in " + origin,
					"origin_shares": origin + " 80%, storefront 20%", "origin_examples": "4bf92f3577b34da6a3ce929d0e0e4736: storefront → " + origin}}
			must(t, db.WithTx(ctx, func(tx *store.Tx) error {
				return w.stage.Handle(ctx, tx, alerting.Change{Alert: a, At: at})
			}))
			incs, err := w.s.Incidents(ctx, w.project, incidents.IncidentFilter{Open: true})
			must(t, err)
			for _, inc := range incs {
				for _, ref := range inc.Alerts {
					if ref.DedupKey == key {
						return inc
					}
				}
			}
			t.Fatalf("no open incident holds %s", key)
			return nil
		}

		inc := fire(t0, "checkout-availability", "true", "payments")
		w.want(t, t0, "a clear origin", "incident.page → bob")
		if inc.Service != "payments" {
			t.Fatalf("incident service = %q, want payments", inc.Service)
		}
		tl, err := w.s.Timeline(ctx, w.project, inc.ID)
		must(t, err)
		var evidence string
		for _, e := range tl {
			if e.Kind == incidents.EntryOrigin {
				evidence = e.Text
			}
		}
		for _, want := range []string{"Paged as payments's, where the failures originate, rather than as storefront's", "payments 80%, storefront 20%",
			"4bf92f3577b34da6a3ce929d0e0e4736: storefront → payments"} {
			if !strings.Contains(evidence, want) {
				t.Errorf("evidence %q lacks %q", evidence, want)
			}
		}
		// The alert itself stays the storefront's, with its evidence.
		a, err := w.stage.Get(ctx, w.project, "checkout-availability")
		must(t, err)
		if a.Service != "storefront" || a.Details["origin_service"] != "payments" {
			t.Errorf("alert = %+v", a)
		}

		if inc := fire(t0.Add(time.Minute), "search-availability", "false", "payments"); inc.Service != "storefront" {
			t.Errorf("without a clear winner the incident is %q's", inc.Service)
		}
		w.want(t, t0.Add(time.Minute), "no clear origin", "incident.page → alice")
		if inc := fire(t0.Add(2*time.Minute), "cart-availability", "true", "inventory"); inc.Service != "storefront" {
			t.Errorf("with an unknown origin the incident is %q's", inc.Service)
		}
		// It joins the storefront's open incident: nobody is paged again.
		w.want(t, t0.Add(2*time.Minute), "an origin that is no service")
	})
}
