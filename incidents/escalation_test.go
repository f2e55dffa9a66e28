package incidents_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// world is a project wired as serve wires it: the alert stage with the
// incident route before the default one, and the escalation module. Tests
// move time by hand and read what was written to the outbox.
type world struct {
	*fixture
	stage *alerting.Stage
	esc   *engine.Escalation
	ob    *outbox.Outbox
	names map[string]string // destination id → who, for readable output
	seen  map[string]bool
	carol string
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	f := newFixture(t, db)
	w := &world{fixture: f, stage: alerting.New(db, incidents.AlertRoute{Store: f.s}), esc: &engine.Escalation{Incidents: f.s},
		ob: outbox.New(db), names: map[string]string{f.channel: "#ops"}, seen: map[string]bool{}}
	w.carol = addMember(t, f, "carol@example.com")
	for u, name := range map[string]string{f.alice: "alice", f.bob: "bob", w.carol: "carol"} {
		w.names[w.method(t, u, "https://hooks.example.com/"+name)] = name
	}
	return w
}

// addMember makes another user of the fixture's project.
func addMember(t *testing.T, f *fixture, email string) string {
	t.Helper()
	u, err := accountsOf(f.db).CreateUser(context.Background(), email, "correct horse battery", f.project, nightjar.RoleMember, t0)
	must(t, err)
	return u.ID
}

// method gives user a verified webhook contact method.
func (w *world) method(t *testing.T, user, url string) string {
	t.Helper()
	ctx := context.Background()
	m := incident.ContactMethod{UserID: user, Kind: incident.ContactWebhook, Value: url}
	must(t, w.s.CreateContactMethod(ctx, &m, t0))
	must(t, w.s.Verify(ctx, user, m.ID, sendCode(t, w.fixture, user, m.ID, t0), t0))
	return m.ID
}

func (w *world) alert(t *testing.T, at time.Time, key, service string, status nightjar.AlertStatus) {
	t.Helper()
	a := &nightjar.Alert{ProjectID: w.project, DedupKey: key, Source: "test", Service: service, Severity: nightjar.SeverityPage,
		Summary: key + " is down", Status: status, StartsAt: at, Labels: map[string]string{"team": "web"}}
	must(t, w.db.WithTx(context.Background(), func(tx *store.Tx) error {
		return w.stage.Handle(context.Background(), tx, alerting.Change{Alert: a, At: at})
	}))
}

func (w *world) step(t *testing.T, at time.Time) {
	t.Helper()
	must(t, w.esc.Step(context.Background(), at))
}

// sent returns the messages written since the last call, due by now and
// not cancelled, as "event → who", sorted.
func (w *world) sent(t *testing.T, now time.Time) []string {
	t.Helper()
	items, err := w.ob.ByProject(context.Background(), w.project, 1000)
	must(t, err)
	out := []string{}
	for _, it := range items {
		if w.seen[it.ID] || it.NextAttemptAt.After(now) || it.Event == notify.EventContactVerify || it.Status == outbox.Cancelled {
			continue
		}
		w.seen[it.ID] = true
		out = append(out, it.Event+" → "+w.names[it.To.ID])
	}
	slices.Sort(out)
	return out
}

func (w *world) want(t *testing.T, now time.Time, what string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := w.sent(t, now); !slices.Equal(got, want) {
		t.Fatalf("at %s, %s: sent %q, want %q", now.Sub(t0), what, got, want)
	}
}

// policy makes a policy with steps of (delay, targets).
func (w *world) policy(t *testing.T, name string, repeat int, steps ...incident.Step) *incident.Policy {
	t.Helper()
	p := &incident.Policy{Name: name, Repeat: repeat, Steps: steps}
	must(t, w.s.Policies().Create(context.Background(), w.project, p, t0))
	return p
}

func step(d time.Duration, targets ...incident.Target) incident.Step {
	return incident.Step{Delay: d, Targets: targets}
}

func user(id string) incident.Target { return incident.Target{Kind: incident.TargetUser, ID: id} }

// service makes a service owned by a team whose default policy is p.
func (w *world) service(t *testing.T, name string, p *incident.Policy, cfg incident.ServiceConfig) {
	t.Helper()
	ctx := context.Background()
	team := incident.Team{Name: "team-" + name, Members: []string{w.alice, w.bob}, Policy: p.ID}
	must(t, w.s.Teams().Create(ctx, w.project, &team, t0))
	must(t, w.s.Services().Create(ctx, w.project, &incident.Service{Name: name, Team: team.ID, RunbookURL: "https://wiki.example.com/" + name, Config: cfg}, t0))
}

