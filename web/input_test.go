package web

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// countChecks is how many checks the env's project has.
func (e *env) countChecks() int {
	e.t.Helper()
	found, err := e.checks.List(context.Background(), e.project.ID, checks.Filter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(found)
}

// endpoint is a route to send a request to.
type endpoint struct{ method, path string }

// checkWrites are the endpoints that create or change a check from a JSON
// body, in both APIs; id is the check that the updates change.
func checkWrites(id string) []endpoint {
	return []endpoint{{"POST", "/api/v3/checks/"}, {"POST", "/api/v3/checks/" + id}, {"POST", "/api/v1/checks"}, {"PATCH", "/api/v1/checks/" + id}}
}

// wantFieldError fails unless r is a 400 whose JSON error names field.
func wantFieldError(t *testing.T, what string, r resp, field string) {
	t.Helper()
	if r.status != 400 {
		t.Errorf("%s: %d %s, want 400 naming %s", what, r.status, r.body, field)
		return
	}
	// A member of a map may be named down to its key (config.headers.X-A).
	if got, _ := r.json(t)["field"].(string); got != field && !strings.HasPrefix(got, field+".") {
		t.Errorf("%s: field %v (%s), want %q", what, got, r.body, field)
	}
}

// Text that PostgreSQL cannot store (NUL bytes) or that is not text at all
// (invalid UTF-8) is refused with a 400 naming the field, on both
// databases, in every field of every JSON endpoint.
func TestTextFieldsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		id := e.createCheck(map[string]any{"name": "target"})
		before := e.countChecks()
		// The NUL comes as a JSON escape; the invalid byte raw, since JSON
		// has no escape for it.
		for _, bad := range []string{`a\u0000b`, "a\xffb"} {
			for _, field := range []string{"name", "desc", "service", "tags", "slug", "schedule", "tz", "methods",
				"start_kw", "success_kw", "failure_kw", "channels"} {
				body := fmt.Sprintf(`{%q: "%s"}`, field, bad)
				for _, target := range checkWrites(id) {
					wantFieldError(t, fmt.Sprintf("%s %s %q", target.method, target.path, body), e.do(target.method, target.path, e.rw, body), field)
				}
			}
			// A "unique" create looks its fields up: they are checked first.
			for _, u := range []string{"name", "slug", "tags"} {
				r := e.do("POST", "/api/v3/checks/", e.rw, fmt.Sprintf(`{%q: "%s", "unique": [%q]}`, u, bad, u))
				wantFieldError(t, "unique "+u+" "+bad, r, u)
			}
			r := e.do("POST", "/api/v1/checks", e.rw, fmt.Sprintf(`{"metric_rules": ["%s > 0"]}`, bad))
			wantFieldError(t, "metric rule "+bad, r, "metric_rules")
			// A bad byte in a key is no known field either.
			if r := e.do("POST", "/api/v1/checks", e.rw, fmt.Sprintf(`{"%s": 1}`, bad)); r.status != 400 {
				t.Errorf("key %q: %d %s, want 400", bad, r.status, r.body)
			}

			for _, tc := range []struct{ body, field string }{
				{fmt.Sprintf(`{"kind": "webhook", "name": "%s", "config": {"url": "https://x.example/"}}`, bad), "name"},
				{fmt.Sprintf(`{"kind": "webhook", "name": "n", "config": {"url": "https://x.example/%s"}}`, bad), "config.url"},
				{fmt.Sprintf(`{"kind": "webhook", "name": "n", "config": {"url": "https://x.example/", "secret": "%s"}}`, bad), "config.secret"},
				{fmt.Sprintf(`{"kind": "webhook", "name": "n", "config": {"url": "https://x.example/", "headers": {"X-A": "%s"}}}`, bad), "config.headers"},
				{fmt.Sprintf(`{"kind": "email", "name": "n", "config": {"to": ["%s@example.com"]}}`, bad), "config.to"},
			} {
				wantFieldError(t, "channel "+tc.body, e.do("POST", "/api/v1/channels", e.rw, tc.body), tc.field)
			}
		}
		if n := e.countChecks(); n != before {
			t.Fatalf("%d checks after refused creates, want %d", n, before)
		}
		if got := e.check(id)["name"]; got != "target" {
			t.Fatalf("refused updates changed the check: name %q", got)
		}
		if r := e.do("GET", "/api/v1/channels", e.rw, nil); !strings.Contains(string(r.body), `"channels":[]`) {
			t.Fatalf("refused channels were stored: %s", r.body)
		}
		// Text fields count characters, not bytes: 100 two-byte letters
		// make a valid name.
		if r := e.do("PATCH", "/api/v1/checks/"+id, e.rw, map[string]any{"name": strings.Repeat("é", 100)}); r.status != 200 {
			t.Fatalf("name of 100 characters: %d %s", r.status, r.body)
		}
	})
}

