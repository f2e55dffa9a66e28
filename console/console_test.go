package console

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/accounts"
	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/audit"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/checks/checkstest"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/password"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	t      testing.TB
	db     *store.DB
	areas  Areas
	srv    *httptest.Server
	clock  *nightjar.FakeClock
	a, b   *nightjar.Project
	checkA *nightjar.Check
	checkB *nightjar.Check
}

const pw = "a long enough passphrase"

// areasOf is the console's areas on db, hashing passwords at the cheap
// test cost. Each has a hasher of its own, so a test can count the hashes
// it caused through Accounts.Passwords().
// Its outbox records delivery results in incident timelines, as serve's.
func areasOf(db *store.DB) Areas {
	inc := incidents.New(db)
	a := Areas{Projects: projects.New(db), Accounts: accounts.New(db, password.New(password.TestCost, 0)), Audit: audit.New(db),
		Channels: channels.New(db), Outbox: outbox.New(db, inc), Checks: checksOf(db), Incidents: inc,
		SLOs: slos.New(db, alerting.New(db))}
	a.SLOs.Ingest = aggregate.New(aggregate.Limits{})
	return a
}

// checksOf is the checks area of db, with its alert stage.
func checksOf(db *store.DB) *checks.Service { return checkstest.New(db) }

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	return newEnvWith(t, db, Config{})
}

// newEnvWith is newEnv with console settings; BaseURL is always
// http://nightjar.test.
func newEnvWith(t testing.TB, db *store.DB, cfg Config) *env {
	t.Helper()
	return newEnvFrom(t, db, cfg, areasOf(db))
}

// newEnvWithAreas is newEnv with the console's areas changed by change.
func newEnvWithAreas(t testing.TB, db *store.DB, change func(*Areas)) *env {
	t.Helper()
	areas := areasOf(db)
	change(&areas)
	return newEnvFrom(t, db, Config{}, areas)
}

