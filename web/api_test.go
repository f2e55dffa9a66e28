package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

func TestAPIAuth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		for _, tc := range []struct {
			method, path, key string
			body              any
			status            int
			msg               string
		}{
			{"GET", "/api/v3/checks/", "", nil, 401, "missing api key"},
			{"GET", "/api/v3/checks/", "wrong-key-wrong-key", nil, 401, "wrong api key"},
			{"GET", "/api/v3/checks/", e.ping, nil, 403, "this api key may only send pings"},
			{"GET", "/api/v3/checks/", e.ro, nil, 200, ""},
			{"POST", "/api/v3/checks/", e.ro, map[string]any{"name": "x"}, 403, "this api key is read-only"},
			{"POST", "/api/v3/checks/", "", map[string]any{"name": "x", "api_key": e.rw}, 201, ""},
			{"GET", "/api/v1/checks", e.ro, nil, 200, ""},
			{"POST", "/api/v1/checks", e.ro, map[string]any{"name": "x"}, 403, "read-only"},
			{"GET", "/api/v1/alerts", "", nil, 401, "missing"},
		} {
			r := e.do(tc.method, tc.path, tc.key, tc.body)
			if r.status != tc.status {
				t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.body, tc.status)
				continue
			}
			if tc.msg != "" && !strings.Contains(r.json(t)["error"].(string), tc.msg) {
				t.Errorf("%s %s: error %s, want it to mention %q", tc.method, tc.path, r.body, tc.msg)
			}
		}
	})
}

