package incidents_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/accounts"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/oncall"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/password"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fixture is a project with two members and a channel.
type fixture struct {
	db       *store.DB
	s        *incidents.Store
	project  string
	alice    string
	bob      string
	channel  string
	outsider string
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	p := storetest.NewProject(t, db, "shop", t0)
	other := storetest.NewProject(t, db, "other", t0)
	as := accounts.New(db, password.New(password.TestCost, 0))
	user := func(email, project string) string {
		u, err := as.CreateUser(ctx, email, "correct horse battery", project, nightjar.RoleMember, t0)
		if err != nil {
			t.Fatalf("create user: %v", err)
		}
		return u.ID
	}
	ch := &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelWebhook, Name: "ops", Config: nightjar.ChannelConfig{URL: "https://hooks.example.com/ops"}}
	if err := channels.New(db).Create(ctx, ch, t0); err != nil {
		t.Fatalf("create channel: %v", err)
	}
	return &fixture{db: db, s: incidents.New(db), project: p.ID, alice: user("alice@example.com", p.ID), bob: user("bob@example.com", p.ID),
		channel: ch.ID, outsider: user("eve@example.com", other.ID)}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantField fails unless err is EINVALID naming field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	storetest.WantCode(t, err, nightjar.EINVALID)
	if got := nightjar.ErrorField(err); got != field {
		t.Fatalf("field = %q (%v), want %q", got, err, field)
	}
}

func schedule(users ...string) incidents.Schedule {
	return incidents.Schedule{Name: "primary", Definition: oncall.Definition{TimeZone: "Europe/Berlin",
		Layers: []oncall.Layer{{Start: "2026-03-02T09:00", Shift: "weekly", Participants: users}}}}
}

func TestConfigRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		s := f.s

		sch := schedule(f.alice, f.bob)
		must(t, s.Schedules().Create(ctx, f.project, &sch, t0))
		pol := incident.Policy{Name: "web", Repeat: 2, Steps: []incident.Step{
			{Delay: 5 * time.Minute, Targets: []incident.Target{{Kind: incident.TargetSchedule, ID: sch.ID}, {Kind: incident.TargetChannel, ID: f.channel}}},
			{Delay: 10 * time.Minute, Targets: []incident.Target{{Kind: incident.TargetUser, ID: f.bob}}},
		}, WorkingHours: []incident.Window{{Schedule: "0 9 * * 1-5", Zone: "Europe/Berlin", Duration: 8 * time.Hour}}}
		must(t, s.Policies().Create(ctx, f.project, &pol, t0))
		team := incident.Team{Name: "web", Members: []string{f.alice, f.bob}, Policy: pol.ID}
		must(t, s.Teams().Create(ctx, f.project, &team, t0))
		svc := incident.Service{Name: "checkout", Team: team.ID, Tier: "1", Labels: map[string]string{"env": "prod"},
			RunbookURL: "https://wiki.example.com/checkout", Description: "Takes the money", Config: incident.ServiceConfig{GroupWindow: 5 * time.Minute, AutoResolve: true}}
		must(t, s.Services().Create(ctx, f.project, &svc, t0))
		ms, err := incident.ParseMatchers(`service="checkout", severity=~"page|critical"`)
		must(t, err)
		must(t, s.SetRoutes(ctx, f.project, []incident.Route{{Matchers: ms, Policy: pol.ID, Urgency: nightjar.SeverityPage}, {Matchers: incident.Matchers{}}}))
		sil := incident.Silence{Matchers: ms, StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: f.alice, Comment: "deploying"}
		must(t, s.Silences().Create(ctx, f.project, &sil, t0))
		mw := incident.Maintenance{Name: "db upgrade", Matchers: ms, Window: incident.Window{Start: t0, End: t0.Add(2 * time.Hour)}}
		must(t, s.Maintenance().Create(ctx, f.project, &mw, t0))

		gotSch, err := s.Schedules().Get(ctx, f.project, sch.ID)
		must(t, err)
		if !reflect.DeepEqual(*gotSch, sch) {
			t.Errorf("schedule = %+v, want %+v", *gotSch, sch)
		}
		oc, err := s.OnCallAt(ctx, f.project, t0.Add(7*24*time.Hour+time.Hour))
		must(t, err)
		if len(oc) != 1 || oc[0].Schedule.ID != sch.ID || !reflect.DeepEqual(oc[0].Users, []string{f.bob}) {
			t.Errorf("on call in the second week = %+v", oc)
		}
		gotPol, err := s.Policies().Get(ctx, f.project, pol.ID)
		must(t, err)
		if !reflect.DeepEqual(*gotPol, pol) {
			t.Errorf("policy = %+v, want %+v", *gotPol, pol)
		}
		gotTeam, err := s.Teams().Get(ctx, f.project, team.ID)
		must(t, err)
		if !reflect.DeepEqual(*gotTeam, team) {
			t.Errorf("team = %+v, want %+v", *gotTeam, team)
		}
		gotSvc, err := s.ServiceByName(ctx, f.project, "checkout")
		must(t, err)
		if !reflect.DeepEqual(*gotSvc, svc) {
			t.Errorf("service = %+v, want %+v", *gotSvc, svc)
		}
		routes, err := s.Routes(ctx, f.project)
		must(t, err)
		if len(routes) != 2 || routes[0].Matchers.String() != ms.String() || routes[0].Policy != pol.ID || routes[0].Urgency != nightjar.SeverityPage || len(routes[1].Matchers) != 0 {
			t.Errorf("routes = %+v", routes)
		}
		gotSil, err := s.Silences().Get(ctx, f.project, sil.ID)
		must(t, err)
		if gotSil.Matchers.String() != ms.String() || !gotSil.StartsAt.Equal(t0) || !gotSil.EndsAt.Equal(t0.Add(time.Hour)) || gotSil.Comment != "deploying" {
			t.Errorf("silence = %+v", gotSil)
		}
		gotMW, err := s.Maintenance().Get(ctx, f.project, mw.ID)
		must(t, err)
		if gotMW.Name != "db upgrade" || !gotMW.Window.End.Equal(t0.Add(2*time.Hour)) || gotMW.Matchers.String() != ms.String() {
			t.Errorf("maintenance = %+v", gotMW)
		}

		// Updates replace objects in full.
		svc.Description, svc.Config.AutoResolve = "Takes all the money", false
		must(t, s.Services().Update(ctx, f.project, &svc))
		list, err := s.Services().List(ctx, f.project)
		must(t, err)
		if len(list) != 1 || list[0].Description != "Takes all the money" || list[0].Config.AutoResolve {
			t.Errorf("services after update = %+v", list)
		}

		// Another project sees none of it.
		other := storetest.NewProject(t, db, "third", t0)
		if _, err := s.Services().Get(ctx, other.ID, svc.ID); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Errorf("service from another project: %v", err)
		}
		if err := s.Policies().Delete(ctx, other.ID, pol.ID); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Errorf("delete policy from another project: %v", err)
		}

		// What is used cannot be deleted; deleting its users frees it.
		storetest.WantCode(t, s.Schedules().Delete(ctx, f.project, sch.ID), nightjar.ECONFLICT)
		storetest.WantCode(t, s.Policies().Delete(ctx, f.project, pol.ID), nightjar.ECONFLICT)
		storetest.WantCode(t, s.Teams().Delete(ctx, f.project, team.ID), nightjar.ECONFLICT)
		must(t, s.Services().Delete(ctx, f.project, svc.ID))
		must(t, s.Teams().Delete(ctx, f.project, team.ID))
		must(t, s.SetRoutes(ctx, f.project, nil))
		must(t, s.Policies().Delete(ctx, f.project, pol.ID))
		must(t, s.Schedules().Delete(ctx, f.project, sch.ID))
		must(t, s.Silences().Delete(ctx, f.project, sil.ID))
		must(t, s.Maintenance().Delete(ctx, f.project, mw.ID))
		storetest.WantCode(t, s.Maintenance().Delete(ctx, f.project, mw.ID), nightjar.ENOTFOUND)
		for _, n := range []func() (int, error){
			func() (int, error) { l, err := s.Services().List(ctx, f.project); return len(l), err },
			func() (int, error) { l, err := s.Teams().List(ctx, f.project); return len(l), err },
			func() (int, error) { l, err := s.Policies().List(ctx, f.project); return len(l), err },
			func() (int, error) { l, err := s.Schedules().List(ctx, f.project); return len(l), err },
			func() (int, error) { l, err := s.Silences().List(ctx, f.project); return len(l), err },
			func() (int, error) { l, err := s.Maintenance().List(ctx, f.project); return len(l), err },
			func() (int, error) { l, err := s.Routes(ctx, f.project); return len(l), err },
		} {
			if got, err := n(); err != nil || got != 0 {
				t.Errorf("left after deleting: %d, %v", got, err)
			}
		}
	})
}

func TestConfigRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		s := f.s
		step := func(kind incident.TargetKind, id string) []incident.Step {
			return []incident.Step{{Delay: time.Minute, Targets: []incident.Target{{Kind: kind, ID: id}}}}
		}
		// Validation from the domain, field named.
		wantField(t, s.Services().Create(ctx, f.project, &incident.Service{Name: ""}, t0), "name")
		wantField(t, s.Services().Create(ctx, f.project, &incident.Service{Name: "x", RunbookURL: "ftp://x"}, t0), "runbook_url")
		wantField(t, s.Services().Create(ctx, f.project, &incident.Service{Name: "x", Config: incident.ServiceConfig{GroupWindow: 48 * time.Hour}}, t0), "group_window")
		wantField(t, s.Policies().Create(ctx, f.project, &incident.Policy{Name: "p"}, t0), "steps")
		wantField(t, s.Policies().Create(ctx, f.project, &incident.Policy{Steps: step(incident.TargetUser, f.alice)}, t0), "name")
		bad := schedule(f.alice)
		bad.Definition.TimeZone = "Mars/Olympus"
		wantField(t, s.Schedules().Create(ctx, f.project, &bad, t0), "time_zone")
		wantField(t, s.Silences().Create(ctx, f.project, &incident.Silence{StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: f.alice, Comment: "x"}, t0), "matchers")
		wantField(t, s.Teams().Create(ctx, f.project, &incident.Team{Name: "t", Members: []string{f.alice, f.alice}}, t0), "members[1]")

		// References must be the project's own.
		wantField(t, s.Policies().Create(ctx, f.project, &incident.Policy{Name: "p", Steps: step(incident.TargetUser, f.outsider)}, t0), "steps[0].targets[0].id")
		wantField(t, s.Policies().Create(ctx, f.project, &incident.Policy{Name: "p", Steps: step(incident.TargetSchedule, "nope")}, t0), "steps[0].targets[0].id")
		wantField(t, s.Policies().Create(ctx, f.project, &incident.Policy{Name: "p", Steps: step(incident.TargetChannel, "nope")}, t0), "steps[0].targets[0].id")
		wantField(t, s.Teams().Create(ctx, f.project, &incident.Team{Name: "t", Members: []string{f.alice, f.outsider}}, t0), "members[1]")
		wantField(t, s.Teams().Create(ctx, f.project, &incident.Team{Name: "t", Policy: "nope"}, t0), "policy")
		wantField(t, s.Services().Create(ctx, f.project, &incident.Service{Name: "x", Team: "nope"}, t0), "team")
		wantField(t, s.SetRoutes(ctx, f.project, []incident.Route{{Policy: "nope"}}), "routes[0].policy")

		// Names are unique per project.
		must(t, s.Services().Create(ctx, f.project, &incident.Service{Name: "api"}, t0))
		err := s.Services().Create(ctx, f.project, &incident.Service{Name: "api"}, t0)
		storetest.WantCode(t, err, nightjar.ECONFLICT)
		if nightjar.ErrorField(err) != "name" {
			t.Errorf("conflict field = %q", nightjar.ErrorField(err))
		}
		storetest.WantCode(t, s.Services().Update(ctx, f.project, &incident.Service{ID: "nope", Name: "web"}), nightjar.ENOTFOUND)

		// A refused route list leaves the old one.
		pol := incident.Policy{Name: "p", Steps: step(incident.TargetUser, f.alice)}
		must(t, s.Policies().Create(ctx, f.project, &pol, t0))
		must(t, s.SetRoutes(ctx, f.project, []incident.Route{{Policy: pol.ID}}))
		wantField(t, s.SetRoutes(ctx, f.project, []incident.Route{{Policy: pol.ID}, {Policy: "nope"}}), "routes[1].policy")
		if r, err := s.Routes(ctx, f.project); err != nil || len(r) != 1 || r[0].Policy != pol.ID {
			t.Errorf("routes after refused change = %+v, %v", r, err)
		}
	})
}