func (w *world) only(t *testing.T) *incident.Incident {
	t.Helper()
	incs, err := w.s.Incidents(context.Background(), w.project, incidents.IncidentFilter{})
	must(t, err)
	if len(incs) != 1 {
		t.Fatalf("%d incidents, want 1", len(incs))
	}
	return incs[0]
}

// TestEscalationTimeline: at 0 the alert fires and step 1 pages alice; at
// 5m step 2 pages whoever is on call for the schedule (bob); at 6m bob
// acknowledges and alice hears it; nothing more is sent; when the alert
// resolves the incident resolves and both hear it.
func TestEscalationTimeline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		sch := schedule(w.bob, w.carol) // bob's week from t0
		must(t, w.s.Schedules().Create(ctx, w.project, &sch, t0))
		p := w.policy(t, "web", 0, step(5*time.Minute, user(w.alice)),
			step(10*time.Minute, incident.Target{Kind: incident.TargetSchedule, ID: sch.ID}, incident.Target{Kind: incident.TargetChannel, ID: w.channel}))
		w.service(t, "checkout", p, incident.DefaultServiceConfig())

		w.alert(t, t0, "db", "checkout", nightjar.AlertFiring)
		w.want(t, t0, "the alert fires", "incident.page → alice")
		w.step(t, t0.Add(5*time.Minute-time.Second))
		w.want(t, t0.Add(5*time.Minute-time.Second), "before step 2")
		// A second alert of the service joins the incident, pages nobody.
		w.alert(t, t0.Add(time.Minute), "api", "checkout", nightjar.AlertFiring)
		w.want(t, t0.Add(time.Minute), "a second alert joins")

		w.step(t, t0.Add(5*time.Minute))
		w.want(t, t0.Add(5*time.Minute), "step 2", "incident.page → #ops", "incident.page → bob")
		w.step(t, t0.Add(5*time.Minute)) // a second look changes nothing
		w.want(t, t0.Add(5*time.Minute), "step 2 again")

		inc := w.only(t)
		_, err := w.s.Acknowledge(ctx, w.project, inc.ID, w.bob, t0.Add(6*time.Minute))
		must(t, err)
		w.want(t, t0.Add(6*time.Minute), "bob acknowledges", "incident.acknowledged → #ops", "incident.acknowledged → alice")
		for _, at := range []time.Duration{15 * time.Minute, time.Hour, 24 * time.Hour} {
			w.step(t, t0.Add(at))
			w.want(t, t0.Add(at), "after the acknowledgement")
		}
		w.alert(t, t0.Add(2*time.Hour), "db", "checkout", nightjar.AlertResolved)
		w.want(t, t0.Add(2*time.Hour), "one alert resolves")
		w.alert(t, t0.Add(2*time.Hour), "api", "checkout", nightjar.AlertResolved)
		w.want(t, t0.Add(2*time.Hour), "the last alert resolves", "incident.resolved → #ops", "incident.resolved → alice", "incident.resolved → bob")

		inc = w.only(t)
		if inc.Status != incident.Resolved || inc.Number != 1 || inc.Assignee != w.bob || len(inc.Alerts) != 2 {
			t.Fatalf("incident = %+v", inc)
		}
		tl, err := w.s.Timeline(ctx, w.project, inc.ID)
		must(t, err)
		var kinds []string
		notifications := 0
		for _, e := range tl {
			if e.Kind == incidents.EntryNotification {
				notifications++
				if e.Delivery == nil || e.Delivery.Status != outbox.Pending {
					t.Errorf("notification entry without its delivery: %+v", e)
				}
				continue
			}
			kinds = append(kinds, string(e.Kind))
		}
		wantKinds := []string{"triggered", "paged", "alert_joined", "paged", "policy_exhausted", "acknowledged", "alert_resolved", "alert_resolved", "resolved"}
		if !slices.Equal(kinds, wantKinds) || notifications != 8 {
			t.Errorf("timeline kinds = %v and %d notifications, want %v and 8", kinds, notifications, wantKinds)
		}
	})
}

