package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// flipsOf returns the flips of a v3 flips answer as "up@offset" strings,
// the offset from t0.
func flipsOf(t *testing.T, r resp) []string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("flips: %d %s", r.status, r.body)
	}
	list, ok := r.json(t)["flips"].([]any)
	if !ok {
		t.Fatalf(`flips answer has no "flips" list: %s`, r.body)
	}
	out := []string{}
	for _, f := range list {
		m := f.(map[string]any)
		at, err := time.Parse("2006-01-02T15:04:05-07:00", m["timestamp"].(string))
		if err != nil {
			t.Fatalf("flip timestamp: %v", err)
		}
		out = append(out, strconv.Itoa(int(m["up"].(float64)))+"@"+at.Sub(t0).String())
	}
	return out
}

// Flips come as {"flips": [...]}, as Healthchecks' own code answers, and
// pause and resume are flips (up 0), while late, Healthchecks' grace
// period, is none. The start, end and seconds filters all apply.
func TestV3Flips(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{})
		id := e.createCheck(map[string]any{"name": "flippy", "timeout": 3600, "grace": 60})
		tick := func(d time.Duration) {
			t.Helper()
			e.clock.Set(t0.Add(d))
			if _, err := e.checks.ProcessDue(ctx, e.clock.Now(), 100); err != nil {
				t.Fatal(err)
			}
		}
		e.do("POST", "/ping/"+id, "", nil) // new → up
		tick(time.Hour + time.Second)      // up → late: no flip in Healthchecks
		tick(time.Hour + 61*time.Second)   // late → down
		e.clock.Set(t0.Add(2 * time.Hour))
		e.do("POST", "/ping/"+id, "", nil) // down → up
		e.clock.Set(t0.Add(3 * time.Hour))
		if r := e.do("POST", "/api/v3/checks/"+id+"/pause", e.rw, nil); r.status != 200 {
			t.Fatalf("pause: %d %s", r.status, r.body)
		}
		e.clock.Set(t0.Add(4 * time.Hour))
		r := e.do("POST", "/api/v3/checks/"+id+"/resume", e.rw, nil)
		if r.status != 200 {
			t.Fatalf("resume: %d %s", r.status, r.body)
		}
		// Resuming forgets the last ping, as in Healthchecks.
		if c := r.json(t); c["status"] != "new" || c["last_ping"] != nil {
			t.Errorf("resumed check: status %v, last_ping %v; want new and null", c["status"], c["last_ping"])
		}

		base := "/api/v3/checks/" + id + "/flips/"
		all := []string{"0@4h0m0s", "0@3h0m0s", "1@2h0m0s", "0@1h1m1s", "1@0s"}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", all},
			{"?end=" + unix(3*time.Hour), all[2:]}, // end is exclusive
			{"?start=" + unix(2*time.Hour), all[:3]},
			{"?seconds=3600", all[:2]},
			{"?seconds=3600&start=" + unix(4*time.Hour+time.Second), []string{}},
			{"?start=0&end=0&seconds=0", all}, // zeros are no filter
		} {
			if got := flipsOf(t, e.do("GET", base+tc.query, e.rw, nil)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("flips%s = %v, want %v", tc.query, got, tc.want)
			}
		}
		// The read-only form by unique key answers the same.
		key := e.do("GET", "/api/v3/checks/"+id, e.ro, nil).json(t)["unique_key"].(string)
		if got := flipsOf(t, e.do("GET", "/api/v3/checks/"+key+"/flips/", e.ro, nil)); !reflect.DeepEqual(got, all) {
			t.Errorf("flips by unique key = %v, want %v", got, all)
		}
		for _, q := range []string{"start=-1", "end=10000000001", "seconds=31536001", "start=soon"} {
			r := e.do("GET", base+"?"+q, e.rw, nil)
			field, _, _ := strings.Cut(q, "=")
			if r.status != 400 || r.json(t)["field"] != field {
				t.Errorf("flips?%s: %d %s, want 400 naming %s", q, r.status, r.body, field)
			}
		}
	})
}

