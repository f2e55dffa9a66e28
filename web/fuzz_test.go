package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar/store/storetest"
)

// FuzzCheckAPI sends arbitrary bodies to the check create and update
// endpoints of both APIs: every answer must be a success or a 4xx with a
// JSON error naming the problem, never a 5xx.
func FuzzCheckAPI(f *testing.F) {
	for _, s := range []string{
		`{"name": "x", "timeout": 3600}`,
		`{"schedule": "0 2 * * *", "tz": "Europe/Berlin", "grace": 600}`,
		`{"tags": "a b", "unique": ["name"], "metric_rules": ["bytes > 0"]}`,
		`{"max_runtime": 60, "min_runtime": 120}`,
		`{"timeout": 1e40}`, `{"grace": -1}`, `{"tags": [1]}`, `[]`, `null`, `{"name": "\u0000"}`, `{`,
	} {
		f.Add(s)
	}
	db := storetest.Open(f, "sqlite")
	e := newEnv(f, db, Config{})
	id := e.createCheck(map[string]any{"name": "fuzz target"})
	f.Fuzz(func(t *testing.T, body string) {
		e.t = t
		for _, target := range []struct{ method, path string }{
			{"POST", "/api/v3/checks/"},
			{"POST", "/api/v3/checks/" + id},
			{"POST", "/api/v1/checks"},
			{"PATCH", "/api/v1/checks/" + id},
		} {
			r := e.do(target.method, target.path, e.rw, body)
			if r.status >= 500 {
				t.Fatalf("%s %s %q: %d %s", target.method, target.path, body, r.status, r.body)
			}
			if r.status >= 400 && (!strings.HasPrefix(string(r.body), `{"error":`) || r.status == http.StatusUnauthorized) {
				t.Fatalf("%s %s %q: %d without a JSON error: %s", target.method, target.path, body, r.status, r.body)
			}
		}
	})
}