// TestNoConfigurationKeepsDefaultRoute: a project with none of the new
// objects has its channels told, as before, and no incident.
func TestNoConfigurationKeepsDefaultRoute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		// A team alone (no service, route or policy) changes nothing.
		must(t, w.s.Teams().Create(context.Background(), w.project, &incident.Team{Name: "web"}, t0))
		w.alert(t, t0, "db", "checkout", nightjar.AlertFiring)
		w.want(t, t0, "the alert fires", "alert.firing → #ops")
		w.alert(t, t0.Add(time.Minute), "db", "checkout", nightjar.AlertResolved)
		w.want(t, t0.Add(time.Minute), "the alert resolves", "alert.resolved → #ops")
		if incs, err := w.s.Incidents(context.Background(), w.project, incidents.IncidentFilter{}); err != nil || len(incs) != 0 {
			t.Fatalf("incidents = %v, %v", incs, err)
		}
	})
}

// TestSilenceHoldsPagingBack: an alert that fires while silenced opens an
// incident (recorded) but pages nobody until the silence ends, and then
// pages if the incident is still open.
func TestSilenceHoldsPagingBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p := w.policy(t, "web", 0, step(5*time.Minute, user(w.alice)))
		w.service(t, "checkout", p, incident.ServiceConfig{GroupWindow: 10 * time.Minute})
		ms, err := incident.ParseMatchers(`team="web"`)
		must(t, err)
		must(t, w.s.Silences().Create(ctx, w.project, &incident.Silence{Matchers: ms, StartsAt: t0, EndsAt: t0.Add(30 * time.Minute),
			CreatedBy: w.bob, Comment: "deploying"}, t0))
		w.alert(t, t0.Add(time.Minute), "db", "checkout", nightjar.AlertFiring)
		w.want(t, t0.Add(time.Minute), "silenced alert fires")
		w.step(t, t0.Add(29*time.Minute))
		w.want(t, t0.Add(29*time.Minute), "still silenced")
		inc := w.only(t)
		if inc.Status != incident.Triggered {
			t.Fatalf("silenced incident not recorded: %+v", inc)
		}
		w.step(t, t0.Add(30*time.Minute))
		w.want(t, t0.Add(30*time.Minute), "silence ends", "incident.page → alice")
		tl, err := w.s.Timeline(ctx, w.project, inc.ID)
		must(t, err)
		if !slices.ContainsFunc(tl, func(e incidents.TimelineEntry) bool {
			return e.Kind == incidents.EntrySuppressed && strings.Contains(e.Text, "silence")
		}) {
			t.Errorf("timeline has no suppression entry: %+v", tl)
		}
	})
}