func TestV3Checks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		r := e.do("POST", "/api/v3/checks/", e.rw, map[string]any{"name": "Backups", "tags": "prod db", "timeout": 86400, "grace": 3600, "unique": []string{"name"}})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		c := r.json(t)
		id := c["uuid"].(string)
		for k, want := range map[string]any{"name": "Backups", "slug": "backups", "tags": "prod db", "timeout": 86400.0, "grace": 3600.0,
			"status": "new", "started": false, "n_pings": 0.0, "ping_url": "http://nightjar.test/ping/" + id, "last_ping": nil} {
			if c[k] != want {
				t.Errorf("created check %s = %v, want %v", k, c[k], want)
			}
		}
		// unique: the same name updates instead of creating.
		r = e.do("POST", "/api/v3/checks/", e.rw, map[string]any{"name": "Backups", "grace": 60, "unique": []string{"name"}})
		if r.status != 200 || r.json(t)["uuid"] != id || r.json(t)["grace"].(float64) != 60 {
			t.Fatalf("unique upsert: %d %s", r.status, r.body)
		}
		cron := e.createCheck(map[string]any{"name": "Report", "schedule": "0 9 * * 1-5", "tz": "Europe/Berlin", "tags": "prod"})

		list := e.do("GET", "/api/v3/checks/?tag=db", e.rw, nil).json(t)["checks"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["uuid"] != id {
			t.Fatalf("tag filter: %v", list)
		}
		list = e.do("GET", "/api/v3/checks/?tag=prod", e.rw, nil).json(t)["checks"].([]any)
		if len(list) != 2 {
			t.Fatalf("tag prod: %d checks", len(list))
		}
		got := e.do("GET", "/api/v3/checks/"+cron, e.rw, nil).json(t)
		if got["schedule"] != "0 9 * * 1-5" || got["tz"] != "Europe/Berlin" || got["timeout"] != nil {
			t.Fatalf("cron check: %v", got)
		}
		// A read-only key sees no UUID or ping URL, but a unique key that
		// opens the check.
		ro := e.do("GET", "/api/v3/checks/"+cron, e.ro, nil).json(t)
		if ro["uuid"] != nil || ro["ping_url"] != nil || len(ro["unique_key"].(string)) != 40 {
			t.Fatalf("read-only view: %v", ro)
		}
		if r := e.do("GET", "/api/v3/checks/"+ro["unique_key"].(string), e.ro, nil); r.status != 200 || r.json(t)["name"] != "Report" {
			t.Fatalf("get by unique key: %d %s", r.status, r.body)
		}

		r = e.do("POST", "/api/v3/checks/"+id, e.rw, map[string]any{"desc": "nightly pg_dump", "schedule": "30 2 * * *", "tz": "UTC"})
		if r.status != 200 || r.json(t)["desc"] != "nightly pg_dump" || r.json(t)["schedule"] != "30 2 * * *" {
			t.Fatalf("update: %d %s", r.status, r.body)
		}

		// Pause / resume.
		if r := e.do("POST", "/api/v3/checks/"+id+"/resume", e.rw, nil); r.status != 409 {
			t.Fatalf("resume of an unpaused check: %d", r.status)
		}
		if r := e.do("POST", "/api/v3/checks/"+id+"/pause", e.rw, nil); r.status != 200 || r.json(t)["status"] != "paused" {
			t.Fatalf("pause: %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/api/v3/checks/"+id+"/resume", e.rw, nil); r.status != 200 || r.json(t)["status"] != "new" {
			t.Fatalf("resume: %d %s", r.status, r.body)
		}

		// Pings and flips.
		rid := "7d3a3c5e-6a4b-4c2d-9e8f-0a1b2c3d4e5f"
		e.do("POST", "/ping/"+id+"/start?rid="+rid, "", nil)
		e.clock.Advance(90 * time.Second)
		e.do("POST", "/ping/"+id+"?rid="+rid, "", "all good")
		pings := e.do("GET", "/api/v3/checks/"+id+"/pings/", e.rw, nil).json(t)["pings"].([]any)
		if len(pings) != 2 {
			t.Fatalf("pings: %v", pings)
		}
		p := pings[0].(map[string]any)
		if p["type"] != "success" || p["n"].(float64) != 2 || p["rid"] != rid || p["duration"].(float64) != 90 || p["body_url"] == nil {
			t.Fatalf("newest ping: %v", p)
		}
		if pings[1].(map[string]any)["body_url"] != nil {
			t.Fatalf("a ping without body has a body_url")
		}
		body := e.do("GET", "/api/v3/checks/"+id+"/pings/2/body", e.rw, nil)
		if body.status != 200 || string(body.body) != "all good" {
			t.Fatalf("body: %d %q", body.status, body.body)
		}
		if r := e.do("GET", "/api/v3/checks/"+id+"/pings/1/body", e.rw, nil); r.status != 404 {
			t.Fatalf("missing body: %d", r.status)
		}
		if r := e.do("GET", "/api/v3/checks/"+id+"/pings/x/body", e.rw, nil); r.status != 400 {
			t.Fatalf("bad ping number: %d", r.status)
		}
		if r := e.do("GET", "/api/v3/checks/"+id+"/flips/?seconds=abc", e.rw, nil); r.status != 400 {
			t.Fatalf("bad seconds: %d", r.status)
		}
		flips := e.do("GET", "/api/v3/checks/"+id+"/flips/", e.rw, nil)
		if flips.status != 200 || !strings.Contains(string(flips.body), `"up":1`) {
			t.Fatalf("flips: %d %s", flips.status, flips.body)
		}

		chans := e.do("GET", "/api/v3/channels/", e.rw, nil)
		if chans.status != 200 || !strings.Contains(string(chans.body), `"channels":[]`) {
			t.Fatalf("channels: %s", chans.body)
		}

		if r := e.do("DELETE", "/api/v3/checks/"+id, e.rw, nil); r.status != 200 {
			t.Fatalf("delete: %d", r.status)
		}
		if r := e.do("GET", "/api/v3/checks/"+id, e.rw, nil); r.status != 404 {
			t.Fatalf("get deleted: %d", r.status)
		}
	})
}

func TestAPIBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		id := e.createCheck(map[string]any{"name": "x"})
		for _, tc := range []struct {
			method, path string
			body         any
			status       int
			field, msg   string
		}{
			{"POST", "/api/v3/checks/", `{"name": `, 400, "", "not valid JSON"},
			{"POST", "/api/v3/checks/", ``, 400, "", "empty"},
			{"POST", "/api/v3/checks/", `{"timeout": "soon"}`, 400, "timeout", "expected a number"},
			{"POST", "/api/v3/checks/", `{"tags": 5}`, 400, "", "tags"},
			{"POST", "/api/v3/checks/", map[string]any{"timout": 60}, 400, "timout", "unknown field"},
			{"POST", "/api/v3/checks/", map[string]any{"timeout": 5}, 400, "timeout", "between 60"},
			{"POST", "/api/v3/checks/", map[string]any{"grace": 10}, 400, "grace", "between 60"},
			{"POST", "/api/v3/checks/", map[string]any{"schedule": "61 * * * *"}, 400, "schedule", "minute"},
			{"POST", "/api/v3/checks/", map[string]any{"schedule": "* * * * *", "tz": "Mars/Olympus"}, 400, "tz", "IANA"},
			{"POST", "/api/v3/checks/", map[string]any{"slug": "Not Valid"}, 400, "slug", "a-z"},
			{"POST", "/api/v3/checks/", map[string]any{"methods": "GET"}, 400, "methods", "POST"},
			{"POST", "/api/v3/checks/", map[string]any{"unique": []string{"color"}}, 400, "unique", "color"},
			{"POST", "/api/v1/checks", map[string]any{"metric_rules": []string{"bytes >="}}, 400, "metric_rules", "expected"},
			{"POST", "/api/v1/checks", map[string]any{"failure_threshold": 0}, 400, "failure_threshold", "between 1"},
			{"POST", "/api/v1/checks", map[string]any{"max_runtime": 60, "min_runtime": 120}, 400, "min_runtime", "less than max_runtime"},
			{"PATCH", "/api/v1/checks/" + id, map[string]any{"realert_interval": 5}, 400, "realert_interval", "60"},
			{"GET", "/api/v1/checks?status=sideways", nil, 400, "status", "one of"},
			{"GET", "/api/v1/checks/" + id + "/pings?limit=0", nil, 400, "limit", "from 1 to 1000"},
			{"GET", "/api/v1/schedule/preview", nil, 400, "schedule", "required"},
			{"GET", "/api/v1/schedule/preview?schedule=0+2+*+*+*&tz=Nowhere", nil, 400, "tz", "IANA"},
			{"GET", "/api/v1/schedule/preview?schedule=0+2+*+*+*&after=yesterday", nil, 400, "after", "RFC 3339"},
			{"GET", "/api/v1/schedule/preview?schedule=0+2+*+*+*&n=1000", nil, 400, "n", "from 1 to 100"},
			{"POST", "/api/v1/channels", map[string]any{"kind": "pager", "name": "x"}, 400, "kind", "webhook, email"},
			{"POST", "/api/v1/channels", map[string]any{"kind": "webhook", "name": "x", "config": map[string]any{"url": "ftp://x"}}, 400, "config.url", "http"},
			{"POST", "/api/v1/channels", map[string]any{"kind": "email", "name": "x", "config": map[string]any{"to": []string{"nobody"}}}, 400, "config.to", "email address"},
			// Type errors name the member as sent, whatever Go types the
			// body is read into.
			{"POST", "/api/v1/channels", map[string]any{"kind": "webhook", "name": "x", "config": map[string]any{"url": 5}}, 400, "config.url", "config.url: expected a string"},
			{"POST", "/api/v1/channels", map[string]any{"kind": "email", "name": "x", "config": map[string]any{"to": []any{"a@b.example", 5}}}, 400, "config.to", "expected a string"},
			{"PATCH", "/api/v1/channels/nope", map[string]any{"config": map[string]any{"headers": []string{}}}, 400, "config.headers", "expected an object"},
			{"POST", "/api/v3/checks/" + id, map[string]any{"manual_resume": "yes"}, 400, "manual_resume", "manual_resume: expected true or false"},
			{"PATCH", "/api/v1/checks/" + id, map[string]any{"grace": "1h"}, 400, "grace", "grace: expected a number"},
		} {
			r := e.do(tc.method, tc.path, e.rw, tc.body)
			if r.status != tc.status {
				t.Errorf("%s %s %v: %d %s, want %d", tc.method, tc.path, tc.body, r.status, r.body, tc.status)
				continue
			}
			j := r.json(t)
			if msg, _ := j["error"].(string); !strings.Contains(msg, tc.msg) {
				t.Errorf("%s %s %v: error %q, want it to mention %q", tc.method, tc.path, tc.body, msg, tc.msg)
			}
			if tc.field != "" && j["field"] != tc.field {
				t.Errorf("%s %s %v: field %v, want %q", tc.method, tc.path, tc.body, j["field"], tc.field)
			}
		}
	})
}

