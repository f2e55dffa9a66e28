package console

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// "Since" on the overview is when the check went down, not when it was
// last edited; the reason stands beside the status.
func TestOverviewSinceIsTheStatusChange(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		exit := 2
		downAt := t0.Add(time.Minute)
		checkstestPing(t, e, &checks.PingRequest{CheckID: e.checkA.ID, Kind: nightjar.PingFail, ExitStatus: &exit, At: downAt})
		e.clock.Set(t0.Add(3 * time.Hour))
		m := e.login("member@a.test")
		form := url.Values{"name": {"alpha job"}, "kind": {"simple"}, "timeout": {"1d"}, "grace": {"1h"}, "desc": {"edited later"}, "failure_threshold": {"1"}, "tz": {"UTC"}}
		if status, _ := m.post("/checks/"+e.checkA.ID+"/edit", form); status != http.StatusSeeOther {
			t.Fatalf("edit: %d", status)
		}
		c, _ := e.areas.Checks.Get(ctx, e.a.ID, e.checkA.ID)
		if c.Timeout != 24*time.Hour || c.Grace != time.Hour {
			t.Fatalf("durations from the form: %s, %s", c.Timeout, c.Grace)
		}
		_, body := m.get("/")
		since := `datetime="` + downAt.Format(time.RFC3339) + `"`
		if !strings.Contains(body, since) || !strings.Contains(body, "the job exited with status 2") || !strings.Contains(body, "2 h 59 min ago") {
			t.Fatalf("overview lacks the down time %s, the reason or the relative time:\n%s", since, body)
		}
		if !strings.Contains(body, "<title>(1 down) Overview · Nightjar</title>") {
			t.Error("the tab title does not count the check down")
		}
		if raw := rfc3339.FindString(stripTags(body)); raw != "" {
			t.Errorf("raw time %s in the page's text", raw)
		}
	})
}

// stripTags leaves a page's text, roughly: what is between tags.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func checkstestPing(t *testing.T, e *env, req *checks.PingRequest) {
	t.Helper()
	if res := e.areas.Checks.RecordPings(context.Background(), []*checks.PingRequest{req}, 0); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
}

// "Needs attention" says how many checks are down when it lists only the
// first ones, and links to all of them; down comes before late and running.
func TestNeedsAttentionCountsAll(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db)
	ctx := context.Background()
	for i := 0; i < 107; i++ {
		c := nightjar.NewCheck(e.a.ID, fmt.Sprintf("down %03d", i))
		c.State.Status = nightjar.StatusDown
		if err := e.areas.Checks.Create(ctx, c, t0); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range []string{nightjar.StatusLate, nightjar.StatusStarted} {
		c := nightjar.NewCheck(e.a.ID, st+" one")
		c.State.Status = st
		c.State.LastStart = t0
		if err := e.areas.Checks.Create(ctx, c, t0); err != nil {
			t.Fatal(err)
		}
	}
	_, body := e.login("viewer@a.test").get("/")
	if !strings.Contains(body, "Showing 50 of 107 down checks") || !strings.Contains(body, `href="/checks?status=down">See all 107 down`) {
		t.Fatal("the overview does not give the true number of down checks")
	}
	d, l, s := strings.Index(body, "group-down"), strings.Index(body, "group-late"), strings.Index(body, "group-started")
	if d < 0 || l < d || s < l {
		t.Fatalf("order of down, late, started: %d %d %d", d, l, s)
	}
	if !strings.Contains(body, "running for") {
		t.Error("a running check does not say how long it has been running")
	}
}

// The small things a new user trips over: the crontab line fits the
// period, unknown paths get the styled page, /login when logged in moves
// on, and the only owner is not offered to remove themselves.
func TestConsoleSmallFixes(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db)
	ctx := context.Background()
	c := nightjar.NewCheck(e.a.ID, "every five")
	c.Timeout = 5 * time.Minute
	if err := e.areas.Checks.Create(ctx, c, t0); err != nil {
		t.Fatal(err)
	}
	o := e.login("owner@a.test")
	if _, body := o.get("/checks/" + c.ID); !strings.Contains(body, `value="*/5 * * * * /path/to/job.sh`) {
		t.Error("the crontab line of a 5-minute check is not */5")
	}
	for _, path := range []string{"/nope", "/checks/x/y/z", "/settings/nothing-here"} {
		status, body := o.get(path)
		if status != http.StatusNotFound || !strings.Contains(body, "<h1>Not found</h1>") || !strings.Contains(body, `href="/checks"`) {
			t.Errorf("%s: %d, styled page with navigation: %v", path, status, strings.Contains(body, "<h1>Not found</h1>"))
		}
	}
	if status, body := e.client().get("/nope"); status != http.StatusNotFound || !strings.Contains(body, "<h1>Not found</h1>") {
		t.Errorf("logged out, an unknown path: %d", status)
	}
	if status, loc := o.get("/login?next=%2Fchecks"); status != http.StatusSeeOther || loc != "/checks" {
		t.Errorf("logged in, /login: %d %q", status, loc)
	}
	_, body := o.get("/settings")
	if strings.Contains(body, "Remove owner@a.test") || !strings.Contains(body, "only owner") {
		t.Error("the only owner is offered to remove themselves")
	}
	if !strings.Contains(body, `data-confirm="Remove member@a.test`) {
		t.Error("other members cannot be removed")
	}
}