// TestSilenceExtendedWhileHeld: a page held back by a silence is looked at
// again when the silence would have ended. A silence of 10 minutes holds
// the page; at 5 minutes it is extended to 30 (or another silence covers
// the alert until then); at 10 minutes nothing is sent, and at 30 the
// alert, still firing, pages once.
func TestSilenceExtendedWhileHeld(t *testing.T) {
	for _, c := range []struct {
		name string
		// cover makes the alert covered until 30m, at 5m.
		cover func(t *testing.T, w *world, first *incident.Silence, ms incident.Matchers)
	}{
		{"extended", func(t *testing.T, w *world, first *incident.Silence, _ incident.Matchers) {
			first.EndsAt = t0.Add(30 * time.Minute)
			must(t, w.s.Silences().Update(context.Background(), w.project, first))
		}},
		{"another silence", func(t *testing.T, w *world, _ *incident.Silence, ms incident.Matchers) {
			must(t, w.s.Silences().Create(context.Background(), w.project, &incident.Silence{Matchers: ms, StartsAt: t0.Add(5 * time.Minute),
				EndsAt: t0.Add(30 * time.Minute), CreatedBy: w.alice, Comment: "still deploying"}, t0.Add(5*time.Minute)))
		}},
		{"maintenance", func(t *testing.T, w *world, _ *incident.Silence, _ incident.Matchers) {
			must(t, w.s.Maintenance().Create(context.Background(), w.project, &incident.Maintenance{Name: "upgrade",
				Window: incident.Window{Start: t0.Add(5 * time.Minute), End: t0.Add(30 * time.Minute)}}, t0.Add(5*time.Minute)))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				w := newWorld(t, db)
				p := w.policy(t, "web", 0, step(5*time.Minute, user(w.alice)))
				w.service(t, "checkout", p, incident.DefaultServiceConfig())
				ms, err := incident.ParseMatchers(`team="web"`)
				must(t, err)
				sil := &incident.Silence{Matchers: ms, StartsAt: t0, EndsAt: t0.Add(10 * time.Minute), CreatedBy: w.bob, Comment: "deploying"}
				must(t, w.s.Silences().Create(ctx, w.project, sil, t0))
				w.alert(t, t0, "db", "checkout", nightjar.AlertFiring)
				w.want(t, t0, "the silenced alert fires")

				c.cover(t, w, sil, ms)
				for _, at := range []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 30*time.Minute - time.Second} {
					w.step(t, t0.Add(at))
					w.want(t, t0.Add(at), "still covered")
				}
				w.step(t, t0.Add(30*time.Minute))
				w.want(t, t0.Add(30*time.Minute), "covered no more", "incident.page → alice")
				w.step(t, t0.Add(30*time.Minute))
				w.step(t, t0.Add(31*time.Minute))
				w.want(t, t0.Add(31*time.Minute), "after the page")

				tl, err := w.s.Timeline(ctx, w.project, w.only(t).ID)
				must(t, err)
				var held []string
				for _, e := range tl {
					if e.Kind == incidents.EntrySuppressed {
						held = append(held, e.At.Sub(t0).String()+" "+e.Text)
					}
				}
				if len(held) != 2 || !strings.HasPrefix(held[1], "10m0s Paging held back until "+t0.Add(30*time.Minute).UTC().Format(time.RFC3339)) {
					t.Fatalf("suppressed entries = %q, want one at 0s and one at 10m until 30m", held)
				}
			})
		})
	}
}

// TestLaterStepCarriesFiringAlert: a page sent on the escalation's timer
// carries the incident's alert still firing as its source sent it, with
// its labels and links (the runbook, the graph), not an alert made up from
// the incident.
func TestLaterStepCarriesFiringAlert(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p := w.policy(t, "web", 0, step(5*time.Minute, user(w.alice)), step(5*time.Minute, user(w.bob)))
		w.service(t, "checkout", p, incident.ServiceConfig{GroupWindow: 10 * time.Minute, AutoResolve: true})
		w.alert(t, t0, "api", "checkout", nightjar.AlertFiring)
		w.want(t, t0, "the first alert fires", "incident.page → alice")
		links := []nightjar.Link{{Href: "https://runbooks.example.com/db-full", Text: "runbook"},
			{Href: "https://prometheus.example.com/graph?g0.expr=disk", Text: "source"}}
		db1 := &nightjar.Alert{ProjectID: w.project, DedupKey: "db", Source: "alertmanager", Service: "checkout", Severity: nightjar.SeverityPage,
			Summary: "disk almost full", Status: nightjar.AlertFiring, StartsAt: t0.Add(30 * time.Second),
			Labels: map[string]string{"team": "web", "instance": "db-1"}, Links: links}
		must(t, db.WithTx(ctx, func(tx *store.Tx) error {
			return w.stage.Handle(ctx, tx, alerting.Change{Alert: db1, At: t0.Add(time.Minute)})
		}))
		w.alert(t, t0.Add(2*time.Minute), "api", "checkout", nightjar.AlertResolved)
		w.want(t, t0.Add(2*time.Minute), "one alert joins, the other resolves")

		w.step(t, t0.Add(5*time.Minute))
		w.want(t, t0.Add(5*time.Minute), "step 2", "incident.page → bob")
		items, err := w.ob.ByProject(ctx, w.project, 100)
		must(t, err)
		var page *outbox.Item
		for _, it := range items {
			if it.Event == notify.EventIncidentPage && w.names[it.To.ID] == "bob" {
				page = it
			}
		}
		if page == nil || page.Incident == nil || page.Incident.Step != 2 {
			t.Fatalf("no step 2 page to bob: %+v", page)
		}
		a := page.Alert
		if a.DedupKey != "db" || a.Summary != "disk almost full" || a.Source != "alertmanager" || a.Status != nightjar.AlertFiring ||
			!a.StartsAt.Equal(t0.Add(30*time.Second)) || a.Labels["instance"] != "db-1" || !slices.Equal(a.Links, links) {
			t.Fatalf("step 2 page carries %+v, want the firing alert db with its labels and links", a)
		}
	})
}

