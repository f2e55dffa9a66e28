package console

import (
	"context"
	"io"
	"net/http"
	"net/url"
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

// pagingSetup gives project p a service "api" whose team's policy pages
// user, and returns a function that fires (or resolves) an alert of the
// service through the alert stage, as a check or an integration would.
func pagingSetup(t *testing.T, db *store.DB, in *incidents.Store, projectID, user string) func(key string, status nightjar.AlertStatus, at time.Time) {
	t.Helper()
	ctx := context.Background()
	pol := &incident.Policy{Name: "Wake", Steps: []incident.Step{{Delay: 5 * time.Minute, Targets: []incident.Target{{Kind: incident.TargetUser, ID: user}}}}}
	if err := in.Policies().Create(ctx, projectID, pol, t0); err != nil {
		t.Fatal(err)
	}
	team := &incident.Team{Name: "SRE", Members: []string{user}, Policy: pol.ID}
	if err := in.Teams().Create(ctx, projectID, team, t0); err != nil {
		t.Fatal(err)
	}
	svc := &incident.Service{Name: "api", Team: team.ID, Config: incident.DefaultServiceConfig()}
	if err := in.Services().Create(ctx, projectID, svc, t0); err != nil {
		t.Fatal(err)
	}
	stage := alerting.New(db, incidents.AlertRoute{Store: in})
	return func(key string, status nightjar.AlertStatus, at time.Time) {
		t.Helper()
		a := &nightjar.Alert{ProjectID: projectID, DedupKey: key, Source: "test", Service: "api", Severity: nightjar.SeverityPage,
			Summary: key + " is down", Status: status, StartsAt: at}
		if err := db.WithTx(ctx, func(tx *store.Tx) error { return stage.Handle(ctx, tx, alerting.Change{Alert: a, At: at}) }); err != nil {
			t.Fatal(err)
		}
	}
}

func TestIncidentPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		memberID := e.userID("member@a.test")
		fire := pagingSetup(t, db, e.areas.Incidents, e.a.ID, memberID)
		fire("api-latency", nightjar.AlertFiring, t0.Add(-10*time.Minute))
		e.clock.Set(t0)

		owner := e.login("owner@a.test")
		_, body := owner.get("/incidents")
		for _, want := range []string{`<a href="/incidents/1">api-latency is down</a>`, `<span class="status s-triggered">triggered</span>`, `<span class="u-page">page</span>`, "10 min ago"} {
			if !strings.Contains(body, want) {
				t.Fatalf("list lacks %q:\n%s", want, body)
			}
		}
		_, body = owner.get("/")
		if !strings.Contains(body, `<h2 id="open-incidents">Open incidents</h2>`) || !strings.Contains(body, `<a href="/incidents/1">api-latency is down</a>`) {
			t.Fatalf("overview does not show the open incident first:\n%s", body)
		}
		status, body := owner.get("/incidents/1")
		if status != http.StatusOK || !strings.Contains(body, `class="e-triggered"`) || !strings.Contains(body, `id="ack"`) {
			t.Fatalf("detail %d:\n%s", status, body)
		}
		if status, _ := owner.get("/incidents/99"); status != http.StatusNotFound {
			t.Fatalf("unknown incident: %d", status)
		}

		// A viewer reads but cannot act.
		viewer := e.login("viewer@a.test")
		if _, body := viewer.get("/incidents/1"); strings.Contains(body, `id="ack"`) {
			t.Fatal("viewer offered the acknowledge button")
		}
		if status, _ := viewer.post("/incidents/1/ack", nil); status != http.StatusForbidden {
			t.Fatalf("viewer ack: %d", status)
		}

		if status, loc := owner.post("/incidents/1/ack", nil); status != http.StatusSeeOther || loc != "/incidents/1" {
			t.Fatalf("ack: %d %s", status, loc)
		}
		_, body = owner.get("/incidents/1")
		if !strings.Contains(body, "Acknowledged by owner@a.test") || !strings.Contains(body, `id="status">acknowledged<`) || strings.Contains(body, `id="ack"`) {
			t.Fatalf("after ack:\n%s", body)
		}
		// Acknowledging again is a conflict, said on the page.
		status, body = owner.post("/incidents/1/ack", nil)
		if status != http.StatusConflict || !strings.Contains(body, `class="error"`) {
			t.Fatalf("second ack: %d", status)
		}

		status, body = owner.post("/incidents/1/note", url.Values{"text": {"   "}})
		wantField(t, status, body, http.StatusBadRequest, "text", "")
		owner.post("/incidents/1/note", url.Values{"text": {"Rolled back <b>v42</b>"}})
		owner.post("/incidents/1/assign", url.Values{"user": {memberID}})
		_, body = owner.get("/incidents/1")
		for _, want := range []string{`<p class="note-text">Rolled back &lt;b&gt;v42&lt;/b&gt;</p>`, "Assigned to member@a.test by owner@a.test", "<dt>Assignee</dt><dd>member@a.test</dd>"} {
			if !strings.Contains(body, want) {
				t.Fatalf("timeline lacks %q:\n%s", want, body)
			}
		}

		// The postmortem starts as a draft from the timeline, is saved as
		// edited and downloads as Markdown.
		_, body = owner.get("/incidents/1/postmortem")
		if !strings.Contains(body, "A draft from the timeline") || !strings.Contains(body, "api-latency is down") {
			t.Fatalf("draft:\n%s", body)
		}
		if status, loc := owner.post("/incidents/1/postmortem", url.Values{"text": {"# What happened\n\nThe cache filled up.\n"}}); status != http.StatusSeeOther {
			t.Fatalf("save postmortem: %d %s", status, loc)
		}
		_, body = owner.get("/incidents/1/postmortem?saved=1")
		if !strings.Contains(body, "Postmortem saved.") || !strings.Contains(body, "Last saved by owner@a.test") {
			t.Fatalf("saved postmortem:\n%s", body)
		}
		res := owner.do("GET", "/incidents/1/postmortem.md", nil)
		md, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.Header.Get("Content-Type") != "text/markdown; charset=utf-8" || !strings.Contains(res.Header.Get("Content-Disposition"), "incident-1-postmortem.md") ||
			string(md) != "# What happened\n\nThe cache filled up.\n" {
			t.Fatalf("download: %s %q", res.Header, md)
		}

		if status, _ := owner.post("/incidents/1/resolve", nil); status != http.StatusSeeOther {
			t.Fatalf("resolve: %d", status)
		}
		if _, body = owner.get("/incidents"); !strings.Contains(body, "No open incidents") {
			t.Fatalf("resolved incident still listed as open:\n%s", body)
		}
		if _, body = owner.get("/incidents?status=all"); !strings.Contains(body, `<span class="status s-resolved">resolved</span>`) {
			t.Fatal("resolved incident not listed with all")
		}
		// Another project sees none of it.
		if status, _ := e.login("owner@b.test").get("/incidents/1"); status != http.StatusNotFound {
			t.Fatalf("other project: %d", status)
		}
	})
}

