package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
	"github.com/nightjar-dev/nightjar/telemetry"
)

// TestAckLinks follows the links of a page: opening one changes nothing,
// its button acknowledges the incident once, and a used, expired or
// forged link says so.
func TestAckLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{})
		inc := incidents.New(db)
		e.areas.Incidents = inc
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		srv := httptest.NewServer(NewServer(db, e.areas, e.clock, log, Config{BaseURL: "http://nightjar.test"}, telemetry.New(telemetry.Source{}, log)))
		t.Cleanup(srv.Close)
		get := func(method, token string) (int, string, http.Header) {
			t.Helper()
			req, _ := http.NewRequest(method, srv.URL+"/ack/"+token, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b), res.Header
		}

		ch := &nightjar.Channel{ProjectID: e.project.ID, Kind: nightjar.ChannelWebhook, Name: "ops", Config: nightjar.ChannelConfig{URL: "https://hooks.example.com/x"}}
		if err := e.channels.Create(ctx, ch, t0); err != nil {
			t.Fatal(err)
		}
		pol := &incident.Policy{Name: "ops", Steps: []incident.Step{{Delay: time.Minute, Targets: []incident.Target{{Kind: incident.TargetChannel, ID: ch.ID}}}}}
		if err := inc.Policies().Create(ctx, e.project.ID, pol, t0); err != nil {
			t.Fatal(err)
		}
		if err := inc.SetRoutes(ctx, e.project.ID, []incident.Route{{Policy: pol.ID}}); err != nil {
			t.Fatal(err)
		}
		stage := alerting.New(db, incidents.AlertRoute{Store: inc})
		a := &nightjar.Alert{ProjectID: e.project.ID, DedupKey: "k", Source: "test", Service: "web", Severity: nightjar.SeverityPage,
			Summary: "<b>web</b> is down", Status: nightjar.AlertFiring, StartsAt: t0}
		if err := db.WithTx(ctx, func(tx *store.Tx) error { return stage.Handle(ctx, tx, alerting.Change{Alert: a, At: t0}) }); err != nil {
			t.Fatal(err)
		}
		items, err := e.outbox.ByProject(ctx, e.project.ID, 10)
		if err != nil || len(items) != 1 || items[0].Incident == nil || items[0].Incident.AckToken == "" {
			t.Fatalf("page = %+v, %v", items, err)
		}
		ref := items[0].Incident

		status, body, hdr := get("GET", ref.AckToken)
		if status != 200 || !strings.Contains(body, "Acknowledge incident #1") || !strings.Contains(body, "&lt;b&gt;web&lt;/b&gt; is down") {
			t.Fatalf("GET = %d %s", status, body)
		}
		if hdr.Get("Referrer-Policy") != "no-referrer" || hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("headers = %v", hdr)
		}
		got, err := inc.Incident(ctx, e.project.ID, ref.ID)
		if err != nil || got.Status != incident.Triggered {
			t.Fatalf("a GET changed the incident: %+v, %v", got, err)
		}

		e.clock.Advance(time.Minute)
		if status, body, _ := get("POST", ref.AckToken); status != 200 || !strings.Contains(body, "is acknowledged") {
			t.Fatalf("POST = %d %s", status, body)
		}
		if got, _ = inc.Incident(ctx, e.project.ID, ref.ID); got.Status != incident.Acknowledged {
			t.Fatalf("after the button: %+v", got)
		}
		tl, err := inc.Timeline(ctx, e.project.ID, ref.ID)
		if err != nil || !hasEntry(tl, incident.EntryAcknowledged, "link") {
			t.Fatalf("timeline = %+v, %v", tl, err)
		}
		if status, body, _ := get("GET", ref.AckToken); status != 200 || !strings.Contains(body, "used already") || strings.Contains(body, "<button") {
			t.Fatalf("used GET = %d %s", status, body)
		}
		if status, body, _ := get("POST", ref.AckToken); status != http.StatusConflict || !strings.Contains(body, "used already") {
			t.Fatalf("used POST = %d %s", status, body)
		}

		e.clock.Advance(incidents.DefaultLinkTTL)
		if status, body, _ := get("GET", ref.ResolveToken); status != 200 || !strings.Contains(body, "expired") || strings.Contains(body, "<button") {
			t.Fatalf("expired GET = %d %s", status, body)
		}
		if status, _, _ := get("POST", ref.ResolveToken); status != http.StatusForbidden {
			t.Fatalf("expired POST = %d", status)
		}
		forged := "x" + ref.ResolveToken[1:]
		if ref.ResolveToken[0] == 'x' {
			forged = "y" + ref.ResolveToken[1:]
		}
		for _, tok := range []string{forged, "nonsense", "a.b"} {
			if status, body, _ := get("POST", tok); status != http.StatusNotFound || !strings.Contains(body, "not valid") {
				t.Fatalf("POST %s = %d %s", tok, status, body)
			}
		}
		if got, _ = inc.Incident(ctx, e.project.ID, ref.ID); got.Status != incident.Acknowledged {
			t.Fatalf("refused links changed the incident: %+v", got)
		}
	})
}

func hasEntry(tl []incidents.TimelineEntry, kind incident.EntryKind, actor string) bool {
	for _, e := range tl {
		if e.Kind == kind && e.Actor == actor {
			return true
		}
	}
	return false
}