// TestServiceConfigDecides: each service's own grouping window and
// auto-resolve apply to its alerts. "shop" groups for ten minutes and
// resolves with its alerts; "ledger" never groups and waits for a person.
func TestServiceConfigDecides(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p := w.policy(t, "web", 0, step(5*time.Minute, user(w.alice)))
		w.service(t, "shop", p, incident.ServiceConfig{GroupWindow: 10 * time.Minute, AutoResolve: true})
		w.service(t, "ledger", p, incident.ServiceConfig{})
		for _, svc := range []string{"shop", "ledger"} {
			w.alert(t, t0, svc+"-a", svc, nightjar.AlertFiring)
			w.alert(t, t0.Add(time.Minute), svc+"-b", svc, nightjar.AlertFiring)
			w.alert(t, t0.Add(2*time.Minute), svc+"-a", svc, nightjar.AlertResolved)
			w.alert(t, t0.Add(2*time.Minute), svc+"-b", svc, nightjar.AlertResolved)
		}
		for svc, want := range map[string][]incident.Status{"shop": {incident.Resolved}, "ledger": {incident.Triggered, incident.Triggered}} {
			incs, err := w.s.Incidents(ctx, w.project, incidents.IncidentFilter{Service: svc})
			must(t, err)
			var got []incident.Status
			for _, inc := range incs {
				got = append(got, inc.Status)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: incidents %v, want %v", svc, got, want)
			}
		}
	})
}

// TestNotificationRulesAndAckCancel: a person's rules delay their second
// method; an acknowledgement before then cancels the held-back page.
func TestNotificationRulesAndAckCancel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		phone := w.method(t, w.alice, "https://hooks.example.com/alice-phone")
		w.names[phone] = "alice-phone"
		ms, err := w.s.ContactMethods(ctx, w.alice)
		must(t, err)
		first := ms[0].ID
		if first == phone {
			first = ms[1].ID
		}
		must(t, w.s.CreateNotificationRule(ctx, &incident.NotificationRule{UserID: w.alice, Method: first}, t0))
		must(t, w.s.CreateNotificationRule(ctx, &incident.NotificationRule{UserID: w.alice, Method: phone, Delay: 3 * time.Minute}, t0))
		p := w.policy(t, "web", 0, step(30*time.Minute, user(w.alice)))
		w.service(t, "checkout", p, incident.DefaultServiceConfig())

		w.alert(t, t0, "db", "checkout", nightjar.AlertFiring)
		w.want(t, t0, "fires", "incident.page → alice")
		w.want(t, t0.Add(3*time.Minute), "3m later", "incident.page → alice-phone")

		w.alert(t, t0.Add(time.Hour), "db2", "checkout", nightjar.AlertFiring)
		w.want(t, t0.Add(time.Hour), "a second incident", "incident.page → alice")
		incs, err := w.s.Incidents(ctx, w.project, incidents.IncidentFilter{Open: true})
		must(t, err)
		_, err = w.s.Acknowledge(ctx, w.project, incs[0].ID, w.alice, t0.Add(time.Hour+time.Minute))
		must(t, err)
		w.want(t, t0.Add(2*time.Hour), "after the acknowledgement")
		// The held-back page is recorded as not sent, and why.
		tl, err := w.s.Timeline(ctx, w.project, incs[0].ID)
		must(t, err)
		cancelled := 0
		for _, e := range tl {
			if d := e.Delivery; d != nil && d.Status == outbox.Cancelled && strings.Contains(d.LastError, "acknowledged") {
				cancelled++
			}
		}
		if cancelled != 1 {
			t.Fatalf("timeline records %d cancelled pages, want 1: %+v", cancelled, tl)
		}
		// A second acknowledgement is a conflict.
		_, err = w.s.Acknowledge(ctx, w.project, incs[0].ID, w.bob, t0.Add(time.Hour+2*time.Minute))
		storetest.WantCode(t, err, nightjar.ECONFLICT)
	})
}

