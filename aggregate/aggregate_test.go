package aggregate_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/uptime"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func objective(t testing.TB, service, kind string, sel slo.Selector) *slo.Objective {
	t.Helper()
	d := slo.Definition{Service: service, Name: kind, Objective: 99, Window: slo.Window{Rolling: "30d"},
		Indicator: slo.Indicator{Kind: kind, Selector: sel}}
	if kind == slo.KindLatency {
		d.Indicator.Threshold = "100ms"
	}
	o, err := slo.New(d)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func span(service, name string, failed bool, d time.Duration) *slo.Request {
	return &slo.Request{Service: service, SpanName: name, SpanKind: "SERVER", Failed: failed, Duration: d}
}

// sums adds up flushed rows per objective.
func sums(rows []aggregate.Row, into map[string]slo.Counts) {
	for _, r := range rows {
		into[r.SLOID] = into[r.SLOID].Add(r.Bucket.Counts)
	}
}

func TestObserveAndFlush(t *testing.T) {
	a := aggregate.New(aggregate.Limits{})
	a.Set([]aggregate.Target{
		{ID: "avail", ProjectID: "p1", Objective: objective(t, "shop", slo.KindAvailability, slo.Selector{SpanName: "GET /"})},
		{ID: "lat", ProjectID: "p1", Objective: objective(t, "shop", slo.KindLatency, slo.Selector{})},
		{ID: "other", ProjectID: "p2", Objective: objective(t, "shop", slo.KindAvailability, slo.Selector{})},
	})
	now := t0.Add(2 * time.Minute)
	a.Observe("p1", span("shop", "GET /", false, 50*time.Millisecond), "u1", t0, now)
	a.Observe("p1", span("shop", "GET /", true, 150*time.Millisecond), "u1", t0.Add(10*time.Second), now)
	a.Observe("p1", span("shop", "POST /", false, 10*time.Millisecond), "", t0.Add(70*time.Second), now)
	if a.Observe("p1", span("billing", "GET /", false, 0), "", t0, now) {
		t.Error("a request of another service was counted")
	}
	if a.Observe("p1", span("shop", "GET /", false, 0), "", t0.Add(-2*time.Hour), now) {
		t.Error("a request older than MaxAge was counted")
	}
	if a.Observe("p1", span("shop", "GET /", false, 0), "", now.Add(2*time.Minute), now) {
		t.Error("a request from the future was counted")
	}
	rows := a.Flush(now)
	byKey := map[string]slo.Bucket{}
	for _, r := range rows {
		byKey[r.SLOID+"@"+r.Minute.Format("15:04")] = r.Bucket
	}
	if b := byKey["avail@10:00"]; b.Total != 2 || b.Good != 1 || b.Latency[3] != 1 || b.Latency[5] != 1 {
		t.Errorf("avail 10:00 = %+v", b)
	}
	if b := byKey["lat@10:00"]; b.Total != 2 || b.Good != 1 {
		t.Errorf("lat 10:00 = %+v", b)
	}
	if b := byKey["lat@10:01"]; b.Total != 1 || b.Good != 1 {
		t.Errorf("lat 10:01 = %+v", b)
	}
	if len(rows) != 3 {
		t.Errorf("%d rows, want 3: %+v", len(rows), rows)
	}
	if st := a.Stats(); st.Buckets != 0 || st.Refused != 2 {
		t.Errorf("stats after flush = %+v", st)
	}
	if rows := a.Flush(now); len(rows) != 0 {
		t.Errorf("second flush handed out %d rows", len(rows))
	}
}

func TestUserTime(t *testing.T) {
	a := aggregate.New(aggregate.Limits{})
	a.Set([]aggregate.Target{{ID: "s", ProjectID: "p", Objective: objective(t, "shop", slo.KindAvailability, slo.Selector{})}})
	// u1 fails at 10:00:00 and succeeds at 10:00:30: 30 s down. u2 is
	// fine for 20 s.
	a.Observe("p", span("shop", "x", true, 0), "u1", t0, t0)
	a.Observe("p", span("shop", "x", false, 0), "u1", t0.Add(30*time.Second), t0)
	a.Observe("p", span("shop", "x", false, 0), "u2", t0.Add(10*time.Second), t0)
	a.Observe("p", span("shop", "x", false, 0), "u2", t0.Add(30*time.Second), t0)
	if b := serviceBadTime(a, "p", "", "s", t0.Add(-5*time.Minute), t0.Add(40*time.Second)); b != (uptime.BadTime{Active: 2}) {
		t.Errorf("bad time now = %+v", b)
	}
	got := map[string]slo.Counts{}
	sums(a.Flush(t0.Add(time.Minute)), got)
	if got["s"].Total != 4 || got["s"].DownMs != 0 {
		t.Errorf("before the cutoff: %+v (user-time is final only after the cutoff)", got["s"])
	}
	got = map[string]slo.Counts{}
	sums(a.Flush(t0.Add(time.Hour)), got)
	if got["s"].DownMs != 30000 || got["s"].UpMs != 20000 || got["s"].Total != 0 {
		t.Errorf("after the cutoff: %+v", got["s"])
	}
}

