package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// A read-only key reads everything about a check but never its UUID, ping
// URL or the project's ping key, anywhere in the API: with them it could
// send pings. It addresses checks by their unique key instead, as in
// Healthchecks.
func TestReadOnlyKeySeesNoPingCredentials(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{})
		// Unnamed, so an alert's summary falls back to naming it by id.
		id := e.createCheck(map[string]any{"timeout": 60, "grace": 60})
		if r := e.do("POST", "/ping/"+id, "", "backup done"); r.status != http.StatusOK {
			t.Fatalf("ping: %d", r.status)
		}
		for _, at := range []time.Duration{61 * time.Second, 121 * time.Second} {
			if _, err := e.checks.ProcessDue(ctx, t0.Add(at), 100); err != nil {
				t.Fatal(err)
			}
		}
		p, err := e.areas.Projects.Get(ctx, e.project.ID)
		if err != nil {
			t.Fatal(err)
		}
		key := uniqueKey(id)
		secrets := []string{id, "/ping/", p.PingKey}
		for _, path := range []string{
			"/api/v1/checks", "/api/v1/checks/" + key, "/api/v1/checks/" + key + "/pings", "/api/v1/checks/" + key + "/flips",
			"/api/v1/checks/" + key + "/pings/1/body", "/api/v1/alerts",
			"/api/v3/checks/", "/api/v3/checks/" + key, "/api/v3/checks/" + key + "/flips/",
		} {
			r := e.do("GET", path, e.ro, nil)
			if r.status != http.StatusOK {
				t.Errorf("GET %s with a read-only key: %d %s", path, r.status, r.body)
				continue
			}
			for _, s := range secrets {
				if strings.Contains(string(r.body), s) {
					t.Errorf("GET %s with a read-only key shows %q: %s", path, s, r.body)
				}
			}
		}
		if r := e.do("GET", "/api/v1/checks/"+key, e.ro, nil); r.json(t)["unique_key"] != key {
			t.Errorf("read-only check lacks its unique key: %s", r.body)
		}
		if r := e.do("GET", "/api/v1/alerts", e.ro, nil); !strings.Contains(string(r.body), "check:"+key) {
			t.Errorf("read-only alerts lack the dedup key by unique key: %s", r.body)
		}
		// A read-write key still gets everything.
		c := e.check(id)
		if c["id"] != id || c["ping_url"] != "http://nightjar.test/ping/"+id || c["unique_key"] != nil {
			t.Errorf("read-write check: %v", c)
		}
		if r := e.do("GET", "/api/v1/checks/"+id+"/pings", e.rw, nil); !strings.Contains(string(r.body), `"check_id":"`+id+`"`) {
			t.Errorf("read-write pings: %s", r.body)
		}
	})
}
