package web

import (
	"context"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/accounts"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/password"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// addUser makes a user who is a member of project.
func (e *env) addUser(email, project string) string {
	e.t.Helper()
	u, err := accounts.New(e.db, password.New(password.TestCost, 0)).CreateUser(context.Background(), email, "correct horse battery", project, nightjar.RoleMember, t0)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// mustDo sends a request that must answer status, and returns its JSON.
func (e *env) mustDo(status int, method, path string, body any) map[string]any {
	e.t.Helper()
	r := e.do(method, path, e.rw, body)
	if r.status != status {
		e.t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, status)
	}
	if len(r.body) == 0 {
		return nil
	}
	return r.json(e.t)
}

// The configuration objects of incident response over the API: created
// with references by name or email, shown with ids, replaced whole, and
// what a schedule answers follows its definition.
func TestV1IncidentConfig(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		alice := e.addUser("alice@example.com", e.project.ID)
		bob := e.addUser("bob@example.com", e.project.ID)

		sc := e.mustDo(201, "POST", "/api/v1/schedules", map[string]any{"name": "primary", "time_zone": "Europe/Berlin",
			"layers": []any{map[string]any{"shift": "weekly", "start": "2026-01-05T09:00", "participants": []string{"alice@example.com", bob}}}})
		scID := sc["id"].(string)
		if got := sc["layers"].([]any)[0].(map[string]any)["participants"].([]any); got[0] != alice || got[1] != bob {
			t.Fatalf("participants %v, want ids [%s %s]", got, alice, bob)
		}
		// t0 is in the week of the rotation's start: alice; a week later bob.
		oc := e.mustDo(200, "GET", "/api/v1/schedules/"+scID+"/on-call?at=2026-01-06T12:00:00Z", nil)
		if u := oc["users"].([]any); len(u) != 1 || u[0] != alice {
			t.Errorf("on call 2026-01-06: %v, want alice", u)
		}
		oc = e.mustDo(200, "GET", "/api/v1/schedules/"+scID+"/on-call?at=2026-01-13T12:00:00Z", nil)
		if u := oc["users"].([]any); len(u) != 1 || u[0] != bob {
			t.Errorf("on call 2026-01-13: %v, want bob", u)
		}
		shifts := e.mustDo(200, "GET", "/api/v1/schedules/"+scID+"/shifts?from=2026-01-05T08:00:00Z&to=2026-01-19T08:00:00Z", nil)["shifts"].([]any)
		if len(shifts) != 2 || shifts[0].(map[string]any)["user_id"] != alice || shifts[1].(map[string]any)["user_id"] != bob {
			t.Errorf("shifts %v", shifts)
		}
		hs := e.mustDo(200, "GET", "/api/v1/schedules/"+scID+"/handoffs?at=2026-01-06T00:00:00Z&n=2", nil)["handoffs"].([]any)
		if len(hs) != 2 || !strings.HasPrefix(hs[0].(map[string]any)["at"].(string), "2026-01-12T09:00:00+01:00") {
			t.Errorf("handoffs %v", hs)
		}
		// An override puts bob on call instead of alice for an afternoon.
		e.mustDo(201, "POST", "/api/v1/schedules/"+scID+"/overrides", map[string]any{"start": "2026-01-06T12:00", "end": "2026-01-06T18:00",
			"add_user": "bob@example.com", "remove_user": alice})
		oc = e.mustDo(200, "GET", "/api/v1/schedules/"+scID+"/on-call?at=2026-01-06T12:00:00Z", nil)
		if u := oc["users"].([]any); len(u) != 1 || u[0] != bob {
			t.Errorf("on call during the override: %v, want bob", u)
		}
		e.mustDo(200, "DELETE", "/api/v1/schedules/"+scID+"/overrides/0", nil)
		oc = e.mustDo(200, "GET", "/api/v1/schedules/"+scID+"/on-call?at=2026-01-06T12:00:00Z", nil)
		if u := oc["users"].([]any); len(u) != 1 || u[0] != alice {
			t.Errorf("on call after removing the override: %v, want alice", u)
		}

		pol := e.mustDo(201, "POST", "/api/v1/escalation-policies", map[string]any{"name": "default", "repeat": 1, "steps": []any{
			map[string]any{"delay": "5m", "targets": []any{map[string]any{"kind": "schedule", "id": "primary"}}},
			map[string]any{"delay": 600, "targets": []any{map[string]any{"kind": "user", "id": "bob@example.com"}}}}})
		polID := pol["id"].(string)
		steps := pol["steps"].([]any)
		if st := steps[0].(map[string]any); st["delay"] != 300.0 || st["targets"].([]any)[0].(map[string]any)["id"] != scID {
			t.Errorf("policy step 1 %v", st)
		}
		team := e.mustDo(201, "POST", "/api/v1/teams", map[string]any{"name": "platform", "members": []string{alice}, "policy": "default"})
		teamID := team["id"].(string)
		if team["policy"] != polID {
			t.Errorf("team policy %v, want %s", team["policy"], polID)
		}
		team = e.mustDo(200, "POST", "/api/v1/teams/"+teamID+"/members", map[string]any{"user": "bob@example.com"})
		if m := team["members"].([]any); len(m) != 2 || m[1] != bob {
			t.Errorf("members after add %v", m)
		}
		team = e.mustDo(200, "DELETE", "/api/v1/teams/"+teamID+"/members/"+alice, nil)
		if m := team["members"].([]any); len(m) != 1 || m[0] != bob {
			t.Errorf("members after remove %v", m)
		}
		svc := e.mustDo(201, "POST", "/api/v1/services", map[string]any{"name": "checkout", "team": "platform", "tier": "1",
			"labels": map[string]string{"env": "prod"}, "runbook_url": "https://wiki.example.com/checkout"})
		svcID := svc["id"].(string)
		if svc["team"] != teamID || svc["auto_resolve"] != true || svc["group_window"] != 600.0 {
			t.Errorf("service %v", svc)
		}
		svc = e.mustDo(200, "PUT", "/api/v1/services/"+svcID, map[string]any{"name": "checkout", "group_window": "2m", "auto_resolve": false})
		if svc["team"] != nil || svc["auto_resolve"] != false || svc["group_window"] != 120.0 || svc["id"] != svcID {
			t.Errorf("service after PUT %v", svc)
		}
		if got := e.mustDo(200, "GET", "/api/v1/services", nil)["services"].([]any); len(got) != 1 {
			t.Errorf("services %v", got)
		}

		routes := e.mustDo(200, "PUT", "/api/v1/routes", map[string]any{"routes": []any{
			map[string]any{"matchers": []string{`service="checkout"`, `severity=~"critical|page"`}, "policy": "default", "urgency": "page"},
			map[string]any{"matchers": []string{}, "urgency": "ticket"}}})["routes"].([]any)
		if r0 := routes[0].(map[string]any); r0["policy"] != polID || len(r0["matchers"].([]any)) != 2 {
			t.Errorf("routes %v", routes)
		}
		if got := e.mustDo(200, "GET", "/api/v1/routes", nil)["routes"].([]any); len(got) != 2 {
			t.Errorf("GET routes %v", got)
		}

		sil := e.mustDo(201, "POST", "/api/v1/silences", map[string]any{"matchers": []string{`service="checkout"`},
			"ends_at": t0.Add(2 * 3600e9).Format("2006-01-02T15:04:05Z07:00"), "created_by": "alice", "comment": "deploying"})
		if sil["starts_at"] != t0.Format("2006-01-02T15:04:05Z07:00") {
			t.Errorf("silence starts %v, want now", sil["starts_at"])
		}
		sil = e.mustDo(200, "POST", "/api/v1/silences/"+sil["id"].(string)+"/expire", nil)
		if sil["ends_at"] != t0.Format("2006-01-02T15:04:05Z07:00") {
			t.Errorf("expired silence ends %v, want now", sil["ends_at"])
		}
		mw := e.mustDo(201, "POST", "/api/v1/maintenance-windows", map[string]any{"name": "sunday db", "matchers": []string{`service="db"`},
			"window": map[string]any{"schedule": "0 2 * * 0", "zone": "Europe/Berlin", "duration": "2h"}})
		if w := mw["window"].(map[string]any); w["duration"] != 7200.0 {
			t.Errorf("maintenance window %v", mw)
		}

		// What is still used cannot be deleted.
		if r := e.do("DELETE", "/api/v1/escalation-policies/"+polID, e.rw, nil); r.status != 409 {
			t.Errorf("delete a used policy: %d %s", r.status, r.body)
		}
		e.mustDo(204, "DELETE", "/api/v1/services/"+svcID, nil)
		if r := e.do("GET", "/api/v1/services/"+svcID, e.rw, nil); r.status != 404 {
			t.Errorf("deleted service: %d", r.status)
		}
	})
}