func unix(d time.Duration) string { return strconv.FormatInt(t0.Add(d).Unix(), 10) }

// A ping to a paused check that resumes only by hand is logged as
// ignored ("ign") and leaves the check paused, as in Healthchecks.
func TestV3ManualResumePingIsIgnored(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		id := e.createCheck(map[string]any{"name": "manual", "manual_resume": true})
		e.do("POST", "/ping/"+id, "", nil)
		e.do("POST", "/api/v3/checks/"+id+"/pause", e.rw, nil)
		e.clock.Advance(time.Minute)
		if r := e.do("POST", "/ping/"+id, "", "hello"); r.status != 200 {
			t.Fatalf("ping: %d %s", r.status, r.body)
		}
		pings := e.do("GET", "/api/v3/checks/"+id+"/pings/", e.rw, nil).json(t)["pings"].([]any)
		if kind := pings[0].(map[string]any)["type"]; kind != "ign" {
			t.Errorf("ping to a manually resumed paused check: type %v, want ign", kind)
		}
		c := e.do("GET", "/api/v3/checks/"+id, e.rw, nil).json(t)
		if c["status"] != "paused" || c["n_pings"].(float64) != 2 || c["last_ping"] != "2026-03-01T12:00:00+00:00" {
			t.Errorf("check after the ignored ping: status %v, n_pings %v, last_ping %v", c["status"], c["n_pings"], c["last_ping"])
		}
	})
}

// A read-only key's view of a check leaves out the UUID, the URLs that
// carry it and the channels, as Healthchecks does: the keys are absent,
// not null.
func TestV3ReadOnlyView(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		id := e.createCheck(map[string]any{"name": "ro"})
		secret := []string{"uuid", "ping_url", "update_url", "pause_url", "resume_url", "channels"}
		for _, path := range []string{"/api/v3/checks/" + id, "/api/v3/checks/"} {
			rw, ro := e.do("GET", path, e.rw, nil).json(t), e.do("GET", path, e.ro, nil).json(t)
			if list, ok := rw["checks"].([]any); ok {
				rw, ro = list[0].(map[string]any), ro["checks"].([]any)[0].(map[string]any)
			}
			for _, k := range secret {
				if _, ok := rw[k]; !ok {
					t.Errorf("%s: read-write view lacks %s", path, k)
				}
				if v, ok := ro[k]; ok {
					t.Errorf("%s: read-only view has %s = %v; Healthchecks leaves it out", path, k, v)
				}
			}
			if _, ok := rw["unique_key"]; ok {
				t.Errorf("%s: read-write view has a unique_key", path)
			}
			if k, _ := ro["unique_key"].(string); len(k) != 40 {
				t.Errorf("%s: read-only view's unique_key = %v", path, ro["unique_key"])
			}
		}
	})
}

