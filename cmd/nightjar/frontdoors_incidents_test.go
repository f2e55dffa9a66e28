package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// Incident response objects come in through the v1 API and through
// `nightjar apply`; both decode into the incident package's specs, which
// decide. On one table of good and bad inputs the two must agree: the
// same accepted and stored alike, the same refused naming the same field
// with nothing stored. Inputs refer to other objects by name and to
// people by email address, which both doors take.

// incidentCase is one input of a kind: the kind's list key in the API
// and the configuration, which are the same.
type incidentCase struct {
	kind, name string
	in         settings
	field      string
}

const admin = "admin@localhost"

func layer(participants ...string) map[string]any {
	return map[string]any{"shift": "weekly", "start": "2026-01-05T09:00", "participants": participants}
}

var incidentCases = []incidentCase{
	{kind: "services", name: "a service with every field", in: settings{"name": "checkout", "team": "base-team", "tier": "1",
		"labels": map[string]string{"env": "prod"}, "runbook_url": "https://wiki.example/checkout", "description": "the shop",
		"auto_resolve": false, "group_window": 120}},
	{kind: "services", name: "a service with defaults", in: settings{"name": "search"}},
	{kind: "services", name: "a service without a name", in: settings{"tier": "1"}, field: "name"},
	{kind: "services", name: "a runbook that is no URL", in: settings{"name": "x", "runbook_url": "wiki"}, field: "runbook_url"},
	{kind: "services", name: "an unknown team", in: settings{"name": "x", "team": "nobody"}, field: "team"},
	{kind: "services", name: "a grouping window too long", in: settings{"name": "x", "group_window": 90000}, field: "group_window"},
	{kind: "services", name: "an empty label name", in: settings{"name": "x", "labels": map[string]string{"": "v"}}, field: "labels"},

	{kind: "teams", name: "a team", in: settings{"name": "web", "members": []string{admin}, "policy": "base-policy"}},
	{kind: "teams", name: "a member who is not in the project", in: settings{"name": "web", "members": []string{"eve@example.com"}}, field: "members[0]"},
	{kind: "teams", name: "a member listed twice", in: settings{"name": "web", "members": []string{admin, admin}}, field: "members[1]"},
	{kind: "teams", name: "an unknown policy", in: settings{"name": "web", "members": []string{}, "policy": "nope"}, field: "policy"},

	{kind: "escalation_policies", name: "a policy of two steps", in: settings{"name": "night", "repeat": 2, "steps": []any{
		map[string]any{"delay": 300, "targets": []any{map[string]any{"kind": "schedule", "id": "base"}, map[string]any{"kind": "channel", "id": "ops"}}},
		map[string]any{"delay": 600, "targets": []any{map[string]any{"kind": "user", "id": admin}}}},
		"working_hours": []any{map[string]any{"schedule": "0 9 * * 1-5", "zone": "Europe/Berlin", "duration": 28800}}}},
	{kind: "escalation_policies", name: "no steps", in: settings{"name": "p", "steps": []any{}}, field: "steps"},
	{kind: "escalation_policies", name: "a step too soon", in: settings{"name": "p", "steps": []any{
		map[string]any{"delay": 10, "targets": []any{map[string]any{"kind": "user", "id": admin}}}}}, field: "steps[0].delay"},
	{kind: "escalation_policies", name: "an unknown channel", in: settings{"name": "p", "steps": []any{
		map[string]any{"delay": 60, "targets": []any{map[string]any{"kind": "channel", "id": "pager"}}}}}, field: "steps[0].targets[0].id"},
	{kind: "escalation_policies", name: "a target of no kind", in: settings{"name": "p", "steps": []any{
		map[string]any{"delay": 60, "targets": []any{map[string]any{"kind": "robot", "id": "r2"}}}}}, field: "steps[0].targets[0].kind"},
	{kind: "escalation_policies", name: "repeating too often", in: settings{"name": "p", "repeat": 10, "steps": []any{
		map[string]any{"delay": 60, "targets": []any{map[string]any{"kind": "user", "id": admin}}}}}, field: "repeat"},

	{kind: "schedules", name: "a schedule with restrictions and an override", in: settings{"name": "primary", "time_zone": "Europe/Berlin",
		"layers": []any{map[string]any{"shift": "daily", "start": "2026-03-29T02:30", "participants": []string{admin},
			"restrictions": []any{map[string]any{"days": []string{"mon", "tue"}, "start": "22:00", "end": "06:00"}}}},
		"overrides": []any{map[string]any{"start": "2026-04-01T00:00", "end": "2026-04-02T00:00", "remove_user": admin}}}},
	{kind: "schedules", name: "an unknown zone", in: settings{"name": "s", "time_zone": "Mars/Olympus", "layers": []any{layer(admin)}}, field: "time_zone"},
	{kind: "schedules", name: "a participant not in the project", in: settings{"name": "s", "time_zone": "UTC", "layers": []any{layer(admin, "eve@example.com")}},
		field: "layers[0].participants[1]"},
	{kind: "schedules", name: "a shift of no length", in: settings{"name": "s", "time_zone": "UTC", "layers": []any{
		map[string]any{"shift": "0h", "start": "2026-01-05T09:00", "participants": []string{admin}}}}, field: "layers[0].shift"},
	{kind: "schedules", name: "an override ending before it starts", in: settings{"name": "s", "time_zone": "UTC", "layers": []any{layer(admin)},
		"overrides": []any{map[string]any{"start": "2026-04-02T00:00", "end": "2026-04-01T00:00", "add_user": admin}}}, field: "overrides[0].end"},

	{kind: "silences", name: "a silence", in: settings{"id": "deploy-1", "matchers": []string{`service="checkout"`, `severity=~"page|critical"`},
		"starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T12:00:00Z", "created_by": admin, "comment": "deploying"}},
	{kind: "silences", name: "a silence muting everything", in: settings{"id": "s-2", "matchers": []string{`service=~".*"`},
		"starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T12:00:00Z", "created_by": admin, "comment": "c"}, field: "matchers"},
	{kind: "silences", name: "a silence without a comment", in: settings{"id": "s-3", "matchers": []string{`a="b"`},
		"starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T12:00:00Z", "created_by": admin}, field: "comment"},
	{kind: "silences", name: "a silence that ends first", in: settings{"id": "s-4", "matchers": []string{`a="b"`},
		"starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T09:00:00Z", "created_by": admin, "comment": "c"}, field: "ends_at"},
	{kind: "silences", name: "a bad matcher", in: settings{"id": "s-5", "matchers": []string{`a="b"`, `=~x`},
		"starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T12:00:00Z", "created_by": admin, "comment": "c"}, field: "matchers[1]"},

	{kind: "maintenance_windows", name: "a recurring window", in: settings{"name": "sunday", "matchers": []string{`service="db"`},
		"window": map[string]any{"schedule": "0 2 * * 0", "zone": "Europe/Berlin", "duration": 7200}}},
	{kind: "maintenance_windows", name: "a one-off window", in: settings{"name": "move", "matchers": []string{},
		"window": map[string]any{"start": "2030-02-01T00:00:00Z", "end": "2030-02-01T06:00:00Z"}}},
	{kind: "maintenance_windows", name: "a window without an end", in: settings{"name": "m", "matchers": []string{},
		"window": map[string]any{"start": "2030-02-01T00:00:00Z"}}, field: "window.start"},
	{kind: "maintenance_windows", name: "a window in no zone", in: settings{"name": "m", "matchers": []string{},
		"window": map[string]any{"schedule": "0 2 * * 0", "zone": "Nowhere", "duration": 60}}, field: "window.zone"},

	{kind: "routes", name: "a route", in: settings{"matchers": []string{`service="checkout"`}, "policy": "base-policy", "urgency": "ticket"}},
	{kind: "routes", name: "a route of no urgency", in: settings{"matchers": []string{}, "urgency": "loud"}, field: "routes[0].urgency"},
	{kind: "routes", name: "a route to an unknown policy", in: settings{"matchers": []string{}, "policy": "nope"}, field: "routes[0].policy"},
	{kind: "routes", name: "a route with a bad regular expression", in: settings{"matchers": []string{`a=~"("`}}, field: "routes[0].matchers[0]"},
}

