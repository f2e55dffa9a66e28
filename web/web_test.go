package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/audit"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/checks/checkstest"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/integrations"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
	"github.com/nightjar-dev/nightjar/telemetry"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is a running server on a real database with a fake clock.
type env struct {
	t        testing.TB
	db       *store.DB
	areas    Areas
	channels *channels.Service
	outbox   *outbox.Outbox
	checks   *checks.Service
	srv      *httptest.Server
	clock    *nightjar.FakeClock
	project  *nightjar.Project
	rw, ro   string // API keys
	ping     string // ping-only key
}

func newEnv(t testing.TB, db *store.DB, cfg Config) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, db: db, clock: nightjar.NewFakeClock(t0), channels: channels.New(db), outbox: outbox.New(db), checks: checkstest.New(db)}
	e.areas = Areas{Projects: projects.New(db), Audit: audit.New(db), Channels: e.channels, Outbox: e.outbox,
		Checks: e.checks, Alerts: alerting.New(db), Incidents: incidents.New(db), Ingest: aggregate.New(aggregate.Limits{})}
	e.areas.Integrations = integrations.New(db, e.areas.Alerts)
	e.areas.SLOs = slos.New(db, e.areas.Alerts)
	e.areas.SLOs.Ingest = e.areas.Ingest
	e.project = &nightjar.Project{Name: "Test"}
	if err := e.areas.Projects.Create(ctx, e.project, t0); err != nil {
		t.Fatal(err)
	}
	key := func(scope nightjar.Scope) string {
		s, err := e.areas.Projects.CreateKey(ctx, &nightjar.APIKey{ProjectID: e.project.ID, Name: string(scope), Scope: scope}, "", t0)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	e.rw, e.ro, e.ping = key(nightjar.ScopeReadWrite), key(nightjar.ScopeReadOnly), key(nightjar.ScopePingOnly)
	e.areas.Pings = e.checks.NewRecorder(0, nil)
	t.Cleanup(e.areas.Pings.Close)
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://nightjar.test"
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := NewServer(db, e.areas, e.clock, log, cfg, telemetry.New(telemetry.Source{Checks: e.checks, Outbox: e.outbox}, log))
	e.srv = httptest.NewServer(s)
	t.Cleanup(e.srv.Close)
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not a JSON object: %s", r.status, r.body)
	}
	return m
}