// Read-only keys read but never write; another project's objects are not
// found, and its people cannot be named.
func TestV1IncidentAuthz(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		other := storetest.NewProject(t, db, "Other", t0)
		otherKey, err := e.areas.Projects.CreateKey(context.Background(), &nightjar.APIKey{ProjectID: other.ID, Name: "o", Scope: nightjar.ScopeReadWrite}, "", t0)
		if err != nil {
			t.Fatal(err)
		}
		eve := e.addUser("eve@example.com", other.ID)
		team := e.mustDo(201, "POST", "/api/v1/teams", map[string]any{"name": "platform", "members": []string{}})
		id := team["id"].(string)
		for _, tc := range []struct {
			method, path, key string
			body              any
			status            int
		}{
			{"GET", "/api/v1/teams", e.ro, nil, 200},
			{"GET", "/api/v1/teams/" + id, e.ro, nil, 200},
			{"POST", "/api/v1/teams", e.ro, map[string]any{"name": "x"}, 403},
			{"PUT", "/api/v1/teams/" + id, e.ro, map[string]any{"name": "x"}, 403},
			{"DELETE", "/api/v1/teams/" + id, e.ro, nil, 403},
			{"PUT", "/api/v1/routes", e.ro, map[string]any{"routes": []any{}}, 403},
			{"POST", "/api/v1/silences", e.ro, map[string]any{}, 403},
			{"GET", "/api/v1/teams/" + id, otherKey, nil, 404},
			{"PUT", "/api/v1/teams/" + id, otherKey, map[string]any{"name": "x"}, 404},
			{"DELETE", "/api/v1/teams/" + id, otherKey, nil, 404},
			{"POST", "/api/v1/teams/" + id + "/members", otherKey, map[string]any{"user": eve}, 404},
			{"POST", "/api/v1/teams/" + id + "/members", e.rw, map[string]any{"user": eve}, 400},
			{"GET", "/api/v1/services", e.ping, nil, 403},
			{"GET", "/api/v1/services", "", nil, 401},
		} {
			if r := e.do(tc.method, tc.path, tc.key, tc.body); r.status != tc.status {
				t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.body, tc.status)
			}
		}
		if got := e.do("GET", "/api/v1/teams", otherKey, nil).json(t)["teams"].([]any); len(got) != 0 {
			t.Errorf("the other project sees teams %v", got)
		}
	})
}

