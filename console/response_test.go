package console

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

func (e *env) userID(email string) string {
	e.t.Helper()
	u, err := e.areas.Accounts.UserByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// wantField asserts that a page answered a form with the problem of one
// field shown beside its input, a message starting with message.
func wantField(t *testing.T, status int, body string, wantStatus int, field, message string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d:\n%s", status, wantStatus, body)
	}
	if !strings.Contains(body, `<p class="field-error" data-field="`+field+`">`+message) {
		t.Fatalf("no field error %q for %s beside its input in:\n%s", message, field, body)
	}
}

func TestSchedulePages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		owner := e.login("owner@a.test")
		ownerID, memberID := e.userID("owner@a.test"), e.userID("member@a.test")

		// Every problem of the definition is shown beside its input at once.
		status, body := owner.post("/schedules", url.Values{"name": {"Primary"}, "time_zone": {"Mars/Olympus"},
			"layers[0].shift": {"fortnightly"}, "layers[0].start": {"2026-03-01T09:00"}})
		wantField(t, status, body, http.StatusBadRequest, "time_zone", "")
		wantField(t, status, body, http.StatusBadRequest, "layers[0].participants", "")
		wantField(t, status, body, http.StatusBadRequest, "layers[0].shift", "")
		if !strings.Contains(body, `value="Primary"`) {
			t.Fatal("the form lost what was entered")
		}

		// t0 is Sunday 1 March 2026, 12:00 UTC: daily turns from 09:00
		// Berlin put the owner on call now, the member tomorrow.
		status, loc := owner.post("/schedules", url.Values{"name": {"Primary"}, "time_zone": {"Europe/Berlin"},
			"layers[0].participants": {ownerID, memberID}, "layers[0].shift": {"daily"}, "layers[0].start": {"2026-03-01T09:00"}})
		if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/schedules/") {
			t.Fatalf("create: %d %s", status, loc)
		}
		_, body = owner.get(loc)
		if !regexp.MustCompile(`id="oncall-now">owner@a.test<`).MatchString(body) {
			t.Fatalf("on call now is not the owner:\n%s", body)
		}
		// The week view runs Monday 23 February to Sunday 1 March, the
		// first shift from 09:00 on Sunday; the next week goes on.
		for _, want := range []string{"Mon 23 Feb", "Sun 1 Mar", `<span class="hours">09:00–24:00</span> owner@a.test`} {
			if !strings.Contains(body, want) {
				t.Fatalf("week view lacks %q:\n%s", want, body)
			}
		}
		_, body = owner.get(loc + "?week=2026-03-02")
		if !strings.Contains(body, `<h3>Mon 2 Mar</h3>
  <ul><li class="shift"><span class="hours">00:00–09:00</span> owner@a.test</li><li class="shift"><span class="hours">09:00–24:00</span> member@a.test</li></ul>`) {
			t.Fatalf("next week:\n%s", body)
		}
		if _, body := owner.get("/"); !strings.Contains(body, `Primary</a>: owner@a.test</li>`) {
			t.Fatalf("overview does not say who is on call:\n%s", body)
		}
		_, list := owner.get("/schedules")
		if !strings.Contains(list, `<td class="oncall">owner@a.test</td>`) {
			t.Fatalf("list does not say who is on call:\n%s", list)
		}

		// An override puts the member on call now; a bad one names its field.
		status, body = owner.post(loc+"/overrides", url.Values{"override.add_user": {memberID}, "override.start": {"2026-03-01T12:00"}, "override.end": {"2026-03-01T11:00"}})
		wantField(t, status, body, http.StatusBadRequest, "override.end", "")
		if status, _ := owner.post(loc+"/overrides", url.Values{"override.add_user": {memberID}, "override.remove_user": {ownerID},
			"override.start": {"2026-03-01T12:00"}, "override.end": {"2026-03-01T18:00"}}); status != http.StatusSeeOther {
			t.Fatalf("add override: %d", status)
		}
		_, body = owner.get(loc)
		if !strings.Contains(body, `id="oncall-now">member@a.test<`) || !strings.Contains(body, "member@a.test replaces owner@a.test") {
			t.Fatalf("override not applied:\n%s", body)
		}
		if status, _ := owner.post(loc+"/overrides/0/delete", nil); status != http.StatusSeeOther {
			t.Fatalf("remove override: %d", status)
		}
		if _, body = owner.get(loc); !strings.Contains(body, `id="oncall-now">owner@a.test<`) {
			t.Fatal("override not removed")
		}

		// A viewer sees the schedule but cannot change it; another
		// project does not see it at all.
		viewer := e.login("viewer@a.test")
		if status, body := viewer.get(loc); status != http.StatusOK || strings.Contains(body, "/overrides\"") {
			t.Fatalf("viewer: %d, form shown: %v", status, strings.Contains(body, "override-form"))
		}
		if status, _ := viewer.post(loc+"/delete", nil); status != http.StatusForbidden {
			t.Fatalf("viewer delete: %d", status)
		}
		if status, _ := e.login("owner@b.test").get(loc); status != http.StatusNotFound {
			t.Fatalf("other project: %d", status)
		}
	})
}

func TestResponseConfigPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		owner := e.login("owner@a.test")
		memberID := e.userID("member@a.test")

		status, body := owner.post("/policies", url.Values{"name": {"Wake"}, "repeat": {"1"}, "steps[0].delay": {"soon"}, "steps[0].targets": {"user:" + memberID}})
		wantField(t, status, body, http.StatusBadRequest, "steps[0].delay", "must be a duration")
		if status, body := owner.post("/policies", url.Values{"name": {"Wake"}, "repeat": {"1"}, "steps[0].delay": {"5m"}, "steps[0].targets": {"user:" + memberID},
			"steps[1].delay": {"10m"}, "steps[1].targets": {"user:" + e.userID("owner@a.test")}}); status != http.StatusSeeOther {
			t.Fatalf("create policy: %d %s", status, errorText(body))
		}
		pols, err := e.areas.Incidents.Policies().List(ctx, e.a.ID)
		if err != nil || len(pols) != 1 || len(pols[0].Steps) != 2 || pols[0].Steps[1].Delay.Minutes() != 10 {
			t.Fatalf("policies %+v, %v", pols, err)
		}
		_, body = owner.get("/policies")
		if !strings.Contains(body, "owner@a.test, then wait 10 min") {
			t.Fatalf("policy steps not shown:\n%s", body)
		}
		// Editing shows the stored steps and one empty row more than the minimum.
		_, body = owner.get("/policies/" + pols[0].ID)
		if !strings.Contains(body, `value="10m0s"`) || strings.Count(body, "<fieldset>") != policyFormSteps || strings.Count(body, "<legend>Step") != policyFormSteps || !strings.Contains(body, "<summary>More steps</summary>") {
			t.Fatalf("edit form:\n%s", body)
		}

		status, body = owner.post("/teams", url.Values{"name": {"SRE"}, "members": {memberID}, "policy": {"no-such-policy"}})
		wantField(t, status, body, http.StatusBadRequest, "policy", "")
		if status, _ := owner.post("/teams", url.Values{"name": {"SRE"}, "members": {memberID}, "policy": {pols[0].ID}}); status != http.StatusSeeOther {
			t.Fatalf("create team: %d", status)
		}
		teams, _ := e.areas.Incidents.Teams().List(ctx, e.a.ID)

		status, body = owner.post("/services", url.Values{"name": {"api"}, "team": {teams[0].ID}, "runbook_url": {"ftp://x"}, "group_window": {"5m"}})
		wantField(t, status, body, http.StatusBadRequest, "runbook_url", "must be an http or https URL")
		status, body = owner.post("/services", url.Values{"name": {"api"}, "labels": {"no equals sign"}})
		wantField(t, status, body, http.StatusBadRequest, "labels", "write one label a line")
		if status, _ := owner.post("/services", url.Values{"name": {"api"}, "team": {teams[0].ID}, "runbook_url": {"https://wiki.test/api"},
			"group_window": {"10m"}, "auto_resolve": {"1"}, "labels": {"tier=gold\nregion = eu"}}); status != http.StatusSeeOther {
			t.Fatalf("create service: %d", status)
		}
		svc, err := e.areas.Incidents.ServiceByName(ctx, e.a.ID, "api")
		if err != nil || svc.Team != teams[0].ID || !svc.Config.AutoResolve || svc.Config.GroupWindow.Minutes() != 10 || svc.Labels["region"] != "eu" {
			t.Fatalf("service %+v, %v", svc, err)
		}
		// A duplicate name is a conflict shown beside the name.
		status, body = owner.post("/services", url.Values{"name": {"api"}})
		wantField(t, status, body, http.StatusBadRequest, "name", "")
		// The team is still used by the service.
		if status, body := owner.post("/teams/"+teams[0].ID+"/delete", nil); status != http.StatusConflict || !strings.Contains(body, `class="error"`) || !strings.Contains(body, `value="SRE"`) {
			t.Fatalf("delete a used team: %d", status)
		}

		// Routes keep their order; a bad matcher names the field.
		status, body = owner.post("/routes", url.Values{"matchers": {`service=~"(api"`}})
		wantField(t, status, body, http.StatusBadRequest, "matchers", "")
		for _, m := range []string{`service="api"`, `severity="info"`} {
			if status, _ := owner.post("/routes", url.Values{"matchers": {m}, "policy": {pols[0].ID}, "urgency": {"ticket"}}); status != http.StatusSeeOther {
				t.Fatalf("add route %s: %d", m, status)
			}
		}
		if status, _ := owner.post("/routes/1/up", nil); status != http.StatusSeeOther {
			t.Fatalf("move route: %d", status)
		}
		routes, _ := e.areas.Incidents.Routes(ctx, e.a.ID)
		if len(routes) != 2 || routes[0].Matchers.String() != `{severity="info"}` || routes[1].Urgency != "ticket" {
			t.Fatalf("routes %v", routes)
		}
		owner.post("/routes/0/delete", nil)
		if routes, _ = e.areas.Incidents.Routes(ctx, e.a.ID); len(routes) != 1 {
			t.Fatalf("after delete: %v", routes)
		}

		// Silences: created by the viewer's email, expired at once.
		status, body = owner.post("/silences", url.Values{"matchers": {`service="api"`}, "starts_at": {"2026-03-01T12:00"}, "ends_at": {"2026-03-01T11:00"}})
		wantField(t, status, body, http.StatusBadRequest, "ends_at", "must be after")
		if status, _ := owner.post("/silences", url.Values{"matchers": {`service="api"`}, "starts_at": {"2026-03-01T11:00"}, "ends_at": {"2026-03-01T14:00"}, "comment": {"deploy"}}); status != http.StatusSeeOther {
			t.Fatalf("create silence: %d", status)
		}
		sils, _ := e.areas.Incidents.Silences().List(ctx, e.a.ID)
		if len(sils) != 1 || sils[0].CreatedBy != "owner@a.test" {
			t.Fatalf("silences %+v", sils)
		}
		if _, body := owner.get("/silences"); !strings.Contains(body, `<span class="status s-late">active</span>`) {
			t.Fatal("silence not shown active")
		}
		owner.post("/silences/"+sils[0].ID+"/expire", nil)
		if sils, _ = e.areas.Incidents.Silences().List(ctx, e.a.ID); !sils[0].EndsAt.Equal(t0) {
			t.Fatalf("silence ends %v, want now", sils[0].EndsAt)
		}

		// Maintenance: one-off and recurring, errors by field.
		status, body = owner.post("/maintenance", url.Values{"name": {"db upgrade"}, "window.zone": {"UTC"}, "window.start": {"2026-03-02T10:00"}})
		wantField(t, status, body, http.StatusBadRequest, "window.start", "a one-off window needs both")
		status, body = owner.post("/maintenance", url.Values{"name": {"weekly"}, "window.zone": {"Europe/Berlin"}, "window.schedule": {"0 2 * * sun"}, "window.duration": {"2h"}})
		if status != http.StatusSeeOther {
			t.Fatalf("recurring window: %d %s", status, body)
		}
		mws, _ := e.areas.Incidents.Maintenance().List(ctx, e.a.ID)
		if len(mws) != 1 || mws[0].Window.Zone != "Europe/Berlin" || mws[0].Window.Duration.Hours() != 2 {
			t.Fatalf("maintenance %+v", mws)
		}
		if _, body := owner.get("/maintenance/" + mws[0].ID); !strings.Contains(body, `value="0 2 * * sun"`) || !strings.Contains(body, "Delete window") {
			t.Fatalf("edit window:\n%s", body)
		}
		if status, _ := owner.post("/maintenance/"+mws[0].ID+"/delete", nil); status != http.StatusSeeOther {
			t.Fatalf("delete window: %d", status)
		}
		if mws, _ = e.areas.Incidents.Maintenance().List(ctx, e.a.ID); len(mws) != 0 {
			t.Fatalf("window not deleted: %+v", mws)
		}

		// Members may not change any of it.
		member := e.login("viewer@a.test")
		for _, p := range []string{"/services", "/teams", "/policies", "/routes", "/silences", "/maintenance"} {
			if status, _ := member.post(p, url.Values{"name": {"x"}}); status != http.StatusForbidden {
				t.Fatalf("viewer POST %s: %d", p, status)
			}
			if status, _ := member.get(p); status != http.StatusOK {
				t.Fatalf("viewer GET %s: %d", p, status)
			}
		}
	})
}