// filter_http_body and filter_default_fail are taken, shown and applied
// with Healthchecks' rules; last_duration appears only when the last
// finish closed a run.
func TestV3HTTPBodyFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		r := e.do("POST", "/api/v3/checks/", e.rw, map[string]any{"name": "filtered", "filter_http_body": true,
			"success_kw": "SUCCESS", "failure_kw": "FAIL", "start_kw": "START"})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		c := r.json(t)
		id := c["uuid"].(string)
		if c["filter_http_body"] != true || c["filter_default_fail"] != false {
			t.Fatalf("created: filter_http_body %v, filter_default_fail %v", c["filter_http_body"], c["filter_default_fail"])
		}
		if _, ok := c["last_duration"]; ok {
			t.Errorf("a new check has a last_duration: %v", c["last_duration"])
		}
		kindOf := func() string {
			t.Helper()
			return e.do("GET", "/api/v3/checks/"+id+"/pings/", e.rw, nil).json(t)["pings"].([]any)[0].(map[string]any)["type"].(string)
		}
		for _, tc := range []struct{ path, body, want string }{
			{"", "STARTING", "start"},
			{"", "SUCCESS!", "success"},
			{"", "hello world", "ign"},
			{"/fail", "SUCCESS", "success"}, // the body decides, whatever the URL
			{"/log", "just a line", "ign"},
			{"/0", "FAIL", "fail"},
		} {
			e.clock.Advance(time.Minute)
			e.do("POST", "/ping/"+id+tc.path, "", tc.body)
			if got := kindOf(); got != tc.want {
				t.Errorf("ping%s %q: %s, want %s", tc.path, tc.body, got, tc.want)
			}
		}
		r = e.do("POST", "/api/v3/checks/"+id, e.rw, map[string]any{"filter_default_fail": true})
		if r.status != 200 || r.json(t)["filter_default_fail"] != true {
			t.Fatalf("update: %d %s", r.status, r.body)
		}
		e.do("POST", "/ping/"+id, "", "no keywords")
		if got := kindOf(); got != "fail" {
			t.Errorf("with filter_default_fail, a body without keywords: %s, want fail", got)
		}
		// A run that START began and SUCCESS finished has a duration.
		e.do("POST", "/api/v3/checks/"+id, e.rw, map[string]any{"filter_http_body": false, "filter_default_fail": false})
		e.do("POST", "/ping/"+id+"/start", "", nil)
		e.clock.Advance(90 * time.Second)
		e.do("POST", "/ping/"+id, "", nil)
		if d := e.do("GET", "/api/v3/checks/"+id, e.rw, nil).json(t)["last_duration"]; d != 90.0 {
			t.Errorf("last_duration after a 90 s run = %v, want 90", d)
		}
		e.do("POST", "/ping/"+id, "", nil)
		if d, ok := e.do("GET", "/api/v3/checks/"+id, e.rw, nil).json(t)["last_duration"]; ok {
			t.Errorf("last_duration after a finish without a run = %v, want none", d)
		}
		if r := e.do("POST", "/api/v3/checks/"+id, e.rw, map[string]any{"filter_http_body": "yes"}); r.status != 400 || r.json(t)["field"] != "filter_http_body" {
			t.Errorf("filter_http_body \"yes\": %d %s", r.status, r.body)
		}
	})
}

// badge_url serves the check's status badge as Healthchecks' does: SVG,
// JSON or a shields.io endpoint, two states (up, down) or three (late).
func TestCheckBadge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{})
		id := e.createCheck(map[string]any{"name": "nightly <db> backup", "timeout": 3600, "grace": 60})
		url, _ := e.do("GET", "/api/v3/checks/"+id, e.rw, nil).json(t)["badge_url"].(string)
		if url == "" || !strings.HasPrefix(url, "http://nightjar.test/b/2/") || !strings.HasSuffix(url, ".svg") || strings.Contains(url, id) {
			t.Fatalf("badge_url = %q: want a /b/2/<key>.svg URL that does not contain the UUID", url)
		}
		if ro := e.do("GET", "/api/v3/checks/"+id, e.ro, nil).json(t)["badge_url"]; ro != url {
			t.Errorf("read-only badge_url = %v, want %s", ro, url)
		}
		if v1 := e.check(id)["badge_url"]; v1 != url {
			t.Errorf("v1 badge_url = %v, want %s", v1, url)
		}
		path := strings.TrimPrefix(url, "http://nightjar.test")
		three := strings.Replace(path, "/b/2/", "/b/3/", 1)
		get := func(p string) resp {
			t.Helper()
			r := e.do("GET", p, "", nil)
			if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("GET %s: %d %v %s", p, r.status, r.header, r.body)
			}
			return r
		}
		svg := get(path)
		if ct := svg.header.Get("Content-Type"); ct != "image/svg+xml" || !strings.Contains(string(svg.body), ">up</text>") ||
			!strings.Contains(string(svg.body), "nightly &lt;db&gt; backup") {
			t.Errorf("new check's SVG badge (%s): %s", ct, svg.body)
		}
		e.do("POST", "/ping/"+id, "", nil)
		e.clock.Advance(time.Hour + time.Second)
		if _, err := e.checks.ProcessDue(ctx, e.clock.Now(), 10); err != nil {
			t.Fatal(err)
		}
		if b := string(get(path).body); !strings.Contains(b, ">up</text>") {
			t.Errorf("two-state badge of a late check: %s", b)
		}
		if b := string(get(three).body); !strings.Contains(b, ">late</text>") || !strings.Contains(b, "#fe7d37") {
			t.Errorf("three-state badge of a late check: %s", b)
		}
		j := get(strings.Replace(three, ".svg", ".json", 1)).json(t)
		if j["status"] != "late" || j["total"] != 1.0 || j["grace"] != 1.0 || j["down"] != 0.0 {
			t.Errorf("JSON badge of a late check: %v", j)
		}
		e.clock.Advance(time.Minute)
		if _, err := e.checks.ProcessDue(ctx, e.clock.Now(), 10); err != nil {
			t.Fatal(err)
		}
		sh := get(strings.Replace(path, ".svg", ".shields", 1)).json(t)
		if sh["schemaVersion"] != 1.0 || sh["label"] != "nightly <db> backup" || sh["message"] != "down" || sh["color"] != "critical" {
			t.Errorf("shields badge of a down check: %v", sh)
		}
		for _, p := range []string{"/b/2/" + id + ".svg", strings.Replace(path, ".svg", ".png", 1), "/b/x/" + strings.TrimPrefix(path, "/b/2/"), "/b/2/.svg"} {
			if r := e.do("GET", p, "", nil); r.status != 404 {
				t.Errorf("GET %s: %d, want 404", p, r.status)
			}
		}
	})
}