// Bad input is a 400 naming the field, whichever object it is in.
func TestV1IncidentBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		for _, tc := range []struct {
			method, path string
			body         any
			field        string
		}{
			{"POST", "/api/v1/services", map[string]any{"name": ""}, "name"},
			{"POST", "/api/v1/services", map[string]any{"name": "x", "runbook_url": "ftp://x"}, "runbook_url"},
			{"POST", "/api/v1/services", map[string]any{"name": "x", "team": "nope"}, "team"},
			{"POST", "/api/v1/services", map[string]any{"name": "x", "group_window": "2 days"}, "group_window"},
			{"POST", "/api/v1/services", map[string]any{"name": "x", "group_window": "48h"}, "group_window"},
			{"POST", "/api/v1/teams", map[string]any{"name": "x", "members": []string{"nobody@example.com"}}, "members[0]"},
			{"POST", "/api/v1/escalation-policies", map[string]any{"name": "p", "steps": []any{}}, "steps"},
			{"POST", "/api/v1/escalation-policies", map[string]any{"name": "p", "steps": []any{map[string]any{"delay": 10, "targets": []any{}}}}, "steps[0].delay"},
			{"POST", "/api/v1/escalation-policies", map[string]any{"name": "p", "steps": []any{map[string]any{"delay": 60,
				"targets": []any{map[string]any{"kind": "pager", "id": "x"}}}}}, "steps[0].targets[0].kind"},
			{"POST", "/api/v1/escalation-policies", map[string]any{"name": "p", "steps": []any{map[string]any{"delay": 60,
				"targets": []any{map[string]any{"kind": "schedule", "id": "nope"}}}}}, "steps[0].targets[0].id"},
			{"POST", "/api/v1/schedules", map[string]any{"name": "s", "time_zone": "Mars/Olympus", "layers": []any{}}, "time_zone"},
			{"POST", "/api/v1/schedules", map[string]any{"name": "s", "time_zone": "UTC", "layers": []any{map[string]any{"shift": "fortnightly",
				"start": "2026-01-05T09:00", "participants": []string{"x"}}}}, "layers[0].shift"},
			{"PUT", "/api/v1/routes", map[string]any{"routes": []any{map[string]any{"matchers": []string{`service=~"("`}}}}, "routes[0].matchers[0]"},
			{"PUT", "/api/v1/routes", map[string]any{"routes": []any{map[string]any{"matchers": []string{}, "urgency": "loud"}}}, "routes[0].urgency"},
			{"PUT", "/api/v1/routes", map[string]any{"routes": []any{map[string]any{"matchers": []string{}, "policy": "nope"}}}, "routes[0].policy"},
			{"POST", "/api/v1/silences", map[string]any{"matchers": []string{`a=~".*"`}, "ends_at": "2030-01-01T00:00:00Z", "created_by": "a", "comment": "c"}, "matchers"},
			{"POST", "/api/v1/silences", map[string]any{"matchers": []string{`a="b"`}, "ends_at": "2000-01-01T00:00:00Z", "created_by": "a", "comment": "c"}, "ends_at"},
			{"POST", "/api/v1/silences", map[string]any{"matchers": []string{`a="b"`}, "ends_at": "2030-01-01T00:00:00Z", "created_by": "a"}, "comment"},
			{"POST", "/api/v1/maintenance-windows", map[string]any{"name": "m", "matchers": []string{}, "window": map[string]any{"schedule": "0 2 * * 0",
				"zone": "UTC", "duration": 10}}, "window.duration"},
		} {
			r := e.do(tc.method, tc.path, e.rw, tc.body)
			if r.status != 400 {
				t.Errorf("%s %v: %d %s, want 400", tc.path, tc.body, r.status, r.body)
				continue
			}
			if f, _ := r.json(t)["field"].(string); f != tc.field {
				t.Errorf("%s %v: field %q (%s), want %q", tc.path, tc.body, f, r.body, tc.field)
			}
		}
	})
}

