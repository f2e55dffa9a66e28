package slos_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/cputime"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// BenchmarkEvaluateMinute measures the steady state of the evaluation
// module on each database the test run has: 500 objectives with six hours
// of stored minutes each, evaluated once a minute after one more minute
// was flushed for each. It reports the cost per objective in wall time
// and in this process's CPU time (on PostgreSQL the server's CPU is not
// in it); the first evaluation, which reads all stored minutes, and the
// flushes are outside both.
func BenchmarkEvaluateMinute(b *testing.B) {
	for _, db := range storetest.OpenEach(b) {
		b.Run(db.Dialect().String(), func(b *testing.B) { benchEvaluateMinute(b, db) })
	}
}

func benchEvaluateMinute(b *testing.B, db *store.DB) {
	const objectives = 500
	ctx := context.Background()
	svc := slos.New(db, alerting.New(db))
	p := storetest.NewProject(b, db, "P", t0)
	var ids []string
	for i := range objectives {
		d := def("shop", fmt.Sprint("o", i))
		o := &slos.SLO{ProjectID: p.ID, Definition: d}
		if err := svc.Create(ctx, o, t0); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	minute := func(at time.Time) []aggregate.Row {
		rows := make([]aggregate.Row, 0, objectives)
		for _, id := range ids {
			rows = append(rows, aggregate.Row{SLOID: id, Minute: at, Bucket: slo.Bucket{Counts: slo.Counts{Good: 999, Total: 1000}}})
		}
		return rows
	}
	start := t0.Add(-6 * time.Hour)
	for m := start; m.Before(t0); m = m.Add(time.Minute) {
		if err := svc.AddMinutes(ctx, minute(m), m.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
	now := t0.Add(slos.EvalDelay)
	if _, err := svc.ProcessDue(ctx, now, objectives); err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if err := svc.AddMinutes(ctx, minute(now.Truncate(time.Minute)), now.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
		now = now.Add(time.Minute)
		b.StartTimer()
		before := cputime.Used()
		if n, err := svc.ProcessDue(ctx, now, objectives); err != nil || n != objectives {
			b.Fatalf("evaluated %d: %v", n, err)
		}
		cpu += cputime.Used() - before
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*objectives), "µs/objective")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*objectives), "cpu-µs/objective")
	}
}

// BenchmarkBadTime measures the customers having a bad time of a small
// company, on each database the test run has: 5,000 customers active in
// the last five minutes across two replicas, each counted by two
// objectives and their service. It reports the cost of one flush's write
// of 1,000 changed customers (3,000 rows), and of one count of the
// project's services and objectives (the overview's and /api/v1/bad-time)
// over every replica's 15,000 rows.
func BenchmarkBadTime(b *testing.B) {
	for _, db := range storetest.OpenEach(b) {
		b.Run(db.Dialect().String(), func(b *testing.B) {
			const users = 5000
			ctx := context.Background()
			p := storetest.NewProject(b, db, "P", t0)
			setup := slos.New(db, alerting.New(db))
			avail := def("shop", "availability")
			avail.Indicator.Selector.SpanName = "GET /"
			newSLO(b, setup, p.ID, avail)
			newSLO(b, setup, p.ID, def("shop", "all"))
			replicas := []*slos.Service{slos.New(db, alerting.New(db)), slos.New(db, alerting.New(db))}
			var targets []aggregate.Target
			all, err := setup.All(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for _, o := range all {
				obj, err := o.Objective()
				if err != nil {
					b.Fatal(err)
				}
				targets = append(targets, aggregate.Target{ID: o.ID, ProjectID: o.ProjectID, Objective: obj})
			}
			now := t0.Add(10 * time.Minute)
			r := &slo.Request{Service: "shop", SpanName: "GET /", SpanKind: "SERVER"}
			for i, rep := range replicas {
				rep.Ingest = aggregate.New(aggregate.Limits{})
				rep.Ingest.Set(targets)
				for u := range users {
					r.Failed = (u+i)%10 == 0
					rep.Ingest.Observe(p.ID, r, fmt.Sprint("user-", u), now.Add(-time.Duration(u+i)*50*time.Millisecond), now)
				}
				if err := rep.AddRecentUsers(ctx, rep.Ingest.ChangedUsers(), now); err != nil {
					b.Fatal(err)
				}
			}
			var write, count time.Duration
			n := 0
			for b.Loop() {
				for u := range 1000 {
					r.Failed = u%7 == 0
					replicas[0].Ingest.Observe(p.ID, r, fmt.Sprint("user-", (n*1000+u)%users), now.Add(time.Duration(n)*time.Millisecond), now)
				}
				start := time.Now()
				if err := replicas[0].AddRecentUsers(ctx, replicas[0].Ingest.ChangedUsers(), now); err != nil {
					b.Fatal(err)
				}
				mid := time.Now()
				rep, err := replicas[1].BadTimeReport(ctx, p.ID, now.Add(time.Second))
				if err != nil || len(rep.Services) != 1 || rep.Services[0].Active != users {
					b.Fatalf("report %+v, %v", rep, err)
				}
				write, count = write+mid.Sub(start), count+time.Since(mid)
				n++
			}
			b.ReportMetric(float64(write.Milliseconds())/float64(n), "ms/write")
			b.ReportMetric(float64(count.Milliseconds())/float64(n), "ms/count")
		})
	}
}