func TestContactMethods(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		viewer := e.login("viewer@a.test") // everyone manages their own contacts
		status, body := viewer.post("/contacts", url.Values{"kind": {"email"}, "value": {"not an address"}})
		wantField(t, status, body, http.StatusBadRequest, "value", "must be an email address")
		if status, _ := viewer.post("/contacts", url.Values{"kind": {string(incident.ContactEmail)}, "name": {"Work"}, "value": {"viewer@a.test"}}); status != http.StatusSeeOther {
			t.Fatalf("add: %d", status)
		}
		methods, _ := e.areas.Incidents.ContactMethods(ctx, e.userID("viewer@a.test"))
		if len(methods) != 1 || methods[0].Verified {
			t.Fatalf("methods %+v", methods)
		}
		// The code went out through the outbox, to the method.
		items, err := e.areas.Outbox.ByProject(ctx, e.a.ID, 10)
		if err != nil || len(items) != 1 || items[0].To != (outbox.Destination{Kind: outbox.ToContact, ID: methods[0].ID}) {
			t.Fatalf("outbox %+v, %v", items, err)
		}
		code := regexp.MustCompile(regexp.QuoteMeta(incidents.VerificationPrefix) + `([^\s.]+)`).FindStringSubmatch(items[0].Alert.Summary)
		if code == nil {
			t.Fatalf("no code in %q", items[0].Alert.Summary)
		}
		path := "/contacts/" + methods[0].ID
		// Another code within the minute is refused, on the page.
		if status, body := viewer.post(path+"/code", nil); status != http.StatusTooManyRequests || !strings.Contains(body, `class="error"`) {
			t.Fatalf("second code at once: %d", status)
		}
		status, body = viewer.post(path+"/verify", url.Values{"code": {"000000x"}})
		wantField(t, status, body, http.StatusBadRequest, "code", "")
		// Someone else cannot verify or remove it.
		if status, _ := e.login("owner@a.test").post(path+"/delete", nil); status != http.StatusNotFound {
			t.Fatalf("other user delete: %d", status)
		}
		if status, _ := viewer.post(path+"/verify", url.Values{"code": {code[1]}}); status != http.StatusSeeOther {
			t.Fatalf("verify: %d", status)
		}
		if m, _ := e.areas.Incidents.ContactMethod(ctx, e.userID("viewer@a.test"), methods[0].ID); !m.Verified {
			t.Fatal("not verified")
		}
		status, body = viewer.post("/contacts/rules", url.Values{"method": {methods[0].ID}, "delay": {"later"}})
		wantField(t, status, body, http.StatusBadRequest, "delay", "must be a duration")
		if status, _ := viewer.post("/contacts/rules", url.Values{"method": {methods[0].ID}, "delay": {"5m"}}); status != http.StatusSeeOther {
			t.Fatalf("add rule: %d", status)
		}
		if _, body = viewer.get("/contacts"); !strings.Contains(body, "5 min after a page: Work") || !strings.Contains(body, `<span class="status s-up">verified</span>`) {
			t.Fatalf("contacts page:\n%s", body)
		}
		rules, _ := e.areas.Incidents.NotificationRules(ctx, e.userID("viewer@a.test"))
		if len(rules) != 1 {
			t.Fatalf("rules %+v", rules)
		}
	})
}

