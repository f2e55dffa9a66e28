package web

import (
	"bytes"
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// fuzzEnvs starts a server on each database, so every fuzz input reaches
// SQLite and PostgreSQL alike.
func fuzzEnvs(f *testing.F, cfg Config) []*env {
	var envs []*env
	for _, db := range storetest.OpenEach(f) {
		envs = append(envs, newEnv(f, db, cfg))
	}
	return envs
}

// wantAPIAnswer fails on a 5xx, or a 4xx that is not a JSON error.
func wantAPIAnswer(t *testing.T, e *env, what string, r resp) {
	t.Helper()
	if r.status >= 500 {
		t.Fatalf("%s %s: %d %s", e.db.Dialect(), what, r.status, r.body)
	}
	if r.status >= 400 && (!strings.HasPrefix(string(r.body), `{"error":`) || r.status == http.StatusUnauthorized) {
		t.Fatalf("%s %s: %d without a JSON error: %s", e.db.Dialect(), what, r.status, r.body)
	}
}

// FuzzCheckAPI sends arbitrary bodies to the check create and update
// endpoints of both APIs and to channel creation, on both databases: every
// answer must be a success or a 4xx with a JSON error naming the problem,
// never a 5xx.
func FuzzCheckAPI(f *testing.F) {
	for _, s := range []string{
		`{"name": "x", "timeout": 3600}`,
		`{"schedule": "0 2 * * *", "tz": "Europe/Berlin", "grace": 600}`,
		`{"tags": "a b", "unique": ["name"], "metric_rules": ["bytes > 0"]}`,
		`{"max_runtime": 60, "min_runtime": 120}`,
		`{"timeout": 1e40}`, `{"grace": -1}`, `{"tags": [1]}`, `[]`, `null`, `{"name": "\u0000"}`, `{`,
		`{"timeout": 36028797018967568}`, `{"max_runtime": -36028797018967568}`, `{"name": "x"} {}`,
		"{\"desc\": \"\xff\"}", `{"tz": "a\u0000"}`, `{"service": "\u0000"}`, `{"channels": "\u0000"}`,
		`{"kind": "webhook", "name": "\u0000", "config": {"url": "https://x.example/"}}`,
		`{"kind": "email", "name": "n", "config": {"to": ["a@b.example"]}}`,
		`{"name": "x", "uuid": 1, "status": [], "last_ping": null, "n_pings": "7", "badge_url": {}, "unique_key": "k"}`,
		`{"id": "x", "project_id": 1, "created_at": null, "kind": "webhook", "name": "n", "config": {"url": "https://x.example/"}}`,
	} {
		f.Add(s)
	}
	envs := fuzzEnvs(f, Config{})
	ids := make([]string, len(envs))
	for i, e := range envs {
		ids[i] = e.createCheck(map[string]any{"name": "fuzz target"})
	}
	f.Fuzz(func(t *testing.T, body string) {
		for i, e := range envs {
			e.t = t
			for _, target := range append(checkWrites(ids[i]), endpoint{"POST", "/api/v1/channels"}) {
				wantAPIAnswer(t, e, target.method+" "+target.path+" "+body, e.do(target.method, target.path, e.rw, body))
			}
		}
	})
}

// FuzzAPIPaths puts arbitrary text where the APIs take an id or a filter,
// on both databases: never a 5xx.
func FuzzAPIPaths(f *testing.F) {
	for _, s := range []string{"\xff", "\x00", "abc", "5f9a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b", "a/b", "..", "\xc3\x28", "%"} {
		f.Add(s)
	}
	envs := fuzzEnvs(f, Config{})
	f.Fuzz(func(t *testing.T, id string) {
		if id == "" || id == "." || id == ".." || strings.Contains(id, "/") {
			return // not one path segment: another route, or none
		}
		p, q := url.PathEscape(id), url.QueryEscape(id)
		for _, e := range envs {
			e.t = t
			for _, target := range []endpoint{
				{"GET", "/api/v1/checks/" + p},
				{"DELETE", "/api/v1/checks/" + p},
				{"POST", "/api/v1/checks/" + p + "/pause"},
				{"GET", "/api/v1/checks/" + p + "/pings"},
				{"GET", "/api/v1/checks/" + p + "/pings/1/body"},
				{"GET", "/api/v1/notifications/" + p},
				{"POST", "/api/v1/channels/" + p + "/test"},
				{"DELETE", "/api/v1/channels/" + p},
				{"GET", "/api/v3/checks/" + p},
				{"GET", "/api/v3/checks/" + p + "/flips/"},
				{"GET", "/api/v1/checks?slug=" + q + "&tag=" + q},
				{"GET", "/api/v3/checks/?slug=" + q + "&tag=" + q},
			} {
				r := e.do(target.method, target.path, e.rw, nil)
				wantAPIAnswer(t, e, target.method+" "+target.path, r)
			}
		}
	})
}

// headerValue makes s sendable as a header value: Go's client refuses
// control characters, as servers do, so they become '?'. Other bytes,
// invalid UTF-8 included, are left as they are.
func headerValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}

// FuzzPingMetadata sends pings with arbitrary user agents, forwarded-for
// headers and bodies to both databases. A ping is never refused over its
// metadata, and every acknowledged ping is stored, its body byte for byte.
func FuzzPingMetadata(f *testing.F) {
	f.Add("x\xff", "\xff\xfe", []byte("ok\x00\xff"))
	f.Add("curl/8.5.0", "198.51.100.7", []byte{})
	f.Add(strings.Repeat("é", 199)+"\xc3", "1.2.3.4, \x80", []byte("\xc3\x28 \x00\x00"))
	f.Add("", "", []byte(`{"metrics": {"bytes": 12}}`))
	envs := fuzzEnvs(f, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	ids := make([]string, len(envs))
	for i, e := range envs {
		ids[i] = e.createCheck(map[string]any{"name": "fuzz target"})
	}
	f.Fuzz(func(t *testing.T, ua, xff string, body []byte) {
		ua, xff = headerValue(ua), headerValue(xff)
		for i, e := range envs {
			e.t = t
			ctx := context.Background()
			before, err := e.checks.Get(ctx, e.project.ID, ids[i])
			if err != nil {
				t.Fatal(err)
			}
			r := e.do("POST", "/ping/"+ids[i], "", body, "User-Agent", ua, "X-Forwarded-For", xff)
			if r.status >= 500 {
				t.Fatalf("%s: ping ua %q xff %q body %q: %d %s", e.db.Dialect(), ua, xff, body, r.status, r.body)
			}
			if r.status != http.StatusOK {
				continue // refused for what it asked (a bad metric), not for its metadata
			}
			n := before.State.NPings + 1
			p, err := e.checks.PingWithBody(ctx, ids[i], n)
			if err != nil {
				t.Fatalf("%s: acknowledged ping %d not stored: %v", e.db.Dialect(), n, err)
			}
			if len(body) <= 100_000 && !bytes.Equal(p.Body, body) {
				t.Fatalf("%s: body stored as %q, sent %q", e.db.Dialect(), p.Body, body)
			}
			if !nightjar.ValidText(p.UA) || utf8.RuneCountInString(p.UA) > 200 {
				t.Fatalf("%s: user agent stored as %q", e.db.Dialect(), p.UA)
			}
			if sent := strings.Trim(ua, " \t"); utf8.ValidString(sent) && utf8.RuneCountInString(sent) <= 200 && p.UA != sent {
				t.Fatalf("%s: valid user agent %q stored as %q", e.db.Dialect(), sent, p.UA)
			}
		}
	})
}
