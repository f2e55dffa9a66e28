package attribution_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/attribution"
)

var t0 = time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC)

// request builds one checkout through a three-service app, edge → api →
// orders-db, with the failure injected where named:
//
//	db        the database's server span fails, and every caller above
//	uninstrumented  the database sends no spans; api's client span fails
//	api       api fails by itself after a good database call
//	edge      the edge fails by itself after a good api call
//	timeout   api's client call times out although the database answered
//	none      nothing fails
func request(id, failure string) []attribution.Span {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	s := []attribution.Span{
		{SpanID: "e1", Service: "edge", Name: "GET /checkout", Kind: "SERVER", Start: at(0), End: at(90)},
		{SpanID: "e2", ParentID: "e1", Service: "edge", Name: "POST /orders", Kind: "CLIENT", PeerService: "api", Start: at(5), End: at(85)},
		{SpanID: "a1", ParentID: "e2", Service: "api", Name: "POST /orders", Kind: "SERVER", Start: at(10), End: at(80)},
		{SpanID: "a2", ParentID: "a1", Service: "api", Name: "validate", Kind: "INTERNAL", Start: at(11), End: at(12)},
		{SpanID: "a3", ParentID: "a1", Service: "api", Name: "INSERT orders", Kind: "CLIENT", PeerService: "orders-db", ServerAddress: "db.internal", Start: at(20), End: at(70)},
		{SpanID: "d1", ParentID: "a3", Service: "orders-db", Name: "INSERT orders", Kind: "SERVER", Start: at(25), End: at(65)},
	}
	fail := func(ids ...string) {
		for i := range s {
			if slices.Contains(ids, s[i].SpanID) {
				s[i].Error = true
			}
		}
	}
	switch failure {
	case "db":
		fail("d1", "a3", "a1", "e2", "e1")
	case "uninstrumented":
		s = s[:5]
		fail("a3", "a1", "e2", "e1")
	case "address-only":
		s = s[:5]
		s[4].PeerService = ""
		fail("a3", "a1", "e2", "e1")
	case "api":
		fail("a1", "e2", "e1")
	case "edge":
		fail("e1")
	case "timeout":
		fail("a3", "a1", "e2", "e1")
	case "db-and-cache":
		// The uninstrumented database fails at 20ms and, as deep, a cache
		// that sends spans fails at 30ms: the earlier one is the origin.
		s = s[:5]
		s = append(s,
			attribution.Span{SpanID: "a4", ParentID: "a1", Service: "api", Name: "GET cart", Kind: "CLIENT", PeerService: "cache", Start: at(30), End: at(40), Error: true},
			attribution.Span{SpanID: "c1", ParentID: "a4", Service: "cache", Name: "GET cart", Kind: "SERVER", Start: at(31), End: at(39), Error: true})
		fail("a3", "a1", "e2", "e1")
	}
	for i := range s {
		s[i].TraceID = id
	}
	return s
}

func TestFindOrigin(t *testing.T) {
	for _, tc := range []struct {
		failure, service, span string
		peer                   bool
		path                   string
	}{
		{"db", "orders-db", "d1", false, "edge: GET /checkout > edge: POST /orders > api: POST /orders > api: INSERT orders > orders-db: INSERT orders"},
		{"uninstrumented", "orders-db", "a3", true, "edge: GET /checkout > edge: POST /orders > api: POST /orders > api: INSERT orders > peer: orders-db"},
		{"address-only", "db.internal", "a3", true, "edge: GET /checkout > edge: POST /orders > api: POST /orders > api: INSERT orders > peer: db.internal"},
		{"api", "api", "a1", false, "edge: GET /checkout > edge: POST /orders > api: POST /orders"},
		{"edge", "edge", "e1", false, "edge: GET /checkout"},
		{"timeout", "api", "a3", false, "edge: GET /checkout > edge: POST /orders > api: POST /orders > api: INSERT orders"},
		{"db-and-cache", "orders-db", "a3", true, "edge: GET /checkout > edge: POST /orders > api: POST /orders > api: INSERT orders > peer: orders-db"},
	} {
		spans := request("t-"+tc.failure, tc.failure)
		// The answer must not depend on the order the spans came in.
		for round := range 5 {
			rng := rand.New(rand.NewPCG(uint64(round), 1))
			rng.Shuffle(len(spans), func(i, j int) { spans[i], spans[j] = spans[j], spans[i] })
			o, ok := attribution.FindOrigin(spans)
			if !ok || o.Service != tc.service || o.SpanID != tc.span || o.Peer != tc.peer || strings.Join(o.Path, " > ") != tc.path || o.TraceID != "t-"+tc.failure {
				t.Errorf("%s: origin %+v, %v; want %s at %s (peer %v) via %s", tc.failure, o, ok, tc.service, tc.span, tc.peer, tc.path)
				break
			}
		}
	}
	if o, ok := attribution.FindOrigin(request("ok", "none")); ok {
		t.Errorf("a trace without failures has origin %+v", o)
	}
	// A trace missing its root still names the origin of what arrived.
	partial := request("p", "db")[2:]
	if o, ok := attribution.FindOrigin(partial); !ok || o.Service != "orders-db" || o.Path[0] != "api: POST /orders" {
		t.Errorf("partial trace: %+v, %v", o, ok)
	}
	// Garbage does not hang or panic: a parent cycle and a duplicate id.
	cyc := []attribution.Span{
		{SpanID: "x", ParentID: "y", Error: true, Service: "a"},
		{SpanID: "y", ParentID: "x", Error: true, Service: "b"},
		{SpanID: "z", ParentID: "z", Error: true, Service: "c"},
		{SpanID: "z", Error: true, Service: "d"},
	}
	if o, ok := attribution.FindOrigin(cyc); !ok || o.Service != "c" {
		t.Errorf("cycle: %+v, %v; want the self-parented span as a root", o, ok)
	}
}