// The API answers browsers: every answer carries CORS headers naming the
// URL's methods, and a preflight OPTIONS gets 204 without an API key.
func TestAPICORS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		id := e.createCheck(map[string]any{"name": "cors"})
		for _, tc := range []struct{ method, path, key, methods string }{
			{"OPTIONS", "/api/v3/checks/", "", "GET, POST, OPTIONS"},
			{"OPTIONS", "/api/v3/checks/" + id, "", "GET, POST, DELETE, OPTIONS"},
			{"OPTIONS", "/api/v3/checks/" + id + "/pause", "", "POST, OPTIONS"},
			{"OPTIONS", "/api/v1/checks/" + id, "", "GET, PATCH, DELETE, OPTIONS"},
			{"GET", "/api/v3/checks/", e.ro, "GET, POST, OPTIONS"},
			{"GET", "/api/v3/checks/", "", "GET, POST, OPTIONS"}, // a 401 too
			{"GET", "/api/v3/checks/" + id + "/flips/", e.ro, "GET, OPTIONS"},
		} {
			r := e.do(tc.method, tc.path, tc.key, nil, "Origin", "https://dash.example", "Access-Control-Request-Method", "POST")
			want := 200
			switch {
			case tc.method == "OPTIONS":
				want = 204
			case tc.key == "":
				want = 401
			}
			h := r.header
			if r.status != want || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Methods") != tc.methods ||
				!strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-Api-Key") || h.Get("Access-Control-Max-Age") != "600" {
				t.Errorf("%s %s: %d, CORS headers %v; want %d and methods %q", tc.method, tc.path, r.status, h, want, tc.methods)
			}
		}
		if r := e.do("OPTIONS", "/api/v3/nothing-here", "", nil); r.status != 404 {
			t.Errorf("OPTIONS on an unknown API URL: %d, want 404", r.status)
		}
	})
}