// TestIncidentPageShowsOrigin: an SLO alert of the edge service "web"
// whose failures clearly originate in "api" opens an api incident, and its
// page shows where the failures start: the decision, the shares and the
// example traces.
func TestIncidentPageShowsOrigin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		pagingSetup(t, db, e.areas.Incidents, e.a.ID, e.userID("member@a.test"))
		stage := alerting.New(db, incidents.AlertRoute{Store: e.areas.Incidents})
		a := &nightjar.Alert{ProjectID: e.a.ID, DedupKey: "slo:checkout", Source: "slo", Service: "web", Severity: nightjar.SeverityPage,
			Summary: "checkout burns its error budget", Status: nightjar.AlertFiring, StartsAt: t0, Details: map[string]string{
				"origin_service": "api", "origin_attributed": "true", "origin_reason": "9 of 10 failing traces (90%) originate in api",
				"origin_shares": "api 90%, web 10%", "origin_examples": "0af7651916cd43dd8448eb211c80319c: web → api"}}
		if err := db.WithTx(ctx, func(tx *store.Tx) error { return stage.Handle(ctx, tx, alerting.Change{Alert: a, At: t0}) }); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(t0)
		_, body := e.login("owner@a.test").get("/incidents/1")
		for _, want := range []string{`<h2 id="origin">Where the failures start</h2>`,
			"<li>Paged as api&#39;s, where the failures originate, rather than as web&#39;s, the service at the edge (9 of 10 failing traces (90%) originate in api)</li>",
			"<li>Shares of the failing traces: api 90%, web 10%</li>", "<li>Example traces: 0af7651916cd43dd8448eb211c80319c: web → api</li>", " · api · "} {
			if !strings.Contains(body, want) {
				t.Fatalf("incident page lacks %q:\n%s", want, body)
			}
		}
	})
}

// The incident page lists its service's recent changes, as its
// notifications do: not another service's, nor one older than a day.
func TestIncidentPageShowsRecentChanges(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		fire := pagingSetup(t, db, e.areas.Incidents, e.a.ID, e.userID("member@a.test"))
		for _, c := range []nightjar.Change{
			{Service: "api", Summary: "deploy v1.4.2", Source: "github-actions", At: t0.Add(-20 * time.Minute),
				Links: []nightjar.Link{{Href: "https://ci.example.com/runs/42", Text: "Build"}}},
			{Service: "web", Summary: "deploy web v9", At: t0.Add(-5 * time.Minute)},
			{Service: "api", Summary: "deploy v1.0", At: t0.Add(-25 * time.Hour)},
		} {
			c.ProjectID = e.a.ID
			if err := e.areas.Incidents.RecordChange(ctx, &c, t0); err != nil {
				t.Fatal(err)
			}
		}
		fire("api-latency", nightjar.AlertFiring, t0)
		e.clock.Set(t0)
		_, body := e.login("owner@a.test").get("/incidents/1")
		for _, want := range []string{`<h2 id="changes">Recent changes</h2>`, `deploy v1.4.2 <span class="muted">(github-actions)</span>`,
			`<a href="https://ci.example.com/runs/42" rel="noopener">Build</a>`} {
			if !strings.Contains(body, want) {
				t.Fatalf("incident page lacks %q:\n%s", want, body)
			}
		}
		for _, unwanted := range []string{"deploy web v9", "deploy v1.0"} {
			if strings.Contains(body, unwanted) {
				t.Errorf("incident page shows %q", unwanted)
			}
		}
	})
}