func TestContactMethods(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		s := f.s
		wantField(t, s.CreateContactMethod(ctx, &incident.ContactMethod{UserID: f.alice, Kind: incident.ContactEmail, Value: "not an address"}, t0), "value")
		wantField(t, s.CreateContactMethod(ctx, &incident.ContactMethod{UserID: f.alice, Kind: "pager", Value: "x"}, t0), "kind")
		wantField(t, s.CreateContactMethod(ctx, &incident.ContactMethod{UserID: f.alice, Kind: incident.ContactNtfy, Value: "ntfy.sh/topic"}, t0), "value")

		m := incident.ContactMethod{UserID: f.alice, Kind: incident.ContactEmail, Name: "work", Value: "alice@example.com", Verified: true}
		must(t, s.CreateContactMethod(ctx, &m, t0))
		if m.Verified {
			t.Fatal("a new method is verified without a code")
		}
		storetest.WantCode(t, s.SendVerificationCode(ctx, f.project, f.outsider, m.ID, t0), nightjar.EINVALID)
		storetest.WantCode(t, s.SendVerificationCode(ctx, f.project, f.bob, m.ID, t0), nightjar.ENOTFOUND)
		code := sendCode(t, f, f.alice, m.ID, t0)
		storetest.WantCode(t, s.SendVerificationCode(ctx, f.project, f.alice, m.ID, t0.Add(59*time.Second)), nightjar.ERATELIMIT)
		wantField(t, s.Verify(ctx, f.alice, m.ID, code+"x", t0), "code")
		wantField(t, s.Verify(ctx, f.alice, m.ID, code, t0.Add(incidents.VerificationTTL)), "code")
		storetest.WantCode(t, s.Verify(ctx, f.bob, m.ID, code, t0), nightjar.ENOTFOUND)
		must(t, s.Verify(ctx, f.alice, m.ID, code, t0.Add(time.Minute)))
		wantField(t, s.Verify(ctx, f.alice, m.ID, code, t0.Add(time.Minute)), "code") // used once

		got, err := s.ContactMethod(ctx, f.alice, m.ID)
		must(t, err)
		if !got.Verified {
			t.Fatal("method not verified after the right code")
		}
		// A new name keeps it verified; a new value does not.
		got.Name = "office"
		must(t, s.UpdateContactMethod(ctx, got))
		if got, _ = s.ContactMethod(ctx, f.alice, m.ID); !got.Verified || got.Name != "office" {
			t.Fatalf("after rename: %+v", got)
		}
		got.Value = "alice@example.org"
		must(t, s.UpdateContactMethod(ctx, got))
		if got, _ = s.ContactMethod(ctx, f.alice, m.ID); got.Verified {
			t.Fatalf("still verified after a new address: %+v", got)
		}

		// Rules name the person's own methods.
		wantField(t, s.CreateNotificationRule(ctx, &incident.NotificationRule{UserID: f.bob, Method: m.ID}, t0), "method")
		wantField(t, s.CreateNotificationRule(ctx, &incident.NotificationRule{UserID: f.alice, Method: m.ID, Delay: -time.Second}, t0), "delay")
		for _, d := range []time.Duration{5 * time.Minute, 0} {
			must(t, s.CreateNotificationRule(ctx, &incident.NotificationRule{UserID: f.alice, Method: m.ID, Delay: d}, t0))
		}
		rules, err := s.NotificationRules(ctx, f.alice)
		must(t, err)
		if len(rules) != 2 || rules[0].Delay != 0 || rules[1].Delay != 5*time.Minute {
			t.Fatalf("rules = %+v", rules)
		}
		// Deleting the method deletes its rules.
		must(t, s.DeleteContactMethod(ctx, f.alice, m.ID))
		if rules, err := s.NotificationRules(ctx, f.alice); err != nil || len(rules) != 0 {
			t.Fatalf("rules after deleting their method = %+v, %v", rules, err)
		}
		if ms, err := s.ContactMethods(ctx, f.alice); err != nil || len(ms) != 0 {
			t.Fatalf("methods = %+v, %v", ms, err)
		}
	})
}

// TestInTx shows that objects made in the caller's transaction go or stay
// with it.
func TestInTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		errUndo := fmt.Errorf("undo")
		err := db.WithTx(ctx, func(tx *store.Tx) error {
			must(t, f.s.InTx(tx).Services().Create(ctx, f.project, &incident.Service{Name: "a"}, t0))
			if l, err := f.s.InTx(tx).Services().List(ctx, f.project); err != nil || len(l) != 1 {
				t.Errorf("inside the transaction: %v, %v", l, err)
			}
			return errUndo
		})
		if err != errUndo {
			t.Fatal(err)
		}
		if l, err := f.s.Services().List(ctx, f.project); err != nil || len(l) != 0 {
			t.Fatalf("after rollback: %v, %v", l, err)
		}
	})
}

func accountsOf(db *store.DB) *accounts.Store {
	return accounts.New(db, password.New(password.TestCost, 0))
}

// sendCode sends a contact method its verification code and reads the code
// from the message queued to the method, as its owner would.
func sendCode(t *testing.T, f *fixture, user, method string, at time.Time) string {
	t.Helper()
	ctx := context.Background()
	must(t, f.s.SendVerificationCode(ctx, f.project, user, method, at))
	items, err := outbox.New(f.db).ByProject(ctx, f.project, 1000)
	must(t, err)
	for _, it := range items {
		if it.To.ID == method && it.Event == notify.EventContactVerify {
			return strings.TrimPrefix(it.Alert.Summary, incidents.VerificationPrefix)
		}
	}
	t.Fatal("no verification message")
	return ""
}
