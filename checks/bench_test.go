package checks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// BenchmarkRecordPings measures durable ping recording in batches of 32,
// as the group commit forms them under load, on each database.
func BenchmarkRecordPings(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(d, func(b *testing.B) {
			db := storetest.Open(b, d)
			svc := checksOf(db)
			ctx := context.Background()
			p := &nightjar.Project{Name: "bench"}
			if err := projects.New(db).Create(ctx, p, t0); err != nil {
				b.Fatal(err)
			}
			var ids []string
			for i := 0; i < 1000; i++ {
				c := nightjar.NewCheck(p.ID, fmt.Sprintf("c%d", i))
				if err := svc.Create(ctx, c, t0); err != nil {
					b.Fatal(err)
				}
				ids = append(ids, c.ID)
			}
			const batch = 32
			reqs := make([]*checks.PingRequest, batch)
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				for j := range reqs {
					reqs[j] = &checks.PingRequest{CheckID: ids[(i+j)%len(ids)], Kind: nightjar.PingSuccess,
						At: t0.Add(time.Duration(i+j) * time.Millisecond), Method: "POST", Body: []byte("ok")}
				}
				for _, r := range svc.RecordPings(ctx, reqs, 500) {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pings/s")
		})
	}
}