func votes(t *testing.T, counts map[string]int) [][]attribution.Span {
	t.Helper()
	var traces [][]attribution.Span
	for _, failure := range []string{"db", "uninstrumented", "api", "edge", "timeout", "none"} {
		for i := range counts[failure] {
			traces = append(traces, request(fmt.Sprintf("%s-%d", failure, i), failure))
		}
	}
	return traces
}

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name       string
		counts     map[string]int
		service    string
		attributed bool
		reason     string
	}{
		{"failures in the deepest service", map[string]int{"db": 8, "uninstrumented": 2}, "orders-db", true,
			"10 of 10 failing traces (100%) originate in orders-db"},
		{"a clear majority", map[string]int{"db": 6, "api": 3, "none": 5}, "orders-db", true,
			"6 of 9 failing traces (67%) originate in orders-db"},
		{"no clear winner", map[string]int{"db": 5, "api": 4, "edge": 1}, "edge", false,
			"no service is the origin of 60% of the failures (the most, orders-db, of 50%), so the edge service is paged"},
		{"too few traces", map[string]int{"db": 4}, "edge", false,
			"4 failing traces are fewer than the 5 needed to name an origin, so the edge service is paged"},
		{"the edge itself", map[string]int{"edge": 7, "timeout": 1}, "edge", true,
			"7 of 8 failing traces (88%) originate in edge"},
		{"nothing failed", map[string]int{"none": 3}, "edge", false,
			"no failing trace had a failing span, so the edge service is paged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := attribution.Decide("edge", votes(t, tc.counts), attribution.Config{})
			if d.Service != tc.service || d.Attributed != tc.attributed || d.Reason != tc.reason {
				t.Errorf("decision %s (attributed %v): %s\nwant %s (attributed %v): %s", d.Service, d.Attributed, d.Reason, tc.service, tc.attributed, tc.reason)
			}
			total := 0
			for i, sh := range d.Shares {
				total += sh.Votes
				if len(sh.Examples) == 0 || len(sh.Examples) > 3 || (i > 0 && sh.Votes > d.Shares[i-1].Votes) {
					t.Errorf("share %+v", sh)
				}
			}
			if total != d.Traces {
				t.Errorf("%d votes for %d traces", total, d.Traces)
			}
		})
	}
	d := attribution.Decide("edge", votes(t, map[string]int{"db": 2, "api": 1}), attribution.Config{MinShare: 0.66, MinTraces: 2, Examples: 1})
	if d.Service != "orders-db" || len(d.Shares[0].Examples) != 1 || d.Shares[0].Examples[0].Path[4] != "orders-db: INSERT orders" {
		t.Errorf("with a lower bar: %+v", d)
	}
	for _, bad := range []attribution.Config{{MinShare: 0.5}, {MinShare: 1.5}, {MinTraces: -1}, {Examples: 1000}} {
		if err := bad.Validate(); nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) == "" {
			t.Errorf("Validate(%+v) = %v, want a field error", bad, err)
		}
	}
}

// On random span trees the origin is a failing span none of whose
// children failed, and no failing span with that property is deeper.
func TestOriginProperty(t *testing.T) {
	for seed := range uint64(500) {
		rng := rand.New(rand.NewPCG(seed, 5))
		n := 1 + rng.IntN(30)
		spans := make([]attribution.Span, n)
		depth := make([]int, n)
		for i := range spans {
			spans[i] = attribution.Span{TraceID: "t", SpanID: fmt.Sprint("s", i), Service: fmt.Sprint("svc", rng.IntN(4)),
				Kind: []string{"SERVER", "CLIENT", "INTERNAL"}[rng.IntN(3)], Error: rng.IntN(3) == 0, Start: t0.Add(time.Duration(rng.IntN(5)) * time.Millisecond)}
			if i > 0 {
				p := rng.IntN(i)
				spans[i].ParentID, depth[i] = spans[p].SpanID, depth[p]+1
			}
		}
		o, ok := attribution.FindOrigin(spans)
		leafFailure := func(i int) bool {
			if !spans[i].Error {
				return false
			}
			for j := range spans {
				if spans[j].ParentID == spans[i].SpanID && spans[j].Error {
					return false
				}
			}
			return true
		}
		anyFailed := slices.ContainsFunc(spans, func(s attribution.Span) bool { return s.Error })
		if ok != anyFailed {
			t.Fatalf("seed %d: origin found %v, a span failed %v", seed, ok, anyFailed)
		}
		if !ok {
			continue
		}
		i := slices.IndexFunc(spans, func(s attribution.Span) bool { return s.SpanID == o.SpanID })
		if !leafFailure(i) || len(o.Path) != depth[i]+1 {
			t.Fatalf("seed %d: origin %+v is not a failing span without failing children at its depth", seed, o)
		}
		for j := range spans {
			if leafFailure(j) && depth[j] > depth[i] {
				t.Fatalf("seed %d: %s is a deeper origin than %s", seed, spans[j].SpanID, o.SpanID)
			}
		}
	}
}
