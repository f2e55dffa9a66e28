package slos_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// BenchmarkEvaluateMinute measures the steady state of the evaluation
// module on SQLite: 500 objectives with six hours of stored minutes each,
// evaluated once a minute after one more minute was flushed for each. It
// reports the cost per objective; the first evaluation, which reads all
// stored minutes, is outside the timing.
func BenchmarkEvaluateMinute(b *testing.B) {
	const objectives = 500
	ctx := context.Background()
	db := storetest.Open(b, "sqlite")
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
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if err := svc.AddMinutes(ctx, minute(now.Truncate(time.Minute)), now.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
		now = now.Add(time.Minute)
		b.StartTimer()
		if n, err := svc.ProcessDue(ctx, now, objectives); err != nil || n != objectives {
			b.Fatalf("evaluated %d: %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*objectives), "µs/objective")
}