// TestRepeatAndManualEscalate: a policy repeats; a person can page the
// next step before its delay.
func TestRepeatAndManualEscalate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p := w.policy(t, "web", 1, step(10*time.Minute, user(w.alice)), step(10*time.Minute, user(w.bob)))
		w.service(t, "checkout", p, incident.DefaultServiceConfig())
		w.alert(t, t0, "db", "checkout", nightjar.AlertFiring)
		w.want(t, t0, "fires", "incident.page → alice")
		inc := w.only(t)
		_, err := w.s.Escalate(ctx, w.project, inc.ID, w.alice, t0.Add(2*time.Minute))
		must(t, err)
		w.want(t, t0.Add(2*time.Minute), "manual escalation", "incident.page → bob")
		w.step(t, t0.Add(11*time.Minute))
		w.want(t, t0.Add(11*time.Minute), "not yet round 2")
		w.step(t, t0.Add(12*time.Minute))
		w.want(t, t0.Add(12*time.Minute), "round 2 step 1", "incident.page → alice")
		w.step(t, t0.Add(22*time.Minute))
		w.want(t, t0.Add(22*time.Minute), "round 2 step 2", "incident.page → bob")
		for _, d := range []time.Duration{time.Hour, 5 * time.Hour} {
			w.step(t, t0.Add(d))
			w.want(t, t0.Add(d), "policy exhausted")
		}
		must(t, w.s.AddNote(ctx, w.project, inc.ID, w.bob, "looking at the database", t0.Add(time.Hour)))
		_, err = w.s.Reassign(ctx, w.project, inc.ID, w.carol, w.bob, t0.Add(time.Hour))
		must(t, err)
		_, err = w.s.Reassign(ctx, w.project, inc.ID, w.outsider, w.bob, t0.Add(time.Hour))
		wantField(t, err, "assignee")
		got, err := w.s.SetCommander(ctx, w.project, inc.ID, w.alice, w.bob, t0.Add(time.Hour))
		must(t, err)
		if got.Assignee != w.carol || got.Commander != w.alice {
			t.Fatalf("incident = %+v", got)
		}
		wantField(t, w.s.AddNote(ctx, w.project, inc.ID, w.bob, "  ", t0), "text")
		_, err = w.s.Resolve(ctx, w.project, inc.ID, w.bob, t0.Add(2*time.Hour))
		must(t, err)

		pm, err := w.s.Postmortem(ctx, w.project, inc.ID, time.UTC, t0.Add(3*time.Hour))
		must(t, err)
		if pm.Saved || !strings.Contains(pm.Text, "db is down") || !strings.Contains(pm.Text, "looking at the database") {
			t.Fatalf("draft = %+v", pm)
		}
		must(t, w.s.SavePostmortem(ctx, w.project, inc.ID, w.bob, pm.Text+"\nThe disk was full.\n", t0.Add(3*time.Hour)))
		pm, err = w.s.Postmortem(ctx, w.project, inc.ID, time.UTC, t0.Add(4*time.Hour))
		must(t, err)
		if !pm.Saved || pm.UpdatedBy != w.bob || !strings.HasSuffix(pm.Text, "The disk was full.\n") {
			t.Fatalf("saved postmortem = %+v", pm)
		}
		tl, err := w.s.Timeline(ctx, w.project, inc.ID)
		must(t, err)
		var who []string
		for _, e := range tl {
			if e.Actor != "" {
				who = append(who, fmt.Sprintf("%s:%t", e.Kind, e.Actor == w.bob))
			}
		}
		want := []string{"escalated:false", "note:true", "assigned:true", "commander:true", "resolved:true", "postmortem:true"}
		if !slices.Equal(who, want) {
			t.Errorf("actors = %v, want %v", who, want)
		}
	})
}

// TestLinkOfFormerMember: a link sent to someone who has left the project
// no longer acts.
func TestLinkOfFormerMember(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p := w.policy(t, "web", 0, step(5*time.Minute, user(w.alice)))
		w.service(t, "checkout", p, incident.DefaultServiceConfig())
		w.alert(t, t0, "db", "checkout", nightjar.AlertFiring)
		items, err := w.ob.ByProject(ctx, w.project, 100)
		must(t, err)
		var page *outbox.Item
		for _, it := range items {
			if it.Event == notify.EventIncidentPage {
				page = it
			}
		}
		if page == nil || page.Incident.AckToken == "" {
			t.Fatalf("no page with a link: %+v", items)
		}
		_, err = accountsOf(db).RemoveMember(ctx, nightjar.RoleOwner, w.project, w.alice)
		must(t, err)
		_, err = w.s.UseLink(ctx, page.Incident.AckToken, t0.Add(time.Minute))
		storetest.WantCode(t, err, nightjar.EFORBIDDEN)
		if inc := w.only(t); inc.Status != incident.Triggered {
			t.Fatalf("a former member's link acted: %+v", inc)
		}
	})
}