func newEnvFrom(t testing.TB, db *store.DB, cfg Config, areas Areas) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, db: db, areas: areas, clock: nightjar.NewFakeClock(t0)}
	e.a, e.b = &nightjar.Project{Name: "Alpha"}, &nightjar.Project{Name: "Beta"}
	for _, p := range []*nightjar.Project{e.a, e.b} {
		if err := e.areas.Projects.Create(ctx, p, t0); err != nil {
			t.Fatal(err)
		}
	}
	for email, role := range map[string]nightjar.Role{"owner@a.test": nightjar.RoleOwner, "member@a.test": nightjar.RoleMember, "viewer@a.test": nightjar.RoleViewer} {
		if _, err := e.areas.Accounts.CreateUser(ctx, email, pw, e.a.ID, role, t0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.areas.Accounts.CreateUser(ctx, "owner@b.test", pw, e.b.ID, nightjar.RoleOwner, t0); err != nil {
		t.Fatal(err)
	}
	e.checkA, e.checkB = nightjar.NewCheck(e.a.ID, "alpha job"), nightjar.NewCheck(e.b.ID, "beta job")
	for _, c := range []*nightjar.Check{e.checkA, e.checkB} {
		if err := e.areas.Checks.Create(ctx, c, t0); err != nil {
			t.Fatal(err)
		}
	}
	cfg.BaseURL = "http://nightjar.test"
	c, err := New(db, e.areas, e.clock, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, p := range Paths() {
		mux.Handle(p, c)
	}
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// client is a browser-like HTTP client with its own cookies.
type client struct {
	e    *env
	http *http.Client
	csrf string
	// forwardedFor, when set, is sent as X-Forwarded-For, as a reverse
	// proxy in front of the server would.
	forwardedFor string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// clientFrom is a client whose connections come from another loopback
// address (127.0.0.0/8 is all the loopback's), so the server sees another
// client.
func (e *env) clientFrom(ip string) *client {
	c := e.client()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c.http.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}

func (c *client) do(method, path string, form url.Values) *http.Response {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", c.forwardedFor)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return res
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) get(path string) (int, string) {
	c.e.t.Helper()
	res := c.do("GET", path, nil)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	if res.StatusCode == http.StatusSeeOther {
		return res.StatusCode, res.Header.Get("Location")
	}
	return res.StatusCode, string(b)
}

func (c *client) post(path string, form url.Values) (int, string) {
	c.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", c.csrf)
	}
	res := c.do("POST", path, form)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	if res.StatusCode == http.StatusSeeOther {
		return res.StatusCode, res.Header.Get("Location")
	}
	return res.StatusCode, string(b)
}

func (e *env) login(email string) *client {
	e.t.Helper()
	c := e.client()
	c.get("/login")
	status, loc := c.post("/login", url.Values{"email": {email}, "password": {pw}, "next": {"/"}})
	if status != http.StatusSeeOther || loc != "/" {
		e.t.Fatalf("login %s: %d %s", email, status, loc)
	}
	c.get("/") // picks up the session's CSRF token
	return c
}

func TestLoginLogout(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		anon := e.client()
		if status, loc := anon.get("/checks"); status != http.StatusSeeOther || loc != "/login?next=%2Fchecks" {
			t.Fatalf("anonymous /checks: %d %s", status, loc)
		}
		anon.get("/login")
		if status, body := anon.post("/login", url.Values{"email": {"owner@a.test"}, "password": {"wrong password!"}}); status != http.StatusUnauthorized || !strings.Contains(body, "Wrong email or password") {
			t.Fatalf("wrong password: %d", status)
		}
		// A login form without the matching cookie token is refused.
		other := e.client()
		if status, _ := other.post("/login", url.Values{"email": {"owner@a.test"}, "password": {pw}, "csrf": {"forged"}}); status != http.StatusForbidden {
			t.Fatalf("forged login: %d", status)
		}
		// next may only be a local path.
		anon.get("/login")
		if status, loc := anon.post("/login", url.Values{"email": {"owner@a.test"}, "password": {pw}, "next": {"//evil.example/x"}}); status != http.StatusSeeOther || loc != "/" {
			t.Fatalf("open redirect: %d %s", status, loc)
		}
		if status, body := anon.get("/"); status != 200 || !strings.Contains(body, "owner@a.test") {
			t.Fatalf("overview after login: %d", status)
		}
		if status, loc := anon.post("/logout", nil); status != http.StatusSeeOther || loc != "/login" {
			t.Fatalf("logout: %d %s", status, loc)
		}
		if status, _ := anon.get("/"); status != http.StatusSeeOther {
			t.Fatalf("after logout: %d", status)
		}
	})
}

// Every page that names a check answers 404 for another project's check,
// for every role; forms without the CSRF token are refused.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		routes := []struct {
			method, path string
			need         nightjar.Role
		}{
			{"GET", "/checks/%s", nightjar.NeedRead},
			{"GET", "/checks/%s/edit", nightjar.NeedWrite},
			{"POST", "/checks/%s/edit", nightjar.NeedWrite},
			{"POST", "/checks/%s/pause", nightjar.NeedWrite},
			{"POST", "/checks/%s/resume", nightjar.NeedWrite},
			{"POST", "/checks/%s/delete", nightjar.NeedWrite},
			{"GET", "/checks/%s/pings/1", nightjar.NeedRead},
		}
		for _, email := range []string{"owner@a.test", "member@a.test", "viewer@a.test"} {
			c := e.login(email)
			m, _ := e.areas.Accounts.UserByEmail(context.Background(), email)
			ms, _ := e.areas.Accounts.Membership(context.Background(), e.a.ID, m.ID)
			for _, rt := range routes {
				path := strings.Replace(rt.path, "%s", e.checkB.ID, 1)
				var status int
				if rt.method == "GET" {
					status, _ = c.get(path)
				} else {
					status, _ = c.post(path, url.Values{"name": {"hijack"}, "kind": {"simple"}, "timeout": {"3600"}, "grace": {"3600"}})
				}
				want := http.StatusNotFound
				if !ms.Role.AtLeast(rt.need) {
					want = http.StatusForbidden // the role check comes first and says nothing about the check
				}
				if status != want {
					t.Errorf("%s %s %s (foreign check): %d, want %d", email, rt.method, rt.path, status, want)
				}
				// The own project's check: allowed or forbidden by role.
				own := strings.Replace(rt.path, "%s", e.checkA.ID, 1)
				if rt.method == "GET" && !strings.Contains(own, "/pings/") {
					status, _ = c.get(own)
					if ms.Role.AtLeast(rt.need) != (status == http.StatusOK) {
						t.Errorf("%s GET %s: %d", email, own, status)
					}
				}
			}
			// CSRF: a POST without the token is refused before anything happens.
			res, err := c.http.PostForm(e.srv.URL+"/checks/"+e.checkA.ID+"/pause", url.Values{})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s pause without CSRF token: %d", email, res.StatusCode)
			}
		}
		got, _ := checksOf(db).Get(context.Background(), e.b.ID, e.checkB.ID)
		if got.Name != "beta job" || got.State.Status != nightjar.StatusNew {
			t.Fatalf("project B's check was changed: %+v", got)
		}
		a, _ := checksOf(db).Get(context.Background(), e.a.ID, e.checkA.ID)
		if a.State.Status == nightjar.StatusPaused {
			t.Fatal("a POST without CSRF token paused the check")
		}
	})
}