// syncBuffer is a log that tests read while the server writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// An unexpected error shows a generic page with the request id, and the
// log has the error under the same id.
func TestConsoleErrorNamesTheRequestID(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db)
	var log syncBuffer
	cons, err := New(db, e.areas, e.clock, slog.New(slog.NewTextHandler(&log, nil)), Config{BaseURL: "http://nightjar.test"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/checks/x", nil)
	cons.fail(rec, req.WithContext(context.Background()), fmt.Errorf("disk on fire"))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "disk on fire") {
		t.Fatalf("%d, leaks the error: %v", rec.Code, strings.Contains(rec.Body.String(), "disk on fire"))
	}
	// Through ServeHTTP, with the database gone.
	m := e.login("member@a.test")
	srv := httptest.NewServer(cons)
	t.Cleanup(srv.Close)
	m.e = &env{t: t, srv: srv}
	db.Close()
	res := m.do("GET", "/checks", nil)
	defer res.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(res.Body)
	id := res.Header.Get("X-Request-Id")
	if res.StatusCode != http.StatusInternalServerError || id == "" || !strings.Contains(body.String(), `<code class="request-id">`+id+`</code>`) {
		t.Fatalf("%d, id %q, page:\n%s", res.StatusCode, id, body.String())
	}
	if !strings.Contains(log.String(), "request_id="+id) {
		t.Fatalf("the log does not have request id %s:\n%s", id, log.String())
	}
}

// The audit log names what an API call changed in words and pages beyond
// 50 entries.
func TestAuditLogWordsAndPages(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db)
	ctx := context.Background()
	for i := 0; i < 60; i++ {
		entry := nightjar.AuditEntry{ProjectID: e.a.ID, Actor: "owner@a.test", Action: "check.update", Target: fmt.Sprintf("job %02d", i), CreatedAt: t0.Add(time.Duration(i) * time.Second)}
		if i == 59 {
			entry.Actor, entry.Action, entry.Target = "api key ci (nj_ab…)", "POST /api/v3/checks/{$}", "check backup (123)"
		}
		if err := e.areas.Audit.Record(ctx, entry); err != nil {
			t.Fatal(err)
		}
	}
	o := e.login("owner@a.test")
	_, body := o.get("/settings")
	if !strings.Contains(body, "<td>check.create (API v3)</td><td>check backup (123)") || strings.Contains(body, "{$}") {
		t.Error("the API call is not named in words")
	}
	if n := strings.Count(body, "<td>check.update</td>"); n != 49 || !strings.Contains(body, `href="/settings?audit=2#audit"`) {
		t.Errorf("first page: %d entries, link to older: %v", n, strings.Contains(body, "audit=2"))
	}
	_, body = o.get("/settings?audit=2")
	if n := strings.Count(body, "<td>check.update</td>"); n != 10 || !strings.Contains(body, "job 00") || strings.Contains(body, "Older →") {
		t.Errorf("second page: %d entries", n)
	}
	for action, want := range map[string]string{"DELETE /api/v1/checks/{id}": "check.delete (API v1)", "POST /api/v1/checks/{id}/pause": "check.pause (API v1)",
		"POST /api/v3/checks/{uuid}": "check.update (API v3)", "PATCH /api/v1/channels/{id}": "channel.update (API v1)", "member.add": "member.add"} {
		if got := auditAction(action); got != want {
			t.Errorf("auditAction(%q) = %q, want %q", action, got, want)
		}
	}
}

// A cron check's next expected time is also given in its own zone, named.
func TestNextExpectedInTheChecksZone(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db)
	c := nightjar.NewCheck(e.a.ID, "berlin job")
	c.Kind, c.Schedule, c.TZ = nightjar.KindCron, "30 3 * * *", "Europe/Berlin"
	c.State.ExpectedAt = time.Date(2026, 3, 3, 2, 30, 0, 0, time.UTC)
	if err := e.areas.Checks.Create(context.Background(), c, t0); err != nil {
		t.Fatal(err)
	}
	_, body := e.login("viewer@a.test").get("/checks/" + c.ID)
	if !strings.Contains(body, `<span class="muted" data-tz="Europe/Berlin">(Tue 03:30 CET, Europe/Berlin)</span>`) {
		t.Fatal("the next expected time is not given in the check's zone")
	}
}