func TestSchedulePreviewDST(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		r := e.do("GET", "/api/v1/schedule/preview?schedule=30+2+*+*+*&tz=Europe/Berlin&after=2026-03-28T00:00:00Z&n=3", "", nil)
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		next := r.json(t)["next"].([]any)
		want := []string{"2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}
		for i := range want {
			if next[i] != want[i] {
				t.Fatalf("next = %v, want %v", next, want)
			}
		}
	})
}

// A backup job that "succeeds" but reports writing almost nothing is
// caught by a metric rule: the check goes down and an alert fires.
func TestSilentFailureDetection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		r := e.do("POST", "/api/v1/checks", e.rw, map[string]any{"name": "db backup", "timeout": 86400, "grace": 3600,
			"metric_rules": []string{"bytes >= 1e6", "bytes >= 0.5 * previous"}})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		e.do("POST", "/ping/"+id+"?m=bytes:5000000", "", nil)
		if c := e.check(id); c["status"] != "up" {
			t.Fatalf("healthy backup: %v", c["status"])
		}
		e.clock.Advance(24 * time.Hour)
		e.do("POST", "/ping/"+id+"?m=bytes:2000000", "", nil) // over 1e6 but under half of 5e6
		c := e.check(id)
		if c["status"] != "down" {
			t.Fatalf("shrunk backup: status %v", c["status"])
		}
		p := e.do("GET", "/api/v1/checks/"+id+"/pings?limit=1", e.rw, nil).json(t)["pings"].([]any)[0].(map[string]any)
		if p["type"] != "fail" || !strings.Contains(p["note"].(string), "previous") {
			t.Fatalf("ping: %v", p)
		}
		alerts := e.do("GET", "/api/v1/alerts", e.rw, nil).json(t)["alerts"].([]any)
		if len(alerts) != 1 || alerts[0].(map[string]any)["status"] != "firing" {
			t.Fatalf("alerts: %v", alerts)
		}
		// JSON body metrics work too, and a good run resolves the alert.
		e.clock.Advance(24 * time.Hour)
		e.do("POST", "/ping/"+id, "", `{"metrics": {"bytes": 2600000}}`)
		if c := e.check(id); c["status"] != "up" {
			t.Fatalf("after a good run: %v", c["status"])
		}
	})
}