// TestMaintenanceAndTickets: a maintenance window holds pages back until
// it ends; a route that makes alerts tickets tells the policy's channel,
// not its people, and only during working hours.
func TestMaintenanceAndTickets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p := w.policy(t, "web", 0, step(5*time.Minute, user(w.alice), incident.Target{Kind: incident.TargetChannel, ID: w.channel}))
		p.WorkingHours = []incident.Window{{Schedule: "0 9 * * 1-5", Zone: "UTC", Duration: 8 * time.Hour}}
		must(t, w.s.Policies().Update(ctx, w.project, p))
		w.service(t, "checkout", p, incident.DefaultServiceConfig())
		tickets, err := incident.ParseMatchers(`source="batch"`)
		must(t, err)
		must(t, w.s.SetRoutes(ctx, w.project, []incident.Route{{Matchers: tickets, Policy: p.ID, Urgency: nightjar.SeverityTicket}}))
		must(t, w.s.Maintenance().Create(ctx, w.project, &incident.Maintenance{Name: "upgrade",
			Window: incident.Window{Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour)}}, t0))

		// Maintenance from 10:00 to 11:00 on Monday.
		w.alert(t, t0.Add(70*time.Minute), "db", "checkout", nightjar.AlertFiring)
		w.want(t, t0.Add(70*time.Minute), "during maintenance")
		w.step(t, t0.Add(119*time.Minute))
		w.want(t, t0.Add(119*time.Minute), "still in maintenance")
		w.step(t, t0.Add(2*time.Hour))
		w.want(t, t0.Add(2*time.Hour), "maintenance over", "incident.page → #ops", "incident.page → alice")

		// A batch job's alert at 20:00 is a ticket, told at 09:00 the
		// next morning, to the channel only.
		evening := t0.Add(11 * time.Hour)
		a := &nightjar.Alert{ProjectID: w.project, DedupKey: "nightly", Source: "batch", Service: "reports", Severity: nightjar.SeverityPage,
			Summary: "nightly export failed", Status: nightjar.AlertFiring, StartsAt: evening}
		must(t, db.WithTx(ctx, func(tx *store.Tx) error { return w.stage.Handle(ctx, tx, alerting.Change{Alert: a, At: evening}) }))
		w.step(t, evening.Add(time.Hour))
		w.want(t, evening.Add(time.Hour), "outside working hours")
		morning := t0.Add(24 * time.Hour)
		w.step(t, morning.Add(-time.Second))
		w.want(t, morning.Add(-time.Second), "just before working hours")
		w.step(t, morning)
		w.want(t, morning, "working hours begin", "incident.ticket → #ops")
		w.step(t, morning.Add(time.Hour))
		w.want(t, morning.Add(time.Hour), "a ticket is told once")
	})
}

// TestSenderAcknowledges: an acknowledge event from the alert's sender
// acknowledges its incident and stops the escalation.
func TestSenderAcknowledges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p := w.policy(t, "web", 0, step(5*time.Minute, user(w.alice)), step(5*time.Minute, user(w.bob)))
		w.service(t, "checkout", p, incident.DefaultServiceConfig())
		w.alert(t, t0, "db", "checkout", nightjar.AlertFiring)
		w.want(t, t0, "fires", "incident.page → alice")
		must(t, db.WithTx(ctx, func(tx *store.Tx) error {
			ok, err := w.stage.Acknowledge(ctx, tx, w.project, "db", t0.Add(2*time.Minute))
			if err == nil && !ok {
				t.Error("the alert was not acknowledged")
			}
			return err
		}))
		if inc := w.only(t); inc.Status != incident.Acknowledged {
			t.Fatalf("incident = %+v", inc)
		}
		w.want(t, t0.Add(2*time.Minute), "the sender acknowledges", "incident.acknowledged → alice")
		w.step(t, t0.Add(10*time.Minute))
		w.want(t, t0.Add(10*time.Minute), "after the sender's acknowledgement")
	})
}