// fire hands an alert change to an alert stage that routes into
// incidents, as serve wires it.
func (e *env) fire(key, service string, status nightjar.AlertStatus) {
	e.t.Helper()
	stage := alerting.New(e.db, incidents.AlertRoute{Store: e.areas.Incidents})
	a := &nightjar.Alert{ProjectID: e.project.ID, DedupKey: key, Source: "test", Service: service, Severity: nightjar.SeverityPage,
		Summary: key + " is down", Status: status, StartsAt: e.clock.Now()}
	if err := e.db.WithTx(context.Background(), func(tx *store.Tx) error {
		return stage.Handle(context.Background(), tx, alerting.Change{Alert: a, At: e.clock.Now()})
	}); err != nil {
		e.t.Fatal(err)
	}
}

// An incident opened by an alert is listed, read with its alerts and
// timeline, and acted on over the API; the timeline records who did what.
func TestV1Incidents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		alice := e.addUser("alice@example.com", e.project.ID)
		e.addUser("bob@example.com", e.project.ID)
		e.mustDo(201, "POST", "/api/v1/escalation-policies", map[string]any{"name": "default", "steps": []any{
			map[string]any{"delay": "5m", "targets": []any{map[string]any{"kind": "user", "id": alice}}},
			map[string]any{"delay": "5m", "targets": []any{map[string]any{"kind": "user", "id": "bob@example.com"}}}}})
		e.mustDo(201, "POST", "/api/v1/teams", map[string]any{"name": "web", "members": []string{alice}, "policy": "default"})
		e.mustDo(201, "POST", "/api/v1/services", map[string]any{"name": "checkout", "team": "web"})
		e.fire("db-down", "checkout", nightjar.AlertFiring)

		list := e.mustDo(200, "GET", "/api/v1/incidents?status=triggered&service=checkout", nil)["incidents"].([]any)
		if len(list) != 1 {
			t.Fatalf("incidents %v", list)
		}
		inc := list[0].(map[string]any)
		id := inc["id"].(string)
		if inc["number"] != 1.0 || inc["status"] != "triggered" || inc["urgency"] != "page" || len(inc["alerts"].([]any)) != 1 {
			t.Errorf("incident %v", inc)
		}
		for q, n := range map[string]int{"status=resolved": 0, "service=search": 0, "status=open": 1, "": 1} {
			if got := e.mustDo(200, "GET", "/api/v1/incidents?"+q, nil)["incidents"].([]any); len(got) != n {
				t.Errorf("incidents?%s: %d, want %d", q, len(got), n)
			}
		}

		got := e.mustDo(200, "GET", "/api/v1/incidents/1", nil)
		if got["id"] != id || len(got["timeline"].([]any)) == 0 {
			t.Errorf("incident by number %v", got)
		}
		ack := e.mustDo(200, "POST", "/api/v1/incidents/"+id+"/acknowledge", map[string]any{"user": "alice@example.com"})
		if ack["status"] != "acknowledged" || ack["assignee"] != alice {
			t.Errorf("acknowledged %v", ack)
		}
		if r := e.do("POST", "/api/v1/incidents/"+id+"/acknowledge", e.rw, nil); r.status != 409 {
			t.Errorf("second acknowledgement: %d %s", r.status, r.body)
		}
		re := e.mustDo(200, "POST", "/api/v1/incidents/"+id+"/reassign", map[string]any{"assignee": "bob@example.com"})
		cm := e.mustDo(200, "POST", "/api/v1/incidents/"+id+"/commander", map[string]any{"commander": alice})
		if re["assignee"] == alice || cm["commander"] != alice {
			t.Errorf("reassigned %v, commander %v", re["assignee"], cm["commander"])
		}
		e.mustDo(200, "POST", "/api/v1/incidents/"+id+"/notes", map[string]any{"text": "restarting the primary", "user": alice})
		esc := e.mustDo(200, "POST", "/api/v1/incidents/"+id+"/escalate", nil)
		if esc["status"] != "triggered" {
			t.Errorf("escalated %v", esc)
		}
		res := e.mustDo(200, "POST", "/api/v1/incidents/"+id+"/resolve", nil)
		if res["status"] != "resolved" || res["resolved_at"] == nil {
			t.Errorf("resolved %v", res)
		}

		tl := e.mustDo(200, "GET", "/api/v1/incidents/"+id, nil)["timeline"].([]any)
		kinds := map[string]string{}
		for _, en := range tl {
			en := en.(map[string]any)
			kinds[en["kind"].(string)] = en["actor"].(string)
		}
		for kind, actor := range map[string]string{"acknowledged": alice, "note": alice, "escalated": "api key read-write", "resolved": "api key read-write", "triggered": ""} {
			if a, ok := kinds[kind]; !ok || a != actor {
				t.Errorf("timeline %s by %q (present %v), want %q; timeline %v", kind, a, ok, actor, kinds)
			}
		}

		pm := e.mustDo(200, "GET", "/api/v1/incidents/"+id+"/postmortem", nil)
		if pm["saved"] != false || !strings.Contains(pm["text"].(string), "db-down") {
			t.Errorf("postmortem draft %v", pm)
		}
		e.mustDo(200, "PUT", "/api/v1/incidents/"+id+"/postmortem", map[string]any{"text": "# What happened\n\nThe disk filled.", "user": alice})
		r := e.do("GET", "/api/v1/incidents/"+id+"/postmortem?format=md", e.ro, nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/markdown") || string(r.body) != "# What happened\n\nThe disk filled." {
			t.Errorf("postmortem export: %d %s %q", r.status, r.header.Get("Content-Type"), r.body)
		}

		for _, tc := range []struct {
			method, path, key string
			body              any
			status            int
			field             string
		}{
			{"POST", "/api/v1/incidents/" + id + "/resolve", e.ro, nil, 403, ""},
			{"POST", "/api/v1/incidents/" + id + "/notes", e.rw, map[string]any{}, 400, "text"},
			{"POST", "/api/v1/incidents/" + id + "/notes", e.rw, map[string]any{"text": "x", "user": "eve@example.com"}, 400, "user"},
			{"POST", "/api/v1/incidents/" + id + "/reassign", e.rw, map[string]any{}, 400, "assignee"},
			{"POST", "/api/v1/incidents/" + id + "/reassign", e.rw, map[string]any{"assignee": "nobody"}, 400, "assignee"},
			{"GET", "/api/v1/incidents?status=sleeping", e.rw, nil, 400, "status"},
			{"GET", "/api/v1/incidents/" + id + "/postmortem?tz=Mars/Base", e.rw, nil, 400, "tz"},
			{"GET", "/api/v1/incidents/" + id + "/postmortem?format=pdf", e.rw, nil, 400, "format"},
			{"GET", "/api/v1/incidents/99", e.rw, nil, 404, ""},
			{"GET", "/api/v1/incidents/nope", e.rw, nil, 404, ""},
		} {
			r := e.do(tc.method, tc.path, tc.key, tc.body)
			if r.status != tc.status {
				t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.body, tc.status)
			} else if f, _ := r.json(t)["field"].(string); f != tc.field {
				t.Errorf("%s %s: field %q, want %q", tc.method, tc.path, f, tc.field)
			}
		}
	})
}

