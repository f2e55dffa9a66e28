package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// The SLO form judges a definition by the domain's own problems, puts
// each beside its field, saves a good one, and an edit keeps what the
// form does not show.
func TestSLOForm(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnvWithAreas(t, db, func(a *Areas) {
			a.RefreshIngest = func(ctx context.Context) error {
				return engine.LoadTargets(ctx, a.SLOs, a.SLOs.Ingest)
			}
		})
		ctx := context.Background()
		if code, _ := e.login("viewer@a.test").get("/slos/new"); code != http.StatusForbidden {
			t.Errorf("a viewer opens the SLO form: %d", code)
		}
		m := e.login("member@a.test")
		if code, body := m.get("/slos/new"); code != http.StatusOK || !strings.Contains(body, `value="99.9"`) {
			t.Fatalf("GET /slos/new = %d", code)
		}
		form := url.Values{"service": {"shop"}, "name": {"checkout"}, "objective": {"100"}, "indicator.kind": {"latency"},
			"window.rolling": {"1d"}, "alerting.min_events": {"many"}}
		code, body := m.post("/slos/new", form)
		if code != http.StatusBadRequest {
			t.Fatalf("a bad SLO = %d", code)
		}
		for _, id := range []string{"objective-error", "window-rolling-error", "indicator-threshold-error", "alerting-min_events-error"} {
			if !strings.Contains(body, `id="`+id+`"`) {
				t.Errorf("no %s beside its field", id)
			}
		}
		if !strings.Contains(body, `<details class="advanced" open>`) {
			t.Error("an error in Advanced leaves it closed")
		}
		if !strings.Contains(body, `value="checkout"`) {
			t.Error("the form forgets what was typed")
		}
		form.Set("objective", "99.5")
		form.Set("window.rolling", "28d")
		form.Set("indicator.threshold", "300ms")
		form.Set("alerting.min_events", "")
		code, loc := m.post("/slos/new", form)
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/slos/") {
			t.Fatalf("a good SLO = %d %s", code, loc)
		}
		id := strings.TrimPrefix(loc, "/slos/")
		o, err := e.areas.SLOs.Get(ctx, e.a.ID, id)
		if err != nil || o.Definition.Objective != 99.5 || o.Definition.Indicator.Threshold != "300ms" || o.Definition.Window.Rolling != "28d" {
			t.Fatalf("stored %+v, %v", o, err)
		}
		// Ingest counts the new objective's requests at once.
		agg := e.areas.SLOs.Ingest
		now := e.clock.Now()
		if !agg.Observe(e.a.ID, &slo.Request{Service: "shop", SpanKind: "SERVER"}, "u1", now, now) {
			t.Error("ingest does not count the new SLO's requests")
		}
		if code, body := m.post("/slos/new", form); code != http.StatusConflict || !strings.Contains(body, `id="name-error"`) {
			t.Errorf("a second SLO of that name = %d", code)
		}

		// An edit keeps the attributes the form does not show.
		if _, err := e.areas.SLOs.Edit(ctx, e.a.ID, id, e.clock.Now(), func(d *slo.Definition) error {
			d.Indicator.Selector.Attributes = map[string]string{"region": "eu"}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if code, body := m.get("/slos/" + id + "/edit"); code != http.StatusOK || !strings.Contains(body, `value="300ms"`) {
			t.Fatalf("GET edit = %d", code)
		}
		form.Set("objective", "99.95")
		if code, _ := m.post("/slos/"+id+"/edit", form); code != http.StatusSeeOther {
			t.Fatalf("edit = %d", code)
		}
		o, err = e.areas.SLOs.Get(ctx, e.a.ID, id)
		if err != nil || o.Definition.Objective != 99.95 || o.Definition.Indicator.Selector.Attributes["region"] != "eu" {
			t.Fatalf("after the edit %+v, %v", o.Definition, err)
		}
		form.Set("window.rolling", "")
		if code, body := m.post("/slos/"+id+"/edit", form); code != http.StatusBadRequest || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("an edit without a window = %d", code)
		}
		if code, _ := e.login("owner@b.test").get("/slos/" + id + "/edit"); code != http.StatusNotFound {
			t.Errorf("another project's SLO form = %d", code)
		}
	})
}