// rawPost sends a POST of body (or, when declared is larger, a request
// that declares declared bytes but sends only body) over a plain TCP
// connection and reads the answer. A server that answers and closes
// before reading what the client sends shows here as a write or read
// error ("connection reset", "broken pipe").
func rawPost(t *testing.T, e *env, path string, body []byte, declared int) (*http.Response, []byte, error) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute)) // a hang fails the test instead of the run
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: nightjar.test\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", path, declared)
	if _, err := conn.Write(append([]byte(head), body...)); err != nil {
		return nil, nil, fmt.Errorf("send: %w", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("read answer: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

// A body far over the ping body limit is read to its end, the excess
// discarded, before the ping is answered, so the client sees the answer
// rather than a reset connection; one over the request bound is refused
// whole with 413 and records nothing.
func TestLargePingBodyIsReadBeforeAnswering(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{PingBodyLimit: 1000})
		id := e.createCheck(map[string]any{"name": "big"})
		body := bytes.Repeat([]byte("0123456789abcdef"), 30<<20/16) // 30 MiB, as curl --data-binary @30MB.bin
		res, answer, err := rawPost(t, e, "/ping/"+id, body, len(body))
		if err != nil {
			t.Fatalf("30 MiB ping: %v", err)
		}
		if res.StatusCode != 200 || string(answer) != "OK" {
			t.Fatalf("30 MiB ping: %d %q", res.StatusCode, answer)
		}
		stored := e.do("GET", "/api/v3/checks/"+id+"/pings/1/body", e.rw, nil)
		want := fmt.Sprintf("[nightjar: body truncated, first 1000 bytes kept, %d more dropped]", len(body)-1000)
		if !strings.HasSuffix(string(stored.body), want) {
			t.Errorf("stored body ends %q, want %q", stored.body[max(0, len(stored.body)-80):], want)
		}
		// Declared too large: refused at once, without reading.
		res, answer, err = rawPost(t, e, "/ping/"+id, []byte("small"), maxPingRequest+1)
		if err != nil || res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(answer), "at most 67108864 bytes") {
			t.Fatalf("declared %d bytes: %v %v %q", maxPingRequest+1, err, res, answer)
		}
		// Sent chunked and too large: read up to the bound, then refused.
		req, _ := http.NewRequest("POST", e.srv.URL+"/ping/"+id, io.MultiReader(bytes.NewReader(body), bytes.NewReader(body), bytes.NewReader(body)))
		req.ContentLength = -1
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("chunked 90 MiB ping: %v", err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked 90 MiB ping: %d, want 413", r.StatusCode)
		}
		if n := e.do("GET", "/api/v3/checks/"+id, e.rw, nil).json(t)["n_pings"]; n != 1.0 {
			t.Errorf("n_pings = %v, want 1: a refused ping must not be recorded", n)
		}
		// An unknown check is answered after the body is read too.
		res, answer, err = rawPost(t, e, "/ping/5f9a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b", body, len(body))
		if err != nil || res.StatusCode != 404 {
			t.Fatalf("30 MiB ping to an unknown check: %v %v %q", err, res, answer)
		}
	})
}