func TestViewerCannotEdit(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		v := e.login("viewer@a.test")
		status, body := v.get("/checks/" + e.checkA.ID)
		if status != 200 || strings.Contains(body, "/edit") || strings.Contains(body, "Delete check") {
			t.Fatalf("viewer sees edit controls: %d", status)
		}
		if status, _ := v.post("/checks/"+e.checkA.ID+"/pause", nil); status != http.StatusForbidden {
			t.Fatalf("viewer pause: %d", status)
		}
		if status, _ := v.get("/checks/new"); status != http.StatusForbidden {
			t.Fatalf("viewer new check: %d", status)
		}
	})
}

func TestCreateEditCheck(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.login("member@a.test")
		m.get("/checks/new")
		form := url.Values{"name": {"Nightly backup"}, "kind": {"cron"}, "schedule": {"30 2 * * *"}, "tz": {"Europe/Berlin"},
			"grace": {"600"}, "timeout": {"86400"}, "early_tolerance": {"60"}, "max_runtime": {"3600"}, "min_runtime": {"5"},
			"failure_threshold": {"2"}, "realert_interval": {"0"}, "metric_rules": {"bytes >= 0.5 * previous\n"}, "tags": {"prod db"}}
		status, loc := m.post("/checks/new", form)
		if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/checks/") {
			t.Fatalf("create: %d %s", status, loc)
		}
		id := strings.TrimPrefix(loc, "/checks/")
		c, err := checksOf(db).Get(context.Background(), e.a.ID, id)
		if err != nil || c.Schedule != "30 2 * * *" || c.TZ != "Europe/Berlin" || c.MaxRuntime != time.Hour || c.FailureThreshold != 2 || len(c.MetricRules) != 1 || c.Slug != "nightly-backup" {
			t.Fatalf("created: %+v %v", c, err)
		}
		status, body := m.get("/checks/" + id + "/edit")
		if status != 200 || !strings.Contains(body, "At 02:30 every day") || !strings.Contains(body, "2026-03-01 02:30") && !strings.Contains(body, "02:30 CET") {
			t.Fatalf("edit form preview: %d", status)
		}
		form.Set("schedule", "99 * * * *")
		status, body = m.post("/checks/"+id+"/edit", form)
		if status != http.StatusBadRequest || !strings.Contains(body, "minute") {
			t.Fatalf("bad schedule: %d", status)
		}
		form.Set("schedule", "0 4 * * *")
		form.Set("grace", "abc")
		if status, body = m.post("/checks/"+id+"/edit", form); status != http.StatusBadRequest || !strings.Contains(body, "must be a duration such as 90s, 15m, 1h or 2d") {
			t.Fatalf("bad grace: %d", status)
		}
		form.Set("grace", "900")
		if status, _ = m.post("/checks/"+id+"/edit", form); status != http.StatusSeeOther {
			t.Fatalf("update: %d", status)
		}
		c, _ = checksOf(db).Get(context.Background(), e.a.ID, id)
		if c.Schedule != "0 4 * * *" || c.Grace != 15*time.Minute {
			t.Fatalf("updated: %+v", c)
		}
		// Bulk pause skips ids of other projects.
		m.get("/checks")
		status, _ = m.post("/checks/bulk", url.Values{"action": {"pause"}, "id": {id, e.checkB.ID}})
		if status != http.StatusSeeOther {
			t.Fatalf("bulk: %d", status)
		}
		c, _ = checksOf(db).Get(context.Background(), e.a.ID, id)
		b, _ := checksOf(db).Get(context.Background(), e.b.ID, e.checkB.ID)
		if c.State.Status != nightjar.StatusPaused || b.State.Status == nightjar.StatusPaused {
			t.Fatalf("bulk pause: own %s, foreign %s", c.State.Status, b.State.Status)
		}
		log, _ := e.areas.Audit.List(context.Background(), e.a.ID, 10)
		if len(log) < 3 || log[len(log)-1].Action != "check.create" || log[len(log)-1].Actor != "member@a.test" {
			t.Fatalf("audit: %+v", log)
		}
	})
}

