package web

import (
	"context"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/accounts"
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