// A gap longer than the configured cutoff is inactive: neither up nor
// down. The same gap under the default cutoff of half an hour is up.
func TestUserTimeCutoff(t *testing.T) {
	for _, tc := range []struct {
		cutoff time.Duration
		upMs   int64
	}{{0, 600_000 + 60_000}, {5 * time.Minute, 60_000}} {
		a := aggregate.New(aggregate.Limits{Cutoff: tc.cutoff})
		a.Set([]aggregate.Target{{ID: "s", ProjectID: "p", Objective: objective(t, "shop", slo.KindAvailability, slo.Selector{})}})
		for _, at := range []time.Duration{0, 10 * time.Minute, 11 * time.Minute} {
			a.Observe("p", span("shop", "x", false, 0), "u1", t0.Add(at), t0.Add(at))
		}
		got := map[string]slo.Counts{}
		sums(a.Flush(t0.Add(time.Hour)), got)
		if got["s"].UpMs != tc.upMs || got["s"].DownMs != 0 {
			t.Errorf("cutoff %s: %+v, want %d ms up", tc.cutoff, got["s"], tc.upMs)
		}
	}
}

func TestLimitsAndRestore(t *testing.T) {
	a := aggregate.New(aggregate.Limits{Buckets: 2})
	a.Set([]aggregate.Target{{ID: "s", ProjectID: "p", Objective: objective(t, "shop", slo.KindAvailability, slo.Selector{})}})
	now := t0.Add(10 * time.Minute)
	for i := range 3 {
		a.Observe("p", span("shop", "x", false, 0), "", t0.Add(time.Duration(i)*time.Minute), now)
	}
	if !a.Full() || a.Stats().Refused != 1 {
		t.Fatalf("full = %v, stats %+v", a.Full(), a.Stats())
	}
	rows := a.Flush(now)
	if a.Full() || len(rows) != 2 {
		t.Fatalf("after flush: full %v, %d rows", a.Full(), len(rows))
	}
	a.Observe("p", span("shop", "x", true, 0), "", t0, now)
	a.Restore(rows) // the store failed: the rows come back
	got := map[string]slo.Counts{}
	sums(a.Flush(now), got)
	if got["s"].Total != 3 || got["s"].Good != 2 {
		t.Errorf("after restore = %+v", got["s"])
	}
	// An objective removed loses its buckets and counts nothing more.
	a.Observe("p", span("shop", "x", false, 0), "", t0, now)
	a.Set(nil)
	if a.Observe("p", span("shop", "x", false, 0), "", t0, now) || len(a.Flush(now)) != 0 || a.Stats().Buckets != 0 {
		t.Error("a removed objective still counts")
	}
}