// A member's contact methods and notification rules over the API: a new
// method is unverified until the code the outbox carries to it comes
// back; people of other projects are not found; read-only keys see
// nothing, since the values are personal.
func TestV1ContactMethods(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		alice := e.addUser("alice@example.com", e.project.ID)
		other := storetest.NewProject(t, db, "Other", t0)
		e.addUser("eve@example.com", other.ID)
		base := "/api/v1/users/alice@example.com"

		m := e.mustDo(201, "POST", base+"/contact-methods", map[string]any{"kind": "webhook", "name": "phone", "value": "https://push.example/alice"})
		id := m["id"].(string)
		if m["verified"] != false {
			t.Errorf("a new method is verified: %v", m)
		}
		e.mustDo(202, "POST", base+"/contact-methods/"+id+"/send-code", nil)
		if r := e.do("POST", base+"/contact-methods/"+id+"/send-code", e.rw, nil); r.status != 429 {
			t.Errorf("a second code within a minute: %d %s", r.status, r.body)
		}
		items, err := e.outbox.ByProject(context.Background(), e.project.ID, 10)
		if err != nil || len(items) != 1 || items[0].To.ID != id {
			t.Fatalf("outbox %+v %v", items, err)
		}
		code := strings.TrimPrefix(items[0].Alert.Summary, incidents.VerificationPrefix)
		if r := e.do("POST", base+"/contact-methods/"+id+"/verify", e.rw, map[string]any{"code": code + "x"}); r.status != 400 || r.json(t)["field"] != "code" {
			t.Errorf("a wrong code: %d %s", r.status, r.body)
		}
		if v := e.mustDo(200, "POST", "/api/v1/users/"+alice+"/contact-methods/"+id+"/verify", map[string]any{"code": code}); v["verified"] != true {
			t.Errorf("verified %v", v)
		}
		// A new value needs verifying again.
		m = e.mustDo(200, "PUT", base+"/contact-methods/"+id, map[string]any{"kind": "webhook", "name": "phone", "value": "https://push.example/alice2"})
		if m["verified"] != false {
			t.Errorf("a changed value stays verified: %v", m)
		}

		rule := e.mustDo(201, "POST", base+"/notification-rules", map[string]any{"method": id, "delay": "2m"})
		if rule["delay"] != 120.0 {
			t.Errorf("rule %v", rule)
		}
		if got := e.mustDo(200, "GET", base+"/notification-rules", nil)["notification_rules"].([]any); len(got) != 1 {
			t.Errorf("rules %v", got)
		}
		if got := e.mustDo(200, "GET", base+"/contact-methods", nil)["contact_methods"].([]any); len(got) != 1 {
			t.Errorf("methods %v", got)
		}

		for _, tc := range []struct {
			method, path, key string
			body              any
			status            int
			field             string
		}{
			{"GET", base + "/contact-methods", e.ro, nil, 403, ""},
			{"POST", base + "/contact-methods", e.ro, map[string]any{"kind": "email", "value": "a@example.com"}, 403, ""},
			{"GET", "/api/v1/users/eve@example.com/contact-methods", e.rw, nil, 404, ""},
			{"POST", "/api/v1/users/eve@example.com/contact-methods", e.rw, map[string]any{"kind": "email", "value": "a@example.com"}, 404, ""},
			{"POST", base + "/contact-methods", e.rw, map[string]any{"kind": "pigeon", "value": "x"}, 400, "kind"},
			{"POST", base + "/contact-methods", e.rw, map[string]any{"kind": "email", "value": "not an address"}, 400, "value"},
			{"POST", base + "/contact-methods", e.rw, map[string]any{"kind": "ntfy", "value": "ftp://x"}, 400, "value"},
			{"POST", base + "/notification-rules", e.rw, map[string]any{"method": "nope", "delay": 0}, 400, "method"},
			{"POST", base + "/notification-rules", e.rw, map[string]any{"method": id, "delay": "48h"}, 400, "delay"},
			{"DELETE", base + "/contact-methods/nope", e.rw, nil, 404, ""},
		} {
			r := e.do(tc.method, tc.path, tc.key, tc.body)
			if r.status != tc.status {
				t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.body, tc.status)
			} else if f, _ := r.json(t)["field"].(string); f != tc.field {
				t.Errorf("%s %s: field %q, want %q", tc.method, tc.path, f, tc.field)
			}
		}
		// Verified is shown, and taken back as a copy's field, but only a
		// code verifies.
		if m := e.mustDo(201, "POST", base+"/contact-methods", map[string]any{"kind": "email", "value": "a@example.com", "verified": true}); m["verified"] != false {
			t.Errorf("a method claimed verified is: %v", m)
		}
		e.mustDo(204, "DELETE", base+"/contact-methods/"+id, nil)
		if got := e.mustDo(200, "GET", base+"/notification-rules", nil)["notification_rules"].([]any); len(got) != 0 {
			t.Errorf("rules outlive their method: %v", got)
		}
	})
}

