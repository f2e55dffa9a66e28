package attribution

import (
	"fmt"
	"math/rand/v2"
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
	const traces = 10_000
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

// The index of pending traces finds what a map would, through ids whose
// hashes collide, clusters that wrap around the end of its table, growth,
// and deletions that move entries back.
func TestTraceIndexAgainstAMap(t *testing.T) {
	x := newTraceIndex()
	rng := rand.New(rand.NewPCG(1, 2))
	var traces []pendingTrace
	var free []int32
	want := map[[16]byte]int32{}
	var ids [][16]byte
	// Few distinct hashes, some of them at the table's end.
	hash := func(id [16]byte) uint32 { return uint32(id[0]%12) * 0x0fffffff }
	for step := range 50_000 {
		switch op := rng.IntN(3); {
		case op == 0 && len(want) < 300:
			id := [16]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}
			if _, dup := want[id]; dup {
				continue
			}
			var i int32
			if len(free) > 0 {
				i, free = free[len(free)-1], free[:len(free)-1]
			} else {
				i = int32(len(traces))
				traces = append(traces, pendingTrace{})
			}
			traces[i] = pendingTrace{id: id, hash: hash(id)}
			x.insert(hash(id), i)
			want[id] = i
			ids = append(ids, id)
		case op == 1 && len(ids) > 0:
			k := rng.IntN(len(ids))
			id := ids[k]
			ids[k] = ids[len(ids)-1]
			ids = ids[:len(ids)-1]
			i := want[id]
			x.remove(hash(id), i)
			delete(want, id)
			free = append(free, i)
		default:
			id := [16]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}
			if len(ids) > 0 && rng.IntN(2) == 0 {
				id = ids[rng.IntN(len(ids))]
			}
			i, ok := want[id]
			if !ok {
				i = none
			}
			if got := x.find(hash(id), &id, traces); got != i {
				t.Fatalf("step %d: find(%x) = %d, want %d", step, id[:3], got, i)
			}
		}
		if x.n != len(want) {
			t.Fatalf("step %d: %d entries, want %d", step, x.n, len(want))
		}
	}
	for id, i := range want {
		if got := x.find(hash(id), &id, traces); got != i {
			t.Fatalf("find(%x) = %d, want %d", id[:3], got, i)
		}
	}
}