func (e *env) do(method, path, key string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func (e *env) createCheck(in map[string]any) string {
	e.t.Helper()
	r := e.do("POST", "/api/v3/checks/", e.rw, in)
	if r.status != http.StatusCreated {
		e.t.Fatalf("create check: %d %s", r.status, r.body)
	}
	return r.json(e.t)["uuid"].(string)
}

func (e *env) check(id string) map[string]any {
	e.t.Helper()
	r := e.do("GET", "/api/v1/checks/"+id, e.rw, nil)
	if r.status != 200 {
		e.t.Fatalf("get check: %d %s", r.status, r.body)
	}
	return r.json(e.t)
}

func TestParsePingPath(t *testing.T) {
	const u = "5f9a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b"
	exit := func(n int) *int { return &n }
	for _, tc := range []struct {
		path string
		want pingTarget
		err  error
	}{
		{u, pingTarget{UUID: u, Kind: "success"}, nil},
		{u + "/", pingTarget{UUID: u, Kind: "success"}, nil},
		{u + "/start", pingTarget{UUID: u, Kind: "start"}, nil},
		{u + "/fail", pingTarget{UUID: u, Kind: "fail"}, nil},
		{u + "/log", pingTarget{UUID: u, Kind: "log"}, nil},
		{u + "/0", pingTarget{UUID: u, Kind: "success", ExitStatus: exit(0)}, nil},
		{u + "/1", pingTarget{UUID: u, Kind: "fail", ExitStatus: exit(1)}, nil},
		{u + "/255", pingTarget{UUID: u, Kind: "fail", ExitStatus: exit(255)}, nil},
		{u + "/256", pingTarget{}, errPingBadURL},
		{u + "/99999999999", pingTarget{}, errPingNotFound},
		{u + "/finish", pingTarget{}, errPingNotFound},
		{u + "/start/extra", pingTarget{}, errPingNotFound},
		{strings.ToUpper(u), pingTarget{}, errPingNotFound},
		{"not-a-uuid", pingTarget{}, errPingNotFound},
		{"", pingTarget{}, errPingNotFound},
		{"key123/my-job", pingTarget{PingKey: "key123", Slug: "my-job", Kind: "success"}, nil},
		{"key123/my-job/start", pingTarget{PingKey: "key123", Slug: "my-job", Kind: "start"}, nil},
		{"key123/my-job/7", pingTarget{PingKey: "key123", Slug: "my-job", Kind: "fail", ExitStatus: exit(7)}, nil},
		{"key123/my-job/300", pingTarget{}, errPingBadURL},
		{"key123/My Job", pingTarget{}, errPingBadURL},
		{"key123/UPPER", pingTarget{}, errPingBadURL},
		{"key123/a/b/c", pingTarget{}, errPingNotFound},
	} {
		got, err := parsePingPath(tc.path)
		if err != tc.err {
			t.Errorf("%q: err = %v, want %v", tc.path, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if got.UUID != tc.want.UUID || got.PingKey != tc.want.PingKey || got.Slug != tc.want.Slug || got.Kind != tc.want.Kind ||
			(got.ExitStatus == nil) != (tc.want.ExitStatus == nil) || (got.ExitStatus != nil && *got.ExitStatus != *tc.want.ExitStatus) {
			t.Errorf("%q = %+v, want %+v", tc.path, got, tc.want)
		}
	}
}

func FuzzParsePingPath(f *testing.F) {
	for _, s := range []string{"5f9a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b/start", "key/slug/255", "k/s/256", "", "/", "a//b", "x/y/z/w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := parsePingPath(p)
		if err != nil {
			return
		}
		if (got.UUID == "") == (got.Slug == "") {
			t.Fatalf("%q: exactly one of uuid and slug must be set: %+v", p, got)
		}
		if got.Slug != "" && !nightjar.ValidSlug(got.Slug) {
			t.Fatalf("%q: accepted invalid slug %q", p, got.Slug)
		}
		if got.ExitStatus != nil && (*got.ExitStatus < 0 || *got.ExitStatus > 255) {
			t.Fatalf("%q: exit status %d out of range", p, *got.ExitStatus)
		}
		switch got.Kind {
		case nightjar.PingSuccess, nightjar.PingStart, nightjar.PingFail, nightjar.PingLog:
		default:
			t.Fatalf("%q: kind %q", p, got.Kind)
		}
	})
}

func TestPingEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{PingBodyLimit: 20})
		id := e.createCheck(map[string]any{"name": "Nightly backup", "timeout": 3600, "grace": 300})

		for _, method := range []string{"HEAD", "GET", "POST", "PUT"} {
			r := e.do(method, "/ping/"+id, "", nil)
			if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Ping-Body-Limit") != "20" {
				t.Fatalf("%s ping: %d %v", method, r.status, r.header)
			}
			if method != "HEAD" && string(r.body) != "OK" {
				t.Fatalf("%s ping body %q", method, r.body)
			}
		}
		for _, tc := range []struct {
			path, body string
			status     int
		}{
			{"/ping/" + id + "/256", "invalid url format", 400},
			{"/ping/" + id + "?rid=not-a-uuid", "invalid uuid format", 400},
			{"/ping/00000000-0000-4000-8000-000000000000", "not found", 404},
			{"/ping/" + id + "/bogus", "not found", 404},
			{"/ping/" + e.project.PingKey + "/nightly-backup", "OK", 200},
			{"/ping/" + e.project.PingKey + "/Bad_Slug!", "invalid url format", 400},
			{"/ping/" + e.project.PingKey + "/missing", "not found", 404},
			{"/ping/" + e.project.PingKey + "/auto-made?create=1", "Created", 201},
			{"/ping/" + e.project.PingKey + "/auto-made?create=1", "OK", 200},
			{"/ping/" + id + "?m=bytes:oops", "m: ", 400},
		} {
			r := e.do("POST", tc.path, "", nil)
			if r.status != tc.status || !strings.HasPrefix(string(r.body), tc.body) {
				t.Errorf("POST %s = %d %q, want %d %q", tc.path, r.status, r.body, tc.status, tc.body)
			}
		}
		// Ambiguous slug.
		e.createCheck(map[string]any{"name": "twin", "slug": "twin"})
		e.createCheck(map[string]any{"name": "twin2", "slug": "twin"})
		if r := e.do("GET", "/ping/"+e.project.PingKey+"/twin", "", nil); r.status != 409 || string(r.body) != "ambiguous slug" {
			t.Fatalf("ambiguous slug: %d %q", r.status, r.body)
		}

		// Body truncation keeps the limit and says so; exit status and
		// metrics are recorded.
		e.do("POST", "/ping/"+id+"/3?m=bytes:12,rows:0", "", strings.Repeat("x", 50), "User-Agent", strings.Repeat("u", 300))
		r := e.do("GET", "/api/v1/checks/"+id+"/pings?limit=1", e.rw, nil)
		p := r.json(t)["pings"].([]any)[0].(map[string]any)
		if p["type"] != "fail" || p["exitstatus"].(float64) != 3 || len(p["ua"].(string)) != 200 {
			t.Fatalf("recorded ping: %v", p)
		}
		if m := p["metrics"].(map[string]any); m["bytes"].(float64) != 12 || m["rows"].(float64) != 0 {
			t.Fatalf("metrics: %v", m)
		}
		n := int(p["n"].(float64))
		body := e.do("GET", "/api/v3/checks/"+id+"/pings/"+itoa(n)+"/body", e.rw, nil)
		if !strings.HasPrefix(string(body.body), strings.Repeat("x", 20)+"\n[nightjar: body truncated, first 20 bytes kept, 30 more dropped]") {
			t.Fatalf("stored body %q", body.body)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestRemoteAddrTrustedProxies(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}}}
	for _, tc := range []struct {
		peer, xff, want string
	}{
		{"203.0.113.9:5000", "1.2.3.4", "203.0.113.9"},                        // untrusted peer: header ignored
		{"127.0.0.1:5000", "198.51.100.7", "198.51.100.7"},                    // trusted proxy
		{"127.0.0.1:5000", "6.6.6.6, 198.51.100.7, 10.1.1.1", "198.51.100.7"}, // spoofed first entry ignored
		{"127.0.0.1:5000", "", "127.0.0.1"},
		{"127.0.0.1:5000", "garbage", "127.0.0.1"},
		{"[::ffff:127.0.0.1]:5000", "198.51.100.8", "198.51.100.8"},
	} {
		r := httptest.NewRequest("GET", "/ping/x", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := s.remoteAddr(r); got != tc.want {
			t.Errorf("peer %s xff %q: got %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
}