// Calendar feeds: a schedule's and a member's shifts at a secret URL
// that needs no key; a new URL stops the old one.
func TestCalendarFeeds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		e.addUser("alice@example.com", e.project.ID)
		e.addUser("bob@example.com", e.project.ID)
		a := e.mustDo(201, "POST", "/api/v1/schedules", map[string]any{"name": "primary", "time_zone": "UTC",
			"layers": []any{map[string]any{"shift": "weekly", "start": "2026-01-05T09:00", "participants": []string{"alice@example.com", "bob@example.com"}}}})
		e.mustDo(201, "POST", "/api/v1/schedules", map[string]any{"name": "secondary", "time_zone": "UTC",
			"layers": []any{map[string]any{"shift": "daily", "start": "2026-01-05T09:00", "participants": []string{"bob@example.com"}}}})
		feed := func(url string) resp {
			return e.do("GET", strings.TrimPrefix(url, "http://nightjar.test"), "", nil)
		}
		if r := e.do("POST", "/api/v1/schedules/"+a["id"].(string)+"/calendar-feed", e.ro, nil); r.status != 403 {
			t.Errorf("a read-only key made a feed: %d", r.status)
		}
		old := e.mustDo(201, "POST", "/api/v1/schedules/"+a["id"].(string)+"/calendar-feed", nil)["url"].(string)
		url := e.mustDo(201, "POST", "/api/v1/schedules/"+a["id"].(string)+"/calendar-feed", nil)["url"].(string)
		if r := feed(old); r.status != 404 {
			t.Errorf("the old feed URL: %d", r.status)
		}
		r := feed(url)
		body := string(r.body)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/calendar") ||
			!strings.Contains(body, "SUMMARY:On call: alice@example.com (primary)") || !strings.Contains(body, "SUMMARY:On call: bob@example.com (primary)") {
			t.Errorf("schedule feed: %d %s\n%s", r.status, r.header.Get("Content-Type"), body)
		}

		url = e.mustDo(201, "POST", "/api/v1/users/bob@example.com/calendar-feed", nil)["url"].(string)
		r = feed(url)
		body = string(r.body)
		if r.status != 200 || strings.Contains(body, "alice@example.com") || !strings.Contains(body, "(primary)") || !strings.Contains(body, "(secondary)") ||
			!strings.Contains(body, "X-WR-CALNAME:On call: bob@example.com") || strings.Count(body, "BEGIN:VCALENDAR") != 1 || !strings.HasSuffix(body, "END:VCALENDAR\r\n") {
			t.Errorf("user feed: %d\n%s", r.status, body)
		}
		for _, bad := range []string{"/calendar/nope", "/calendar/user.a.b.c.ics", url[len("http://nightjar.test"):len(url)-6] + "x.ics"} {
			if r := e.do("GET", bad, "", nil); r.status != 404 {
				t.Errorf("%s: %d", bad, r.status)
			}
		}
		if r := e.do("POST", "/api/v1/users/eve@example.com/calendar-feed", e.rw, nil); r.status != 404 {
			t.Errorf("a feed for a stranger: %d", r.status)
		}
	})
}
