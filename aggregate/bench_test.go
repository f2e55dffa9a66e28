package aggregate_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/attribution"
	"github.com/nightjar-dev/nightjar/cputime"
	"github.com/nightjar-dev/nightjar/otlpin"
	"github.com/nightjar-dev/nightjar/slo"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// benchExport is an export of 1,002 spans from three services, as an
// SDK's batch sends them: 334 traces, each a span in every service
// (frontend → orders → payments, linked by parent ids), with a user and an
// HTTP status and a few attributes; every 50th trace fails in all three.
// Exports with different n carry different traces.
func benchExport(b *testing.B, n int) []byte {
	td := ptrace.NewTraces()
	services := []string{"frontend", "orders", "payments"}
	for si, svc := range services {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", svc)
		rs.Resource().Attributes().PutStr("telemetry.sdk.language", "go")
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		for i := range 334 {
			sp := spans.AppendEmpty()
			sp.SetTraceID(pcommon.TraceID{byte(i), byte(i >> 8), byte(n), byte(n >> 8), 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
			sp.SetSpanID(pcommon.SpanID{byte(i), byte(i >> 8), byte(si), 1, 2, 3, 4, 5})
			if si > 0 {
				sp.SetParentSpanID(pcommon.SpanID{byte(i), byte(i >> 8), byte(si - 1), 1, 2, 3, 4, 5})
			}
			sp.SetName(fmt.Sprintf("GET /api/%s/%d", svc, i%5))
			sp.SetKind(ptrace.SpanKindServer)
			if i%3 == 1 {
				sp.SetKind(ptrace.SpanKindClient)
				sp.Attributes().PutStr("peer.service", services[(si+1)%3])
			}
			start := t0.Add(time.Duration(i) * 100 * time.Millisecond)
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(i%200) * time.Millisecond)))
			sp.Attributes().PutStr("http.request.method", "GET")
			sp.Attributes().PutStr("http.route", fmt.Sprintf("/api/%s/%d", svc, i%5))
			sp.Attributes().PutInt("http.response.status_code", int64(200+300*(i%50/49)))
			sp.Attributes().PutStr("enduser.id", fmt.Sprintf("user-%d", i%97))
			if i%50 == 49 {
				sp.Status().SetCode(ptrace.StatusCodeError)
			}
		}
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// benchExports are the exports the ingest benchmarks take in turn, so
// that each export brings new traces as an SDK's do. Traces repeat only
// after 6.4 s of the benchmark's time, by when the sampler has judged
// them: at 3,340 new traces a second its default 10,000 pending traces
// last some 3 s, the quietest being judged early to make room.
func benchExports(b *testing.B) [][]byte {
	bodies := make([][]byte, 64)
	for n := range bodies {
		bodies[n] = benchExport(b, n)
	}
	return bodies
}

// The benchmark's time: an export every 100 ms (some 10,000 spans a
// second), and the ingest-flush module's step every 10 s.
const (
	benchEvery = 100 * time.Millisecond
	benchStep  = 100 // exports
)

// benchTargets are 20 objectives over the three services.
func benchTargets(b *testing.B) []aggregate.Target {
	var ts []aggregate.Target
	for i, svc := range []string{"frontend", "orders", "payments"} {
		for j := range 5 {
			sel := slo.Selector{Route: fmt.Sprintf("/api/%s/%d", svc, j)}
			ts = append(ts, aggregate.Target{ID: fmt.Sprint(i, j), ProjectID: "p", Objective: objective(b, svc, slo.KindAvailability, sel)})
		}
		ts = append(ts, aggregate.Target{ID: fmt.Sprint(i, "lat"), ProjectID: "p", Objective: objective(b, svc, slo.KindLatency, slo.Selector{})})
	}
	ts = append(ts, aggregate.Target{ID: "client", ProjectID: "p", Objective: objective(b, "frontend", slo.KindAvailability, slo.Selector{SpanKind: "CLIENT"})})
	ts = append(ts, aggregate.Target{ID: "eu", ProjectID: "p", Objective: objective(b, "orders", slo.KindAvailability, slo.Selector{Attributes: map[string]string{"region": "eu"}})})
	return ts
}

// BenchmarkIngest measures, in spans per second and in the same run, OTLP
// protobuf decoding alone; decoding with matching and aggregation into 20
// objectives; and what /v1/traces does with every export (web's
// handleTraces): decoding, aggregation and feeding the failing-trace
// sample, with the ingest-flush module's step judging quiet traces and
// flushing the counters every 10 s. It prints the last's ratio to decoding
// alone, whose target is at least 0.5, by wall-clock time and by the
// process's CPU time (which other work on the machine disturbs less).
func BenchmarkIngest(b *testing.B) {
	bodies := benchExports(b)
	var decode, aggregated, traced ingestRate
	b.Run("decode", func(b *testing.B) {
		decode = benchIngest(b, bodies, nil, nil)
	})
	b.Run("aggregate", func(b *testing.B) {
		a := aggregate.New(aggregate.Limits{})
		a.Set(benchTargets(b))
		var v otlpin.Visitor
		aggregated = benchIngest(b, bodies, func(td ptrace.Traces, now time.Time) {
			v.Visit(td, func(s *otlpin.Span) { a.Observe("p", &s.Request, s.User, s.At, now) })
		}, func(now time.Time) { a.Flush(now) })
		benchRefused(b, a)
	})
	b.Run("aggregate+sample", func(b *testing.B) {
		a := aggregate.New(aggregate.Limits{})
		a.Set(benchTargets(b))
		traces, err := aggregate.NewTraces(attribution.SamplerConfig{})
		if err != nil {
			b.Fatal(err)
		}
		var v otlpin.Visitor
		traced = benchIngest(b, bodies, func(td ptrace.Traces, now time.Time) {
			v.Visit(td, func(s *otlpin.Span) {
				a.Observe("p", &s.Request, s.User, s.At, now)
				traces.Add("p", s.Attribution(), now)
			})
		}, func(now time.Time) {
			traces.Advance(now)
			a.Flush(now)
		})
		benchRefused(b, a)
		if _, ok := traces.Decide("p", attribution.Operation{Service: "frontend", Name: "GET /api/frontend/4"}, t0, t0.Add(time.Hour), attribution.Config{}); b.N >= benchStep && !ok {
			b.Fatal("no failing trace was kept")
		}
	})
	// Printed, not logged: a parent benchmark's log shows only with -v.
	if decode.wall > 0 && aggregated.wall > 0 && traced.wall > 0 {
		fmt.Printf("BenchmarkIngest: decode only %.0f spans/s; as /v1/traces (aggregation and the failing-trace sample) %.0f spans/s: ratio %.2f (target >= 0.5); aggregation without the sample %.0f spans/s: ratio %.2f\n",
			decode.wall, traced.wall, traced.wall/decode.wall, aggregated.wall, aggregated.wall/decode.wall)
	}
	if decode.cpu > 0 && aggregated.cpu > 0 && traced.cpu > 0 {
		fmt.Printf("BenchmarkIngest: per CPU second: decode only %.0f spans; as /v1/traces %.0f spans: ratio %.2f; aggregation without the sample %.0f spans: ratio %.2f\n",
			decode.cpu, traced.cpu, traced.cpu/decode.cpu, aggregated.cpu, aggregated.cpu/decode.cpu)
	}
}

// ingestRate is spans ingested per second of wall-clock time and per
// second of the process's CPU time (0 where that cannot be read).
type ingestRate struct{ wall, cpu float64 }

// benchIngest decodes the exports in turn, one every 100 ms of the
// benchmark's time, hands each to visit and calls step every 10 s, both
// when not nil, and reports the rates.
func benchIngest(b *testing.B, bodies [][]byte, visit func(td ptrace.Traces, now time.Time), step func(now time.Time)) ingestRate {
	const spans = 1002
	cpu := cputime.Used()
	for i := 0; b.Loop(); i++ {
		now := t0.Add(time.Minute + time.Duration(i)*benchEvery)
		td, err := otlpin.DecodeTraces(bodies[i%len(bodies)], otlpin.Protobuf)
		if err != nil {
			b.Fatal(err)
		}
		if visit != nil {
			visit(td, now)
		}
		if step != nil && i%benchStep == benchStep-1 {
			step(now)
		}
	}
	var r ingestRate
	r.wall = float64(b.N*spans) / b.Elapsed().Seconds()
	b.ReportMetric(r.wall, "spans/s")
	if used := cputime.Used() - cpu; cpu > 0 && used > 0 {
		r.cpu = float64(b.N*spans) / used.Seconds()
		b.ReportMetric(r.cpu, "spans/cpu-s")
	}
	return r
}

// benchRefused stops a benchmark whose spans the aggregator refused as too
// old, which would make it measure less than ingest does: a run of more
// than some 35,000 exports goes beyond the aggregator's hour.
func benchRefused(b *testing.B, a *aggregate.Aggregator) {
	if r := a.Stats().Refused; r > 0 {
		b.Fatalf("%d spans refused as too old: run fewer exports (-benchtime)", r)
	}
}

// BenchmarkUserMemory measures the memory one tracked user costs an
// objective and its service (whose users ingest follows once more, for
// the service's customers having a bad time): heap growth over 100,000
// users, per user (target: at most 200 bytes).
func BenchmarkUserMemory(b *testing.B) {
	const users = 100_000
	var perUser float64
	for b.Loop() {
		runtime.GC()
		a := aggregate.New(aggregate.Limits{})
		a.Set([]aggregate.Target{{ID: "s", ProjectID: "p", Objective: objective(b, "shop", slo.KindAvailability, slo.Selector{})}})
		r := span("shop", "x", false, 0)
		ids := make([]string, users)
		for i := range ids {
			ids[i] = fmt.Sprintf("user-%d", i)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i, id := range ids {
			a.Observe("p", r, id, t0.Add(time.Duration(i)*time.Millisecond), t0.Add(2*time.Minute))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perUser = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / users
		runtime.KeepAlive(a)
		runtime.KeepAlive(ids)
	}
	b.ReportMetric(perUser, "bytes/user")
}