// errorText is the error a page shows, for test failures.
func errorText(body string) string {
	return strings.Join(regexp.MustCompile(`class="(?:error|field-error)"[^>]*>([^<]*)`).FindAllString(body, -1), "; ")
}

// The service form's own parsing (labels, grouping window) turns any
// input into a service or an error naming one of the form's fields.
func FuzzServiceForm(f *testing.F) {
	f.Add("tier=gold\nregion = eu", "5m")
	f.Add("no equals", "soon")
	f.Add("=\n=\n", "-1s")
	f.Add("a=b=c\r\nd=", "1h30m")
	f.Fuzz(func(t *testing.T, labels, window string) {
		form := newForm()
		form.set("name", "api")
		form.set("labels", labels)
		form.set("group_window", window)
		var s incident.Service
		err := services.fromForm(form, &s, nil, t0)
		if err != nil {
			if field := nightjar.ErrorField(err); !slices.Contains(services.inputs, field) {
				t.Fatalf("error %v names %q, no input of the form", err, field)
			}
			return
		}
		if s.Config.GroupWindow < 0 {
			t.Fatalf("negative window %v from %q", s.Config.GroupWindow, window)
		}
		if err := s.Validate(); err != nil {
			if field := nightjar.ErrorField(err); field != "labels" && !strings.HasPrefix(field, "labels.") && field != "group_window" {
				t.Fatalf("validate %v names %q", err, field)
			}
		}
	})
}