// Systemd OnCalendar schedules, which Healthchecks accepts, make
// oncalendar checks whose next ping follows the schedule, in the check's
// time zone or the expression's own.
func TestOnCalendarChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		e.clock.Set(time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)) // a Friday
		r := e.do("POST", "/api/v3/checks/", e.rw, map[string]any{"name": "weekdays", "schedule": "Mon..Fri *-*-* 09:00", "tz": "Europe/Riga", "grace": 600})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		c := r.json(t)
		id := c["uuid"].(string)
		if c["schedule"] != "Mon..Fri *-*-* 09:00" || c["tz"] != "Europe/Riga" || c["timeout"] != nil {
			t.Fatalf("created: %v", c)
		}
		if k := e.check(id)["kind"]; k != "oncalendar" {
			t.Fatalf("v1 kind = %v, want oncalendar", k)
		}
		e.do("POST", "/ping/"+id, "", nil)
		if next := e.do("GET", "/api/v3/checks/"+id, e.rw, nil).json(t)["next_ping"]; next != "2026-03-09T07:00:00+00:00" {
			t.Errorf("next_ping = %v, want Monday 09:00 in Riga", next)
		}
		// Several lines, one with its own zone.
		r = e.do("POST", "/api/v3/checks/"+id, e.rw, map[string]any{"schedule": "Sat,Sun 10:00\nMon..Fri 09:00 America/New_York"})
		if r.status != 200 || r.json(t)["schedule"] != "Sat,Sun 10:00\nMon..Fri 09:00 America/New_York" {
			t.Fatalf("update: %d %s", r.status, r.body)
		}
		if next := e.do("GET", "/api/v3/checks/"+id, e.rw, nil).json(t)["next_ping"]; next != "2026-03-06T14:00:00+00:00" {
			t.Errorf("next_ping = %v, want Friday 09:00 in New York", next)
		}
		// Back to cron: the kind follows the syntax.
		e.do("POST", "/api/v3/checks/"+id, e.rw, map[string]any{"schedule": "0 9 * * 1-5"})
		if k := e.check(id)["kind"]; k != "cron" {
			t.Errorf("kind after a cron schedule = %v", k)
		}
		p := e.do("GET", "/api/v1/schedule/preview?schedule="+url.QueryEscape("*-*~1 18:00")+"&tz=UTC&after=2026-03-06T00:00:00Z&n=2", "", nil)
		if next := p.json(t)["next"]; p.status != 200 || !reflect.DeepEqual(next, []any{"2026-03-31T18:00:00Z", "2026-04-30T18:00:00Z"}) {
			t.Errorf("OnCalendar preview: %d %s", p.status, p.body)
		}
	})
}

// Schedules that never run, or not within ten years, get a 400 naming the
// schedule in both APIs, on create and on update.
func TestNeverRunningScheduleIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		id := e.createCheck(map[string]any{"name": "c", "schedule": "0 0 * * *"})
		for _, expr := range []string{"0 0 31 2 *", "0 0 30 2 *", "0 0 * 2 MON#5", "*-02-30", "2020-06-01", "2199-01-01"} {
			for _, req := range []struct{ method, path string }{
				{"POST", "/api/v3/checks/"}, {"POST", "/api/v1/checks"}, {"POST", "/api/v3/checks/" + id}, {"PATCH", "/api/v1/checks/" + id},
			} {
				r := e.do(req.method, req.path, e.rw, map[string]any{"name": "never", "schedule": expr})
				if r.status != 400 || r.json(t)["field"] != "schedule" || !strings.Contains(r.json(t)["error"].(string), "never runs") {
					t.Errorf("%s %s with %q: %d %s", req.method, req.path, expr, r.status, r.body)
				}
			}
		}
		if r := e.do("GET", "/api/v3/checks/"+id, e.rw, nil); r.json(t)["schedule"] != "0 0 * * *" {
			t.Errorf("a refused update changed the schedule: %s", r.body)
		}
	})
}

// The unique key is Healthchecks' own, so keys saved from Healthchecks
// open the same check here.
func TestUniqueKeyIsHealthchecks(t *testing.T) {
	// sha1("07c2f54898504b27"), the first 16 hex digits of the UUID.
	const id = "07c2f548-9850-4b27-af5d-6c9dc157ec02"
	sum := sha1.Sum([]byte("07c2f54898504b27"))
	if got, want := uniqueKey(id), hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("uniqueKey(%s) = %s, want %s", id, got, want)
	}
}

