package integrations

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// benchBatch is an Alertmanager notification of n alerts, numbered from
// first.
func benchBatch(first, n int) []byte {
	var alerts []string
	for i := first; i < first+n; i++ {
		alerts = append(alerts, fmt.Sprintf(`{"status": "firing", "labels": {"alertname": "DiskFull", "instance": "host-%d:9100", "severity": "warning"},
			"annotations": {"summary": "Disk full on host-%d", "runbook_url": "https://runbooks.example/disk"},
			"startsAt": "2026-03-01T11:58:00Z", "endsAt": "0001-01-01T00:00:00Z",
			"generatorURL": "http://prometheus.example:9090/graph?g0.expr=x", "fingerprint": "%016x"}`, i, i, i))
	}
	return []byte(`{"version": "4", "status": "firing", "receiver": "nightjar", "groupKey": "{}:{}", "truncatedAlerts": 0,
		"groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager.example:9093",
		"alerts": [` + strings.Join(alerts, ",") + `]}`)
}

// benchService is the integrations area on a new database of the dialect
// given, and the secret of a key of its one project.
func benchService(b *testing.B, dialect string) (*Service, string) {
	db := storetest.Open(b, dialect)
	p := storetest.NewProject(b, db, "P", t0)
	s := New(db, alerting.New(db))
	secret, err := s.Create(context.Background(), &nightjar.IntegrationKey{ProjectID: p.ID, Name: "bench", Service: "svc"}, t0)
	if err != nil {
		b.Fatal(err)
	}
	return s, secret
}

// BenchmarkAlertmanager measures one request's worth of work (a
// notification of 20 alerts, decoded, handed to the stage and committed)
// on each database, one request at a time, for alerts that fire already
// (what Alertmanager resends most) and for new ones.
func BenchmarkAlertmanager(b *testing.B) {
	for _, bench := range []struct {
		dialect string
		resend  bool
	}{{"sqlite", true}, {"sqlite", false}, {"postgres", true}, {"postgres", false}} {
		resend := bench.resend
		b.Run(fmt.Sprintf("%s/resend=%v", bench.dialect, resend), func(b *testing.B) {
			ctx := context.Background()
			s, secret := benchService(b, bench.dialect)
			const perBatch = 20
			bodies := make([][]byte, 50)
			for i := range bodies {
				bodies[i] = benchBatch(i*perBatch, perBatch)
			}
			if resend {
				for _, body := range bodies {
					if _, err := s.Alertmanager(ctx, secret, body, t0); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				body := bodies[i%len(bodies)]
				if !resend {
					body = benchBatch(len(bodies)*perBatch+i*perBatch, perBatch)
				}
				if _, err := s.Alertmanager(ctx, secret, body, t0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}

// BenchmarkAlertmanagerConcurrent is BenchmarkAlertmanager's resends from
// 64 senders at once, whose requests share commits, on SQLite.
func BenchmarkAlertmanagerConcurrent(b *testing.B) {
	ctx := context.Background()
	s, secret := benchService(b, "sqlite")
	const perBatch = 20
	bodies := make([][]byte, 500)
	for i := range bodies {
		bodies[i] = benchBatch(i*perBatch, perBatch)
		if _, err := s.Alertmanager(ctx, secret, bodies[i], t0); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Alertmanager(ctx, secret, bodies[next.Add(1)%int64(len(bodies))], t0); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "alerts/s")
}
