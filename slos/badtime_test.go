package slos_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// replica is one `serve` process's ingest and its view of the objectives,
// on the database every replica shares.
type replica struct {
	svc   *slos.Service
	ing   *aggregate.Aggregator
	flush *engine.IngestFlush
}

func newReplica(t *testing.T, db *store.DB) *replica {
	t.Helper()
	r := &replica{svc: slos.New(db, alerting.New(db)), ing: aggregate.New(aggregate.Limits{})}
	r.svc.Ingest = r.ing
	r.flush = &engine.IngestFlush{Ingest: r.ing, SLOs: r.svc}
	if err := engine.LoadTargets(context.Background(), r.svc, r.ing); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *replica) badTimes(t *testing.T, projectID string, now time.Time) *slos.BadTimes {
	t.Helper()
	b, err := r.svc.BadTimeNow(context.Background(), projectID, now)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Two replicas ingest requests of the same customers; each counts the
// customers having a bad time now from what both saw: the later request
// of a user wins whichever replica took it, a customer is counted once
// per service however many objectives count them, and what a replica has
// not flushed yet counts on that replica at once and on the other after
// its flush.
func TestBadTimeAcrossReplicas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		setup := slos.New(db, alerting.New(db))
		avail := def("shop", "availability")
		avail.Indicator.Selector.SpanName = "GET /"
		lat := def("shop", "latency")
		lat.Indicator = slo.Indicator{Kind: slo.KindLatency, Threshold: "100ms"}
		oAvail, oLat := newSLO(t, setup, p.ID, avail), newSLO(t, setup, p.ID, lat)
		oBilling := newSLO(t, setup, p.ID, def("billing", "availability"))
		a, b := newReplica(t, db), newReplica(t, db)

		now := t0.Add(10 * time.Minute)
		req := func(r *replica, service string, failed bool, user string, ago time.Duration) {
			t.Helper()
			rq := &slo.Request{Service: service, SpanName: "GET /", SpanKind: "SERVER", Failed: failed, Duration: 10 * time.Millisecond}
			if !r.ing.Observe(p.ID, rq, user, now.Add(-ago), now) {
				t.Fatalf("%s's request to %s not counted", user, service)
			}
		}
		req(a, "shop", false, "ann", 3*time.Minute) // ann: ok on a, then failed on b
		req(b, "shop", true, "ann", 2*time.Minute)
		req(b, "shop", true, "bob", 3*time.Minute) // bob: failed on b, then ok on a
		req(a, "shop", false, "bob", 2*time.Minute)
		req(a, "shop", true, "cat", time.Minute) // cat: both at the same millisecond: the failure wins
		req(b, "shop", false, "cat", time.Minute)
		req(a, "shop", true, "dan", time.Minute)    // dan: a only, failed
		req(b, "shop", false, "eve", time.Minute)   // eve: b only, ok
		req(a, "shop", true, "fay", 6*time.Minute)  // fay: not recent
		req(b, "billing", true, "ann", time.Minute) // ann is down for billing too

		want := slos.BadTimes{
			SLOs:     map[string]slos.BadTime{oAvail.ID: {Active: 5, Down: 3}, oLat.ID: {Active: 5, Down: 0}, oBilling.ID: {Active: 1, Down: 1}},
			Services: map[string]slos.BadTime{"shop": {Active: 5, Down: 3}, "billing": {Active: 1, Down: 1}},
		}
		check := func(name string, got *slos.BadTimes, want slos.BadTimes) {
			t.Helper()
			for id, w := range want.SLOs {
				if got.SLOs[id] != w {
					t.Errorf("%s: slo %s %+v, want %+v", name, id, got.SLOs[id], w)
				}
			}
			for s, w := range want.Services {
				if got.Services[s] != w {
					t.Errorf("%s: service %s %+v, want %+v", name, s, got.Services[s], w)
				}
			}
			if len(got.SLOs) != len(want.SLOs) || len(got.Services) != len(want.Services) {
				t.Errorf("%s: %+v, want %+v", name, got, want)
			}
		}
		// Before any flush each replica sees its own requests only: a
		// has ann and bob up, cat and dan down.
		check("a alone", a.badTimes(t, p.ID, now), slos.BadTimes{
			SLOs:     map[string]slos.BadTime{oAvail.ID: {Active: 4, Down: 2}, oLat.ID: {Active: 4}},
			Services: map[string]slos.BadTime{"shop": {Active: 4, Down: 2}}})

		// Once a has flushed, b counts a's users with its own not yet
		// flushed ones: the whole truth.
		if err := a.flush.Step(ctx, now); err != nil {
			t.Fatal(err)
		}
		check("b after a's flush", b.badTimes(t, p.ID, now), want)
		// Both flush at once; then either replica answers the same.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, r := range []*replica{a, b} {
			wg.Go(func() { errs[i] = r.flush.Step(ctx, now.Add(time.Second)) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		check("a after both flushed", a.badTimes(t, p.ID, now), want)
		check("b after both flushed", b.badTimes(t, p.ID, now), want)
		for _, r := range []*replica{a, b} {
			got, err := r.svc.BadTimeOf(ctx, p.ID, oAvail.ID, now)
			if err != nil || got != want.SLOs[oAvail.ID] {
				t.Errorf("one objective's count %+v, %v; want %+v", got, err, want.SLOs[oAvail.ID])
			}
		}
		// A fresh replica, which saw nothing, counts from the rows alone.
		check("a replica that ingested nothing", newReplica(t, db).badTimes(t, p.ID, now), want)

		// bob fails on b after both flushed: b counts it at once, a after
		// b's next flush.
		later := now.Add(30 * time.Second)
		req(b, "shop", true, "bob", -30*time.Second)
		want.SLOs[oAvail.ID] = slos.BadTime{Active: 5, Down: 4}
		want.Services["shop"] = slos.BadTime{Active: 5, Down: 4}
		check("b right after bob failed", b.badTimes(t, p.ID, later), want)
		if got := a.badTimes(t, p.ID, later).Services["shop"]; got.Down != 3 {
			t.Errorf("a counts bob down before b's flush: %+v", got)
		}
		if err := b.flush.Step(ctx, later); err != nil {
			t.Fatal(err)
		}
		check("a after b's flush", a.badTimes(t, p.ID, later), want)

		// The rows go once too old for any count.
		var n int
		count := func() int {
			t.Helper()
			if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM recent_users`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if count() == 0 {
			t.Fatal("no recent users written")
		}
		gone := later.Add(slos.BadTimeRecent + time.Minute)
		if err := a.flush.Step(ctx, gone); err != nil {
			t.Fatal(err)
		}
		if count() != 0 {
			t.Errorf("%d recent users left %s after the last request", n, slos.BadTimeRecent+time.Minute)
		}
		check("both after everyone left", b.badTimes(t, p.ID, gone), slos.BadTimes{})
	})
}