// TestConcurrent observes from many goroutines while flushing: every
// request is in exactly one flush.
func TestConcurrent(t *testing.T) {
	a := aggregate.New(aggregate.Limits{})
	var targets []aggregate.Target
	for i := range 5 {
		targets = append(targets, aggregate.Target{ID: fmt.Sprint(i), ProjectID: "p", Objective: objective(t, "shop", slo.KindAvailability, slo.Selector{})})
	}
	a.Set(targets)
	now := t0.Add(30 * time.Minute)
	const workers, each = 8, 5000
	var wg sync.WaitGroup
	got := map[string]slo.Counts{}
	stop := make(chan struct{})
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for {
			select {
			case <-stop:
				sums(a.Flush(now), got)
				return
			default:
				sums(a.Flush(now), got)
			}
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				at := t0.Add(time.Duration(i%1800) * time.Second)
				a.Observe("p", span("shop", "x", i%10 == 0, 0), fmt.Sprintf("u%d", w), at, now)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-flushed
	for _, tg := range targets {
		if c := got[tg.ID]; c.Total != workers*each || c.Good != workers*each*9/10 {
			t.Errorf("objective %s: %+v, want %d total", tg.ID, c, workers*each)
		}
	}
}

// serviceBadTime counts a project's users of one service (or one objective,
// with slo set) that PendingUsers hands out.
func serviceBadTime(a *aggregate.Aggregator, project, service, sloID string, from, to time.Time) uptime.BadTime {
	var b uptime.BadTime
	for _, u := range a.PendingUsers(project) {
		if u.Service == service && u.SLOID == sloID {
			for _, l := range u.Last {
				b.Add(l, from.UnixMilli(), to.UnixMilli())
			}
		}
	}
	return b
}

// A service's customers: each user once however many of its objectives
// count their requests, down when their last request to the service was
// bad for any objective that counted it (failed, or too slow for a
// latency objective), and only from requests some objective counts.
func TestServiceBadTime(t *testing.T) {
	a := aggregate.New(aggregate.Limits{})
	a.Set([]aggregate.Target{
		{ID: "avail", ProjectID: "p1", Objective: objective(t, "shop", slo.KindAvailability, slo.Selector{SpanName: "GET /"})},
		{ID: "lat", ProjectID: "p1", Objective: objective(t, "shop", slo.KindLatency, slo.Selector{})},
		{ID: "billing", ProjectID: "p1", Objective: objective(t, "billing", slo.KindAvailability, slo.Selector{})},
		{ID: "other", ProjectID: "p2", Objective: objective(t, "shop", slo.KindAvailability, slo.Selector{})},
	})
	now := t0.Add(10 * time.Minute)
	obs := func(project string, r *slo.Request, user string, after time.Duration) {
		t.Helper()
		a.Observe(project, r, user, t0.Add(after), now)
	}
	obs("p1", span("shop", "GET /", false, 10*time.Millisecond), "ann", 6*time.Minute)   // both objectives: good
	obs("p1", span("shop", "GET /", true, 10*time.Millisecond), "bob", 6*time.Minute)    // failed
	obs("p1", span("shop", "GET /", false, 10*time.Millisecond), "bob", 7*time.Minute)   // and recovered
	obs("p1", span("shop", "POST /", false, 500*time.Millisecond), "cat", 7*time.Minute) // too slow: bad for "lat"
	obs("p1", span("shop", "GET /", true, 10*time.Millisecond), "dan", 8*time.Minute)    // failed, then an older
	obs("p1", span("shop", "GET /", false, 10*time.Millisecond), "dan", 7*time.Minute)   // success arrives late
	obs("p1", span("shop", "GET /", false, 10*time.Millisecond), "eve", 2*time.Minute)   // not recent
	obs("p1", span("billing", "GET /", true, 0), "ann", 9*time.Minute)                   // down for billing only
	obs("p1", span("search", "GET /", true, 0), "fay", 9*time.Minute)                    // no objective counts search
	obs("p2", span("shop", "GET /", true, 0), "ann", 9*time.Minute)                      // another project's ann
	from := now.Add(-5 * time.Minute)
	for _, tc := range []struct {
		project, service, slo string
		want                  uptime.BadTime
	}{
		{"p1", "shop", "", uptime.BadTime{Active: 4, Down: 2}}, // ann, bob, cat, dan; cat and dan down
		{"p1", "", "avail", uptime.BadTime{Active: 3, Down: 1}},
		{"p1", "", "lat", uptime.BadTime{Active: 4, Down: 1}},
		{"p1", "billing", "", uptime.BadTime{Active: 1, Down: 1}},
		{"p1", "search", "", uptime.BadTime{}},
		{"p2", "shop", "", uptime.BadTime{Active: 1, Down: 1}},
	} {
		if got := serviceBadTime(a, tc.project, tc.service, tc.slo, from, now); got != tc.want {
			t.Errorf("%s %s%s: %+v, want %+v", tc.project, tc.service, tc.slo, got, tc.want)
		}
	}
	// A whole hour's users in one service: still one count per user.
	if got := serviceBadTime(a, "p1", "shop", "", t0, now); got != (uptime.BadTime{Active: 5, Down: 2}) {
		t.Errorf("shop over the hour: %+v", got)
	}

	// Each flush writes out the users that changed since the last, once
	// per objective and once per service; a failed write hands them out
	// again.
	changed := a.ChangedUsers()
	perScope := map[string]int{}
	for _, u := range changed {
		perScope[u.ProjectID+"/"+u.Service+u.SLOID] = len(u.Last)
	}
	want := map[string]int{"p1/shop": 5, "p1/avail": 4, "p1/lat": 5, "p1/billing": 1, "p2/shop": 1, "p2/other": 1}
	if len(perScope) != len(want) {
		t.Errorf("changed users per scope %v, want %v", perScope, want)
	}
	for k, n := range want {
		if perScope[k] != n {
			t.Errorf("changed users of %s: %d, want %d", k, perScope[k], n)
		}
	}
	if again := a.ChangedUsers(); len(again) != 0 {
		t.Errorf("nothing changed, yet %d scopes handed out", len(again))
	}
	a.RestoreUsers(changed)
	if again := a.ChangedUsers(); len(again) != len(changed) {
		t.Errorf("after a failed write %d scopes handed out, want %d", len(again), len(changed))
	}
	// The flush forgets users idle longer than the cutoff, services' too.
	a.Flush(now.Add(uptime.DefaultCutoff + 10*time.Minute))
	if n := len(a.PendingUsers("p1")); n != 0 {
		t.Errorf("idle users kept in %d scopes", n)
	}
	if s := a.Stats(); s.Users != 0 {
		t.Errorf("%d users followed after all went idle", s.Users)
	}
}