// incidentPaths are the API's collection paths by list key.
var incidentPaths = map[string]string{"services": "/api/v1/services", "teams": "/api/v1/teams", "escalation_policies": "/api/v1/escalation-policies",
	"schedules": "/api/v1/schedules", "silences": "/api/v1/silences", "maintenance_windows": "/api/v1/maintenance-windows", "routes": "/api/v1/routes"}

func TestIncidentFrontDoorsAgree(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			cfg := config.Default()
			cfg.DataDir = t.TempDir()
			dbFlags := []string{"--data", cfg.DataDir}
			if dialect == "postgres" {
				cfg.DatabaseURL = config.Secret(storetest.PostgresURL(t))
				dbFlags = []string{"--database-url", string(cfg.DatabaseURL)}
			}
			f := &frontDoors{t: t, s: startServer(t, cfg), dbFlags: dbFlags}
			// What the inputs refer to, made through the API.
			f.s.api(t, "POST", "/api/v1/channels", map[string]any{"kind": "webhook", "name": "ops", "config": map[string]any{"url": "https://ops.example/hook"}})
			f.s.api(t, "POST", "/api/v1/schedules", map[string]any{"name": "base", "time_zone": "UTC", "layers": []any{layer(admin)}})
			f.s.api(t, "POST", "/api/v1/escalation-policies", map[string]any{"name": "base-policy", "steps": []any{
				map[string]any{"delay": 60, "targets": []any{map[string]any{"kind": "schedule", "id": "base"}}}}})
			f.s.api(t, "POST", "/api/v1/teams", map[string]any{"name": "base-team", "members": []string{admin}})
			for _, tc := range incidentCases {
				var first []any
				for _, door := range []struct {
					name string
					send func(incidentCase) string
				}{{"v1", f.incidentAPI}, {"apply", f.incidentApply}} {
					what := tc.kind + ": " + tc.name + " through " + door.name
					refused := f.answered(what, tc.field, door.send(tc))
					stored := f.incidentObjects(tc.kind)
					switch {
					case refused && len(stored) != 0:
						t.Errorf("%s: a refused input stored %v", what, stored)
					case !refused && len(stored) != 1:
						t.Errorf("%s: %d objects stored, want 1: %v", what, len(stored), stored)
					case !refused && first == nil:
						first = stored
					case !refused && !reflect.DeepEqual(stored, first):
						t.Errorf("%s: stored\n%v\nthe v1 API stored\n%v", what, stored, first)
					}
					f.incidentDeleteAll(tc.kind)
				}
			}
		})
	}
}