// A policy's working hours are entered, shown and changed in the console:
// a bad zone is named beside its input, an edit keeps what it does not
// change, and emptying the rows makes tickets told at any time.
func TestPolicyWorkingHours(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		owner := e.login("owner@a.test")
		form := url.Values{"name": {"Tickets"}, "repeat": {"0"}, "steps[0].delay": {"5m"}, "steps[0].targets": {"user:" + e.userID("member@a.test")},
			"working_hours[0].schedule": {"0 9 * * 1-5"}, "working_hours[0].zone": {"Mars/Olympus"}, "working_hours[0].duration": {"8h"}}
		status, body := owner.post("/policies", form)
		wantField(t, status, body, http.StatusBadRequest, "working_hours[0].zone", "must be an IANA time zone")
		if !strings.Contains(body, `value="0 9 * * 1-5"`) {
			t.Fatalf("the refused form lost the schedule:\n%s", body)
		}
		form.Set("working_hours[0].zone", "Europe/Berlin")
		form.Set("working_hours[1].schedule", "0 10 * * 6")
		form.Set("working_hours[1].duration", "4h")
		if status, body := owner.post("/policies", form); status != http.StatusSeeOther {
			t.Fatalf("create policy: %d %s", status, errorText(body))
		}
		pols, err := e.areas.Incidents.Policies().List(ctx, e.a.ID)
		want := []incident.Window{{Schedule: "0 9 * * 1-5", Zone: "Europe/Berlin", Duration: 8 * time.Hour}, {Schedule: "0 10 * * 6", Zone: "UTC", Duration: 4 * time.Hour}}
		if err != nil || len(pols) != 1 || !reflect.DeepEqual(pols[0].WorkingHours, want) {
			t.Fatalf("policies %+v, %v", pols, err)
		}
		if _, body = owner.get("/policies"); !strings.Contains(body, "<code>0 9 * * 1-5</code> for 8 h in Europe/Berlin") {
			t.Fatalf("working hours not listed:\n%s", body)
		}
		_, body = owner.get("/policies/" + pols[0].ID)
		if !strings.Contains(body, `name="working_hours[0].zone" value="Europe/Berlin"`) || !strings.Contains(body, `name="working_hours[2].schedule" value=""`) ||
			strings.Contains(body, `name="working_hours[3].schedule"`) {
			t.Fatalf("edit form does not show the two windows and one empty row:\n%s", body)
		}
		form.Del("working_hours[0].schedule")
		form.Del("working_hours[0].duration")
		form.Del("working_hours[1].schedule")
		form.Del("working_hours[1].duration")
		if status, body := owner.post("/policies/"+pols[0].ID, form); status != http.StatusSeeOther {
			t.Fatalf("edit policy: %d %s", status, errorText(body))
		}
		if p, err := e.areas.Incidents.Policies().Get(ctx, e.a.ID, pols[0].ID); err != nil || len(p.WorkingHours) != 0 || len(p.Steps) != 1 {
			t.Fatalf("after emptying the rows: %+v, %v", p, err)
		}
	})
}