// A path id that is not valid text cannot name anything: 404, on both
// databases, for every route that takes one. A list filter that is not
// valid text is a 400 naming it.
func TestImpossiblePathIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		id := e.createCheck(map[string]any{"name": "target"})
		for _, bad := range []string{"%FF", "%00", "abc%00", id + "%FF", "%C3%28"} {
			for _, tc := range []struct {
				method, path string
				body         any
			}{
				{"GET", "/api/v1/checks/" + bad, nil},
				{"PATCH", "/api/v1/checks/" + bad, `{"name": "x"}`},
				{"DELETE", "/api/v1/checks/" + bad, nil},
				{"POST", "/api/v1/checks/" + bad + "/pause", nil},
				{"POST", "/api/v1/checks/" + bad + "/resume", nil},
				{"GET", "/api/v1/checks/" + bad + "/pings", nil},
				{"GET", "/api/v1/checks/" + bad + "/pings/1/body", nil},
				{"GET", "/api/v1/checks/" + bad + "/flips", nil},
				{"GET", "/api/v1/notifications/" + bad, nil},
				{"DELETE", "/api/v1/channels/" + bad, nil},
				{"POST", "/api/v1/channels/" + bad + "/test", nil},
				{"GET", "/api/v3/checks/" + bad, nil},
				{"POST", "/api/v3/checks/" + bad, `{"name": "x"}`},
				{"DELETE", "/api/v3/checks/" + bad, nil},
				{"POST", "/api/v3/checks/" + bad + "/pause", nil},
				{"POST", "/api/v3/checks/" + bad + "/resume", nil},
				{"GET", "/api/v3/checks/" + bad + "/pings/", nil},
				{"GET", "/api/v3/checks/" + bad + "/pings/1/body", nil},
				{"GET", "/api/v3/checks/" + bad + "/flips/", nil},
			} {
				r := e.do(tc.method, tc.path, e.rw, tc.body)
				if r.status != 404 || !strings.HasPrefix(string(r.body), `{"error":`) {
					t.Errorf("%s %s: %d %s, want a 404", tc.method, tc.path, r.status, r.body)
				}
			}
			for _, path := range []string{"/api/v1/checks?slug=", "/api/v3/checks/?slug=", "/api/v1/checks?tag=", "/api/v3/checks/?tag="} {
				field := strings.TrimSuffix(path[strings.Index(path, "?")+1:], "=")
				wantFieldError(t, path+bad, e.do("GET", path+bad, e.rw, nil), field)
			}
		}
	})
}

// Every duration has bounds, and a number of seconds too large for a
// time.Duration is out of them rather than wrapped around into range.
func TestDurationOverflow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		id := e.createCheck(map[string]any{"name": "target", "timeout": 7200})
		before := e.countChecks()
		// 36028797018967568 s is 3600 s after wrapping around in
		// nanoseconds; the others are the extremes.
		for _, v := range []string{"36028797018967568", "-36028797018967568", "9223372036854775807", "-9223372036854775808", "9223372037", "-9223372037"} {
			for _, field := range []string{"timeout", "grace", "early_tolerance", "max_runtime", "min_runtime", "realert_interval"} {
				body := fmt.Sprintf(`{%q: %s}`, field, v)
				for _, target := range checkWrites(id) {
					wantFieldError(t, fmt.Sprintf("%s %s %s", target.method, target.path, body), e.do(target.method, target.path, e.rw, body), field)
				}
			}
		}
		if n := e.countChecks(); n != before {
			t.Fatalf("%d checks after refused creates, want %d", n, before)
		}
		if got := e.check(id)["timeout"]; got != 7200.0 {
			t.Fatalf("timeout is %v after refused updates, want 7200", got)
		}
	})
}

