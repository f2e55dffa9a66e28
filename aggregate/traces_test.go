package aggregate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/attribution"
)

// chain is one trace through frontend → api → db (a peer without spans);
// failing makes the database call fail, and every span above it.
func chain(id int, failing bool, at time.Time) []attribution.Record {
	tid := [16]byte{14: byte(id >> 8), 15: byte(id)}
	return []attribution.Record{
		{TraceID: tid, SpanID: [8]byte{7: 1}, Service: "frontend", Name: "GET /", Kind: "SERVER", Error: failing, Start: at, End: at.Add(30 * time.Millisecond)},
		{TraceID: tid, SpanID: [8]byte{7: 2}, ParentID: [8]byte{7: 1}, Service: "frontend", Name: "call api", Kind: "CLIENT", Error: failing, PeerService: "api", Start: at, End: at.Add(25 * time.Millisecond)},
		{TraceID: tid, SpanID: [8]byte{7: 3}, ParentID: [8]byte{7: 2}, Service: "api", Name: "GET /items", Kind: "SERVER", Error: failing, Start: at, End: at.Add(20 * time.Millisecond)},
		{TraceID: tid, SpanID: [8]byte{7: 4}, ParentID: [8]byte{7: 3}, Service: "api", Name: "SELECT", Kind: "CLIENT", Error: failing, PeerService: "db", Start: at, End: at.Add(10 * time.Millisecond)},
	}
}

func TestTracesEvidence(t *testing.T) {
	tr, err := aggregate.NewTraces(attribution.SamplerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		for _, sp := range chain(i, i%2 == 0, t0) {
			tr.Add("p", sp, t0)
		}
	}
	// Another project's traces are its own.
	for _, sp := range chain(99, true, t0) {
		tr.Add("other", sp, t0)
	}
	op := attribution.Operation{Service: "frontend", Name: "GET /"}
	if _, ok := tr.Decide("p", op, t0, t0.Add(time.Hour), attribution.Config{}); ok {
		t.Fatal("a decision before any trace was complete")
	}
	tr.Advance(t0.Add(time.Minute))
	d, ok := tr.Decide("p", op, t0, t0.Add(time.Hour), attribution.Config{})
	if !ok || d.Service != "db" || !d.Attributed || d.Traces != 10 {
		t.Fatalf("decision = %+v, %v", d, ok)
	}
	if _, ok := tr.Decide("p", op, t0.Add(2*time.Minute), t0.Add(time.Hour), attribution.Config{}); ok {
		t.Error("traces completed before the window were voted on")
	}
	ev := aggregate.Evidence(d)
	if ev["origin_service"] != "db" || ev["origin_shares"] != "db 100%" || !strings.Contains(ev["origin_examples"], "api: SELECT → peer: db") {
		t.Errorf("evidence = %v", ev)
	}
	if d, ok := tr.Decide("other", op, t0, t0.Add(time.Hour), attribution.Config{}); !ok || d.Traces != 1 {
		t.Errorf("other project: %+v, %v", d, ok)
	}
}