// Every change made through the API is audited, naming the key, the call
// and the object it changed; no read is, not even a read that needs a
// read-write key, so reading (the audit log included) never grows it.
func TestAPIChangesAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		audit := func() []*nightjar.AuditEntry {
			t.Helper()
			log, err := e.areas.Audit.List(context.Background(), e.project.ID, 100)
			if err != nil {
				t.Fatal(err)
			}
			return log
		}
		// change makes one change and checks the one entry it added; the
		// object it names is known only from the answer to a create.
		change := func(method, path string, body any, status int, action string, target func(r resp) string) resp {
			t.Helper()
			before := len(audit())
			r := e.do(method, path, e.rw, body)
			if r.status != status {
				t.Fatalf("%s %s: %d %s", method, path, r.status, r.body)
			}
			log := audit()
			if len(log) != before+1 {
				t.Fatalf("%s %s: %d audit entries added, want 1", method, path, len(log)-before)
			}
			if got, want := log[0], target(r); got.Action != action || got.Target != want || !strings.HasPrefix(got.Actor, "api key read-write (nj_") {
				t.Fatalf("%s %s: audited as %+v, want action %q, target %q", method, path, got, action, want)
			}
			return r
		}
		named := func(kind, name string, field string) func(r resp) string {
			return func(r resp) string { return kind + " " + name + " (" + r.json(t)[field].(string) + ")" }
		}
		is := func(target string) func(resp) string { return func(resp) string { return target } }

		v3 := change("POST", "/api/v3/checks/", map[string]any{"name": "three"}, 201, "POST /api/v3/checks/{$}", named("check", "three", "uuid"))
		id3 := v3.json(t)["uuid"].(string)
		change("POST", "/api/v3/checks/"+id3, map[string]any{"name": "third"}, 200, "POST /api/v3/checks/{id}", is("check third ("+id3+")"))
		change("POST", "/api/v3/checks/", map[string]any{"name": "third", "grace": 120, "unique": []string{"name"}}, 200,
			"POST /api/v3/checks/{$}", is("check third ("+id3+")"))
		change("POST", "/api/v3/checks/"+id3+"/pause", nil, 200, "POST /api/v3/checks/{id}/pause", is("check third ("+id3+")"))
		change("POST", "/api/v3/checks/"+id3+"/resume", nil, 200, "POST /api/v3/checks/{id}/resume", is("check third ("+id3+")"))
		v1 := change("POST", "/api/v1/checks", map[string]any{"name": "one"}, 201, "POST /api/v1/checks", named("check", "one", "id"))
		id1 := v1.json(t)["id"].(string)
		change("PATCH", "/api/v1/checks/"+id1, map[string]any{"name": "first"}, 200, "PATCH /api/v1/checks/{id}", is("check first ("+id1+")"))
		change("POST", "/api/v1/checks/"+id1+"/pause", nil, 200, "POST /api/v1/checks/{id}/pause", is("check first ("+id1+")"))
		change("POST", "/api/v1/checks/"+id1+"/resume", nil, 200, "POST /api/v1/checks/{id}/resume", is("check first ("+id1+")"))
		hook := change("POST", "/api/v1/channels", map[string]any{"kind": "webhook", "name": "ops", "config": map[string]any{"url": "https://h.example/x"}},
			201, "POST /api/v1/channels", named("channel", "ops", "id"))
		ch := hook.json(t)["id"].(string)
		change("PATCH", "/api/v1/channels/"+ch, map[string]any{"name": "oncall"}, 200, "PATCH /api/v1/channels/{id}", is("channel oncall ("+ch+")"))
		change("POST", "/api/v1/channels/"+ch+"/test", nil, 202, "POST /api/v1/channels/{id}/test", is("channel oncall ("+ch+")"))

		// Reads, with the key each needs, add nothing.
		e.do("POST", "/ping/"+id3, "", "body")
		before := len(audit())
		for _, path := range []string{"/api/v3/checks/", "/api/v3/checks/" + id3, "/api/v3/checks/" + id3 + "/pings/",
			"/api/v3/checks/" + id3 + "/pings/1/body", "/api/v3/checks/" + id3 + "/flips/", "/api/v3/channels/",
			"/api/v1/checks", "/api/v1/checks/" + id1, "/api/v1/checks/" + id3 + "/pings", "/api/v1/checks/" + id3 + "/pings/1/body",
			"/api/v1/checks/" + id1 + "/flips", "/api/v1/channels", "/api/v1/alerts", "/api/v1/notifications/" + ch,
			"/api/v1/schedule/preview?schedule=0+3+*+*+*"} {
			if r := e.do("GET", path, e.rw, nil); r.status >= 500 {
				t.Fatalf("GET %s: %d %s", path, r.status, r.body)
			}
		}
		if log := audit(); len(log) != before {
			t.Fatalf("reads added %d audit entries: %+v", len(log)-before, log[:len(log)-before])
		}
		// A change that fails is not audited.
		if r := e.do("PATCH", "/api/v1/checks/"+id1, e.rw, map[string]any{"grace": 1}); r.status != 400 || len(audit()) != before {
			t.Fatalf("a refused change: %d, %d entries", r.status, len(audit())-before)
		}

		change("DELETE", "/api/v1/channels/"+ch, nil, 204, "DELETE /api/v1/channels/{id}", is("channel oncall ("+ch+")"))
		change("DELETE", "/api/v1/checks/"+id1, nil, 204, "DELETE /api/v1/checks/{id}", is("check first ("+id1+")"))
		change("DELETE", "/api/v3/checks/"+id3, nil, 200, "DELETE /api/v3/checks/{id}", is("check third ("+id3+")"))
	})
}

