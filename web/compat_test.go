package web

import (
	"context"
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
			if _, err := db.ProcessDueChecks(ctx, e.clock.Now(), 100); err != nil {
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
