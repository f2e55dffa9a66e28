package slo_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/slo"
)

// BenchmarkEvaluate10000 measures what the engine does every minute:
// deciding the burn-rate alerts of 10,000 objectives over a month of
// minute counts each. The objectives read 200 distinct series (each 30
// days, 1.4 MB) so that the working set, 280 MB, is far larger than any
// cache, as it is with 10,000 series; holding 10,000 would take 14 GB. The
// baseline measured in the same run is the budget alone, without rules.
func BenchmarkEvaluate10000(b *testing.B) {
	const objectives, distinct = 10000, 200
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	series := make([]*slo.Series, distinct)
	var objs []*slo.Objective
	for i := range objectives {
		d := availability([]float64{99, 99.5, 99.9, 99.95}[i%4], []string{"28d", "30d"}[i%2])
		d.Name = fmt.Sprintf("slo-%d", i)
		if i%3 == 0 {
			d.Window = slo.Window{Calendar: "month", TimeZone: "Europe/Berlin"}
		}
		objs = append(objs, build(b, d))
	}
	for i := range series {
		s := slo.NewSeries(objs[0].Retention() + 3*24*60)
		for t := now.Add(-31 * 24 * time.Hour); t.Before(now); t = t.Add(time.Minute) {
			total := uint64(100 + (t.Unix()/60+int64(i))%400)
			s.Add(t, slo.Counts{Good: total - uint64(i%3), Total: total})
		}
		series[i] = s
	}
	b.Run("budget-only", func(b *testing.B) {
		for b.Loop() {
			for i, o := range objs {
				o.Budget(series[i%distinct], now)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/10000-slos")
	})
	b.Run("decisions", func(b *testing.B) {
		firing := 0
		for b.Loop() {
			firing = 0
			for i, o := range objs {
				d := o.Evaluate(series[i%distinct], now)
				if len(d.Rules) > 0 && d.Rules[0].Firing {
					firing++
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/10000-slos")
		b.ReportMetric(float64(firing), "firing")
	})
}