func TestSwitchProject(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		bob, _ := e.areas.Accounts.UserByEmail(ctx, "owner@b.test")
		if err := e.areas.Accounts.AddMember(ctx, nightjar.RoleOwner, e.a.ID, bob.ID, nightjar.RoleViewer, t0); err != nil {
			t.Fatal(err)
		}
		c := e.login("owner@b.test")
		_, body := c.get("/")
		if !strings.Contains(body, `id="project-switch"`) {
			t.Fatal("no project switcher for a user of two projects")
		}
		target := e.a
		if strings.Contains(body, "Overview <span class=\"muted\">· Alpha") {
			target = e.b
		}
		if status, _ := c.post("/project", url.Values{"project": {target.ID}}); status != http.StatusSeeOther {
			t.Fatalf("switch: %d", status)
		}
		if _, body = c.get("/"); !strings.Contains(body, "· "+target.Name) {
			t.Fatalf("after switching to %s the overview shows another project", target.Name)
		}
		outsider := &nightjar.Project{Name: "Gamma"}
		if err := e.areas.Projects.Create(ctx, outsider, t0); err != nil {
			t.Fatal(err)
		}
		if status, _ := c.post("/project", url.Values{"project": {outsider.ID}}); status != http.StatusNotFound {
			t.Fatalf("switch to a foreign project: %d", status)
		}
		if _, body = c.get("/"); strings.Contains(body, "Gamma") {
			t.Fatal("a foreign project is shown")
		}
	})
}

// The check form takes OnCalendar schedules (the kind follows the
// syntax) and refuses schedules that never run, naming the schedule.
func TestCheckFormSchedules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.login("member@a.test")
		m.get("/checks/new")
		form := url.Values{"name": {"Weekdays"}, "kind": {"cron"}, "schedule": {"Mon..Fri *-*-* 09:00\r\nSat 12:00"}, "tz": {"Europe/Riga"},
			"grace": {"600"}, "timeout": {"86400"}, "early_tolerance": {"60"}, "failure_threshold": {"1"}}
		status, loc := m.post("/checks/new", form)
		if status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", status, loc)
		}
		id := strings.TrimPrefix(loc, "/checks/")
		c, err := checksOf(db).Get(context.Background(), e.a.ID, id)
		if err != nil || c.Kind != nightjar.KindOnCalendar || c.Schedule != "Mon..Fri *-*-* 09:00\nSat 12:00" {
			t.Fatalf("created: %+v %v", c, err)
		}
		if status, body := m.get("/checks/" + id + "/edit"); status != 200 || !strings.Contains(body, "OnCalendar: Mon..Fri *-*-* 09:00; Sat 12:00") {
			t.Fatalf("edit form preview: %d", status)
		}
		for _, never := range []string{"0 0 31 2 *", "2020-01-01"} {
			form.Set("schedule", never)
			if status, body := m.post("/checks/"+id+"/edit", form); status != http.StatusBadRequest || !strings.Contains(body, "never runs within 10 years") {
				t.Errorf("schedule %q: %d", never, status)
			}
			if status, body := m.post("/checks/new", form); status != http.StatusBadRequest || !strings.Contains(body, "never runs within 10 years") {
				t.Errorf("new check with schedule %q: %d", never, status)
			}
		}
	})
}