// Free-text settings have length limits and tags a count limit.
func TestServiceAndTagLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		manyTags := make([]string, 50_000)
		for i := range manyTags {
			manyTags[i] = fmt.Sprintf("t%d", i)
		}
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"service": strings.Repeat("s", 100_000)}, "service"},
			{map[string]any{"service": strings.Repeat("s", nightjar.MaxServiceLength+1)}, "service"},
			{map[string]any{"tags": manyTags}, "tags"},
			{map[string]any{"tags": strings.Join(manyTags, " ")}, "tags"},
			{map[string]any{"tags": manyTags[:nightjar.MaxTags+1]}, "tags"},
			{map[string]any{"tags": []string{strings.Repeat("t", 101)}}, "tags"},
		} {
			for _, path := range []string{"/api/v1/checks", "/api/v3/checks/"} {
				wantFieldError(t, fmt.Sprintf("%s %.60v", path, tc.body), e.do("POST", path, e.rw, tc.body), tc.field)
			}
		}
		if n := e.countChecks(); n != 0 {
			t.Fatalf("%d checks stored, want none", n)
		}
		// At the limits, it is fine.
		id := e.createCheck(map[string]any{"service": strings.Repeat("é", nightjar.MaxServiceLength), "tags": manyTags[:nightjar.MaxTags]})
		if c := e.check(id); len(c["tags"].([]any)) != nightjar.MaxTags {
			t.Fatalf("tags: %v", c["tags"])
		}
	})
}

// A JSON endpoint takes exactly one JSON object: null, other values and
// anything after the object are refused, and nothing is created.
func TestJSONBodyMustBeOneObject(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		id := e.createCheck(map[string]any{"name": "target"})
		before := e.countChecks()
		for _, body := range []string{`null`, ` null `, `[]`, `[{"name": "x"}]`, `"x"`, `1`, `true`,
			`{"name": "x"} garbage`, `{"name": "x"}{"name": "y"}`, `{"name": "x"}]`, `{"name": "x"} null`, "{\"name\": \"x\"}\n{}"} {
			for _, target := range append(checkWrites(id), endpoint{"POST", "/api/v1/channels"}) {
				r := e.do(target.method, target.path, e.rw, body)
				if r.status != 400 || !strings.Contains(r.json(t)["error"].(string), "JSON object") {
					t.Errorf("%s %s %q: %d %s, want a 400 asking for one JSON object", target.method, target.path, body, r.status, r.body)
				}
			}
		}
		if n := e.countChecks(); n != before {
			t.Fatalf("%d checks, want %d", n, before)
		}
		if got := e.check(id)["name"]; got != "target" {
			t.Fatalf("name %q after refused updates", got)
		}
		// Whitespace around the object is fine.
		if r := e.do("POST", "/api/v1/checks", e.rw, " \r\n\t{\"name\": \"spaced\"}\n\n"); r.status != 201 {
			t.Fatalf("object with whitespace: %d %s", r.status, r.body)
		}
	})
}

// A ping's metadata (user agent, headers) and body are recorded as
// received, never refused: the user agent with invalid bytes replaced, the
// body byte for byte, on both databases.
func TestPingHostileMetadata(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		id := e.createCheck(map[string]any{"name": "target"})
		body := []byte("ok\x00\xff\xfe done \xc3\x28\x00")
		for i, tc := range []struct {
			hdr    []string
			wantUA string
		}{
			{[]string{"User-Agent", "x\xff"}, "x\uFFFD"},
			{[]string{"User-Agent", "curl \xc3\x28", "X-Forwarded-For", "\xff\xfe", "Content-Type", "text/plain; charset=\xff", "X-Note", "\xe2\x82"}, "curl \uFFFD("},
			{[]string{"User-Agent", strings.Repeat("é", 150) + "\xff"}, strings.Repeat("é", 150) + "\uFFFD"},
		} {
			r := e.do("POST", "/ping/"+id, "", body, tc.hdr...)
			if r.status != 200 {
				t.Fatalf("ping %d: %d %s", i, r.status, r.body)
			}
			pings, err := e.checks.Pings(context.Background(), id, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(pings) != 1 || pings[0].N != int64(i+1) || pings[0].UA != tc.wantUA {
				t.Fatalf("ping %d stored as %+v, want n %d and ua %q", i, pings, i+1, tc.wantUA)
			}
			got := e.do("GET", fmt.Sprintf("/api/v3/checks/%s/pings/%d/body", id, i+1), e.rw, nil)
			if got.status != 200 || !bytes.Equal(got.body, body) {
				t.Fatalf("ping %d body: %d %q, want %q", i, got.status, got.body, body)
			}
		}
	})
}
