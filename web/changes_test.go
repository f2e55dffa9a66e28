package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// Change events as PagerDuty's Change Events API takes them: 202 once
// stored for the integration key's service; bad events 400 in PagerDuty's
// shape naming the field. A deploy script with an API key records one
// too, and the service's changes list newest first.
func TestChangeEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		e.mustDo(201, "POST", "/api/v1/services", map[string]any{"name": "shop"})
		other := e.mustDo(201, "POST", "/api/v1/services", map[string]any{"name": "billing"})
		svc := e.mustDo(200, "GET", "/api/v1/services", nil)["services"].([]any)
		var shopID string
		for _, s := range svc {
			if m := s.(map[string]any); m["name"] == "shop" {
				shopID = m["id"].(string)
			}
		}
		key := e.newIntegrationKey("ci", "shop")["key"].(string)

		r := e.do("POST", "/api/v1/change/enqueue", "", map[string]any{"routing_key": key,
			"payload": map[string]any{"summary": "deploy v1.4.2", "timestamp": "2026-01-05T09:58:00Z", "source": "github-actions",
				"custom_details": map[string]any{"sha": "abc123"}},
			"links": []any{map[string]any{"href": "https://ci.example.com/runs/42", "text": "Build"}}})
		if m := r.json(t); r.status != http.StatusAccepted || m["status"] != "success" || m["message"] != "Change event processed" {
			t.Fatalf("enqueue: %d %s", r.status, r.body)
		}
		for _, tc := range []struct {
			ev    any
			field string
		}{
			{`{"routing_key": `, "body"},
			{map[string]any{"payload": map[string]any{"summary": "s"}}, "routing_key"},
			{map[string]any{"routing_key": strings.Repeat("z", 32), "payload": map[string]any{"summary": "s"}}, "routing_key"},
			{map[string]any{"routing_key": key}, "payload"},
			{map[string]any{"routing_key": key, "payload": map[string]any{"source": "ci"}}, "payload.summary"},
			{map[string]any{"routing_key": key, "payload": map[string]any{"summary": strings.Repeat("x", 1025)}}, "payload.summary"},
			{map[string]any{"routing_key": key, "payload": map[string]any{"summary": "s", "timestamp": "today"}}, "payload.timestamp"},
			{map[string]any{"routing_key": key, "payload": map[string]any{"summary": "s"}, "links": []any{map[string]any{"href": "javascript:x"}}}, "links[0].href"},
		} {
			r := e.do("POST", "/api/v1/change/enqueue", "", tc.ev)
			m := r.json(t)
			errs, _ := m["errors"].([]any)
			if r.status != http.StatusBadRequest || m["status"] != "invalid event" || len(errs) != 1 {
				t.Fatalf("%v: %d %s", tc.ev, r.status, r.body)
			}
			if msg := errs[0].(string); tc.field != "body" && !strings.HasPrefix(msg, tc.field+": ") {
				t.Errorf("%v: error %q does not name %s", tc.ev, msg, tc.field)
			}
		}

		// A deploy script's change, without a time: now.
		c := e.mustDo(201, "POST", "/api/v1/changes", map[string]any{"service": "shop", "summary": "config: pool size 20", "source": "deploy.sh"})
		if c["id"] == "" || c["at"] != e.clock.Now().UTC().Format(time.RFC3339) {
			t.Fatalf("recorded change %v", c)
		}
		for body, field := range map[string]string{`{"summary": "s"}`: "service", `{"service": "shop"}`: "summary",
			`{"service": "shop", "summary": "s", "at": "noon"}`: "at", `{"service": "shop", "summary": "a\nb"}`: "summary"} {
			r := e.do("POST", "/api/v1/changes", e.rw, body)
			if m := r.json(t); r.status != http.StatusBadRequest || m["field"] != field {
				t.Errorf("%s: %d %s, want 400 naming %s", body, r.status, r.body, field)
			}
		}
		if r := e.do("POST", "/api/v1/changes", e.ro, map[string]any{"service": "shop", "summary": "s"}); r.status != http.StatusForbidden {
			t.Errorf("read-only key: %d %s", r.status, r.body)
		}

		list := e.mustDo(200, "GET", "/api/v1/services/"+shopID+"/changes", nil)["changes"].([]any)
		if len(list) != 2 {
			t.Fatalf("changes %v", list)
		}
		first, second := list[0].(map[string]any), list[1].(map[string]any)
		if first["summary"] != "config: pool size 20" || second["summary"] != "deploy v1.4.2" || second["source"] != "github-actions" ||
			second["at"] != "2026-01-05T09:58:00Z" || second["service"] != "shop" || second["details"].(map[string]any)["sha"] != "abc123" {
			t.Fatalf("changes %v", list)
		}
		if got := e.mustDo(200, "GET", "/api/v1/services/"+other["id"].(string)+"/changes", nil)["changes"].([]any); len(got) != 0 {
			t.Fatalf("billing's changes %v", got)
		}
		if r := e.do("GET", "/api/v1/services/"+shopID+"/changes?limit=0", e.rw, nil); r.status != http.StatusBadRequest {
			t.Errorf("limit=0: %d %s", r.status, r.body)
		}
	})
}
