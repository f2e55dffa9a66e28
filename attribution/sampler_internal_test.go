package attribution

import (
	"fmt"
	"testing"
	"time"
)

// Spans whose names never repeat (an instrumentation that puts ids in
// span names) must not grow the table of names without bound: names no
// pending span uses are dropped, and the ones in use keep their meaning.
func TestSamplerNamesStayBounded(t *testing.T) {
	s, err := NewSampler(SamplerConfig{MaxPending: 100, PerOperation: 1, MaxOperations: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC)
	const traces = 20_000
	most := 0
	for i := range traces {
		id := [16]byte{byte(i), byte(i >> 8), 15: 1}
		s.Add(&Record{TraceID: id, SpanID: [8]byte{1}, Service: "edge", Name: fmt.Sprintf("GET /orders/%d", i), Kind: KindServer, Error: true, Start: t0, End: t0}, t0)
		s.Add(&Record{TraceID: id, SpanID: [8]byte{2}, ParentID: [8]byte{1}, Service: "edge", Name: fmt.Sprintf("SELECT %d", i), Kind: KindClient,
			PeerService: fmt.Sprintf("db-%d", i), ServerAddress: fmt.Sprintf("10.0.%d.%d", i>>8, i&255), Error: true, Start: t0, End: t0}, t0)
		most = max(most, len(s.names.list))
	}
	if most > 2*minNames {
		t.Errorf("the table of names reached %d entries with at most %d spans pending", most, 2*100)
	}
	s.Advance(t0.Add(time.Hour))
	for i := range traces {
		kept := s.Traces(Operation{Service: "edge", Name: fmt.Sprintf("GET /orders/%d", i)})
		if len(kept) != 1 {
			t.Fatalf("trace %d: kept %d", i, len(kept))
		}
		o, ok := FindOrigin(kept[0].Spans)
		want := fmt.Sprintf("db-%d", i)
		if !ok || o.Service != want || o.Path[1] != fmt.Sprintf("edge: SELECT %d", i) || kept[0].Spans[1].ServerAddress != fmt.Sprintf("10.0.%d.%d", i>>8, i&255) {
			t.Errorf("trace %d: origin %+v, %v; want %s", i, o, ok, want)
		}
	}
}