// The settings Healthchecks clients send (keyword filters, channels, the
// email fields at their defaults) are taken, and body keywords classify
// plain pings.
func TestV3KeywordsAndChannels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		for _, name := range []string{"ops", "dev"} {
			if r := e.do("POST", "/api/v1/channels", e.rw, map[string]any{"kind": "webhook", "name": name, "config": map[string]any{"url": "https://" + name + ".example/hook"}}); r.status != 201 {
				t.Fatalf("channel: %d %s", r.status, r.body)
			}
		}
		r := e.do("POST", "/api/v3/checks/", e.rw, map[string]any{"name": "report", "timeout": 3600, "channels": "ops",
			"filter_body": true, "success_kw": "SUCCESS,COMPLETED", "failure_kw": "FAILED, ERROR", "start_kw": "STARTING",
			"filter_subject": false, "subject": "", "subject_fail": ""})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		c := r.json(t)
		id := c["uuid"].(string)
		if c["filter_body"] != true || c["success_kw"] != "SUCCESS,COMPLETED" || strings.Contains(c["channels"].(string), ",") || c["channels"] == "" {
			t.Fatalf("created: %v", c)
		}
		for _, tc := range []struct{ body, kind string }{
			{"job STARTING now", "start"},
			{"all COMPLETED", "success"},
			{"step 3 FAILED", "fail"},
			{"ERROR but also SUCCESS", "fail"},
			{"nothing to see", "ign"},
		} {
			e.do("POST", "/ping/"+id, "", tc.body)
			p := e.do("GET", "/api/v1/checks/"+id+"/pings?limit=1", e.rw, nil).json(t)["pings"].([]any)[0].(map[string]any)
			if p["type"] != tc.kind {
				t.Errorf("body %q: kind %v, want %s", tc.body, p["type"], tc.kind)
			}
		}
		// An explicit /fail is not reclassified.
		e.do("POST", "/ping/"+id+"/fail", "", "SUCCESS")
		if p := e.do("GET", "/api/v1/checks/"+id+"/pings?limit=1", e.rw, nil).json(t)["pings"].([]any)[0].(map[string]any); p["type"] != "fail" {
			t.Errorf("explicit fail became %v", p["type"])
		}
		// Only the chosen channel is told.
		alerts := e.do("GET", "/api/v1/alerts", e.rw, nil).json(t)["alerts"].([]any)
		if len(alerts) != 1 {
			t.Fatalf("alerts: %v", alerts)
		}
		items, _ := e.outbox.ByProject(context.Background(), e.project.ID, 10)
		for _, it := range items {
			ch, err := e.channels.Get(context.Background(), e.project.ID, it.To.ID)
			if err != nil {
				t.Fatal(err)
			}
			if ch.Name != "ops" {
				t.Fatalf("notification to %s, which the check did not choose", ch.Name)
			}
		}
		if len(items) == 0 {
			t.Fatal("no notification to ops")
		}
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"channels": "nope"}, "channels"},
			{map[string]any{"filter_subject": true}, "filter_subject"},
			{map[string]any{"subject": "OK"}, "subject"},
			{map[string]any{"channels": 5}, "channels"},
		} {
			r := e.do("POST", "/api/v3/checks/"+id, e.rw, tc.body)
			if r.status != 400 || r.json(t)["field"] != tc.field {
				t.Errorf("%v: %d %s", tc.body, r.status, r.body)
			}
		}
		// "*" goes back to all channels, "" to none.
		if r := e.do("POST", "/api/v3/checks/"+id, e.rw, map[string]any{"channels": "*"}); r.status != 200 || !strings.Contains(r.json(t)["channels"].(string), ",") {
			t.Fatalf("all channels: %s", r.body)
		}
		if r := e.do("POST", "/api/v3/checks/"+id, e.rw, map[string]any{"channels": ""}); r.status != 200 || r.json(t)["channels"] != "" {
			t.Fatalf("no channels: %s", r.body)
		}
	})
}