func (f *frontDoors) incidentAPI(tc incidentCase) string {
	f.t.Helper()
	if tc.kind == "routes" {
		status, body := f.do("PUT", incidentPaths[tc.kind], map[string]any{"routes": []any{map[string]any(tc.in)}})
		return f.answer(tc.name, status, body)
	}
	status, body := f.do("POST", incidentPaths[tc.kind], map[string]any(tc.in))
	return f.answer(tc.name, status, body)
}

func (f *frontDoors) incidentApply(tc incidentCase) string {
	f.t.Helper()
	doc := map[string]any{"projects": []any{map[string]any{"name": "Default", tc.kind: []any{map[string]any(tc.in)}}}}
	b, err := yaml.Marshal(doc)
	if err != nil {
		f.t.Fatal(err)
	}
	file := filepath.Join(f.t.TempDir(), "nightjar.yaml")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
	_, _, err = runCLI(f.t, "", append([]string{"apply", "-f", file}, f.dbFlags...)...)
	if err != nil && nightjar.ErrorCode(err) != nightjar.EINVALID {
		f.t.Fatalf("apply %s: %v", b, err)
	}
	return nightjar.ErrorField(err)
}

// incidentObjects lists the kind's objects the case made, without ids
// (made up by each door) and without the ones every case refers to.
func (f *frontDoors) incidentObjects(kind string) []any {
	var out []any
	for _, o := range f.s.api(f.t, "GET", incidentPaths[kind], nil)[kind].([]any) {
		m := o.(map[string]any)
		if name, _ := m["name"].(string); strings.HasPrefix(name, "base") {
			continue
		}
		delete(m, "id")
		out = append(out, m)
	}
	return out
}

func (f *frontDoors) incidentDeleteAll(kind string) {
	if kind == "routes" {
		f.do("PUT", incidentPaths[kind], map[string]any{"routes": []any{}})
		return
	}
	for _, o := range f.s.api(f.t, "GET", incidentPaths[kind], nil)[kind].([]any) {
		m := o.(map[string]any)
		if name, _ := m["name"].(string); !strings.HasPrefix(name, "base") {
			f.do("DELETE", incidentPaths[kind]+"/"+m["id"].(string), nil)
		}
	}
}
