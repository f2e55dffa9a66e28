package web

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

func TestHealthReadyMetrics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		if r := e.do("GET", "/healthz", "", nil); r.status != 200 {
			t.Fatalf("healthz: %d", r.status)
		}
		if r := e.do("GET", "/readyz", "", nil); r.status != 200 || string(r.body) != "ready" {
			t.Fatalf("readyz: %d %s", r.status, r.body)
		}
		id := e.createCheck(map[string]any{"name": "m"})
		e.do("POST", "/ping/"+id, "", nil)
		e.do("POST", "/ping/"+id+"/start", "", nil)
		e.do("POST", "/ping/"+id+"/999", "", nil)
		r := e.do("GET", "/metrics", "", nil)
		body := string(r.body)
		for _, want := range []string{
			`nightjar_pings_total{kind="success"} 1`,
			`nightjar_pings_total{kind="start"} 1`,
			`nightjar_pings_rejected_total{reason="bad_url"} 1`,
			`nightjar_checks{status="started"} 1`,
			`nightjar_outbox_pending 0`,
			`nightjar_ping_ingest_seconds_count 2`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	})
}

// Every route of the v1 API is described in the OpenAPI document, and the
// document is valid JSON with the fields clients rely on.
func TestOpenAPIDocument(t *testing.T) {
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	src := routesV1Source(t)
	re := regexp.MustCompile(`"(GET|POST|PATCH|PUT|DELETE) (/api/v1/[^"]*)"`)
	found := 0
	for _, m := range re.FindAllStringSubmatch(src, -1) {
		found++
		method, path := strings.ToLower(m[1]), m[2]
		ops, ok := doc.Paths[path]
		if !ok {
			t.Errorf("route %s %s is not in openapi.json", m[1], path)
			continue
		}
		if _, ok := ops[method]; !ok {
			t.Errorf("route %s %s: method missing in openapi.json", m[1], path)
		}
	}
	if found < 10 {
		t.Fatalf("found only %d v1 routes in v1.go", found)
	}
}

func routesV1Source(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("v1.go")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