// Healthchecks' clients fetch a check, change a field or two and post the
// whole object back, to update it or to make a copy. The fields
// Healthchecks computes (uuid, URLs, status, started, last and next ping,
// counts, durations, badge, unique key) are taken and ignored, as
// Healthchecks ignores them; a field it does not know is still a 400.
func TestV3WholeObjectRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		for _, name := range []string{"ops", "dev"} {
			e.do("POST", "/api/v1/channels", e.rw, map[string]any{"kind": "webhook", "name": name, "config": map[string]any{"url": "https://" + name + ".example/hook"}})
		}
		id := e.createCheck(map[string]any{"name": "backup", "tags": "db prod", "desc": "pg_dump", "schedule": "0 3 * * *",
			"tz": "Europe/Berlin", "grace": 600, "channels": "ops", "methods": "POST", "success_kw": "OK"})
		// Give the check every computed field: pings, a finished run with a
		// duration, a run in progress, a next expected ping.
		e.do("POST", "/ping/"+id+"/start", "", "")
		e.clock.Advance(time.Minute)
		e.do("POST", "/ping/"+id, "", "OK")
		e.do("POST", "/ping/"+id+"/start", "", "")
		got := e.do("GET", "/api/v3/checks/"+id, e.rw, nil)
		obj := got.json(t)
		for _, k := range []string{"uuid", "ping_url", "update_url", "pause_url", "resume_url", "status", "started",
			"last_ping", "next_ping", "n_pings", "last_duration", "badge_url"} {
			if _, ok := obj[k]; !ok {
				t.Fatalf("set-up: the check object lacks %s: %s", k, got.body)
			}
		}
		ro := e.do("GET", "/api/v3/checks/"+id, e.ro, nil).json(t)

		// Update: the object as it came, with a new name and grace.
		obj["name"], obj["grace"] = "db backup", 1200.0
		r := e.do("POST", "/api/v3/checks/"+id, e.rw, obj)
		if r.status != 200 {
			t.Fatalf("posting back the whole object: %d %s", r.status, r.body)
		}
		after := r.json(t)
		for k, want := range map[string]any{"name": "db backup", "grace": 1200.0, "slug": "backup", "tags": "db prod", "desc": "pg_dump",
			"schedule": "0 3 * * *", "tz": "Europe/Berlin", "methods": "POST", "success_kw": "OK", "channels": obj["channels"],
			"n_pings": obj["n_pings"], "started": true, "last_ping": obj["last_ping"], "last_duration": 60.0, "uuid": id} {
			if after[k] != want {
				t.Errorf("after the round trip %s = %v, want %v", k, after[k], want)
			}
		}
		// Computed fields with other values, or of other types, change
		// nothing either: a check is paused and resumed only by its URLs.
		for k, v := range map[string]any{"status": "paused", "started": false, "n_pings": "many", "last_ping": nil,
			"uuid": "00000000-0000-0000-0000-000000000000", "unique_key": ro["unique_key"], "badge_url": 7} {
			obj[k] = v
		}
		if r := e.do("POST", "/api/v3/checks/"+id, e.rw, obj); r.status != 200 || r.json(t)["status"] == "paused" || r.json(t)["n_pings"] != after["n_pings"] {
			t.Fatalf("computed fields with other values: %d %s", r.status, r.body)
		}

		// Create: the same object makes a copy with the same settings.
		r = e.do("POST", "/api/v3/checks/", e.rw, obj)
		if r.status != 201 {
			t.Fatalf("creating from a whole object: %d %s", r.status, r.body)
		}
		c := r.json(t)
		if c["uuid"] == id || c["name"] != "db backup" || c["schedule"] != "0 3 * * *" || c["channels"] != obj["channels"] || c["n_pings"] != 0.0 || c["status"] != "new" {
			t.Errorf("the copy: %s", r.body)
		}

		// A read-only key's object (with unique_key, without uuid or
		// channels) works too.
		if r := e.do("POST", "/api/v3/checks/", e.rw, ro); r.status != 201 || r.json(t)["name"] != "backup" || r.json(t)["uuid"] == id {
			t.Errorf("creating from a read-only view: %d %s", r.status, r.body)
		}

		// What Healthchecks does not know is refused, by name.
		for _, field := range []string{"uuidd", "id", "kind", "created_at"} {
			body := map[string]any{"name": "x", field: "y"}
			for _, path := range []string{"/api/v3/checks/", "/api/v3/checks/" + id} {
				wantFieldError(t, "unknown "+field, e.do("POST", path, e.rw, body), field)
			}
		}
		// And v1, with its own object shape, takes none of v3's computed
		// fields.
		wantFieldError(t, "v1 with uuid", e.do("PATCH", "/api/v1/checks/"+id, e.rw, map[string]any{"uuid": id}), "uuid")
	})
}
