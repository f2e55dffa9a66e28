package attribution_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/attribution"
)

var checkout = attribution.Operation{Service: "edge", Name: "GET /checkout"}

// record turns a test span, whose ids are short strings, into what the
// sampler takes: the strings' bytes are the binary ids.
func record(sp attribution.Span) *attribution.Record {
	r := &attribution.Record{Service: sp.Service, Name: sp.Name, Kind: sp.Kind, Error: sp.Error,
		PeerService: sp.PeerService, ServerAddress: sp.ServerAddress, Start: sp.Start, End: sp.End}
	copy(r.TraceID[:], sp.TraceID)
	copy(r.SpanID[:], sp.SpanID)
	copy(r.ParentID[:], sp.ParentID)
	return r
}

// short reads an id the sampler handed out, hex-encoded, back as the
// test's string.
func short(t *testing.T, id string) string {
	t.Helper()
	b, err := hex.DecodeString(id)
	if err != nil {
		t.Fatalf("id %q is not hex: %v", id, err)
	}
	return string(bytes.TrimRight(b, "\x00"))
}

func ids(t *testing.T, traces []attribution.Trace) []string {
	t.Helper()
	var out []string
	for _, tr := range traces {
		out = append(out, short(t, tr.ID))
	}
	return out
}

func newSampler(t *testing.T, cfg attribution.SamplerConfig) *attribution.Sampler {
	t.Helper()
	s, err := attribution.NewSampler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Spans of interleaved traces come shuffled, in batches seconds apart; a
// trace is judged once it has been quiet for the quiet period, and only
// those with a failure are kept, newest first.
func TestSamplerAssemblesTracesFromShuffledBatches(t *testing.T) {
	s := newSampler(t, attribution.SamplerConfig{Quiet: 10 * time.Second})
	var all []attribution.Span
	for _, tr := range [][]attribution.Span{request("a", "db"), request("b", "none"), request("c", "api")} {
		all = append(all, tr...)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	now := t0
	for i, sp := range all {
		if i%4 == 0 {
			now = now.Add(3 * time.Second)
			s.Advance(now)
		}
		s.Add(record(sp), now)
	}
	if s.Pending() != 3 {
		t.Fatalf("%d pending, want 3 still being assembled", s.Pending())
	}
	s.Advance(now.Add(9 * time.Second))
	if s.Pending() == 0 {
		t.Fatal("the trace whose last span came at the end was judged before its quiet period")
	}
	s.Advance(now.Add(time.Minute))
	got := s.Traces(checkout)
	if s.Pending() != 0 || len(got) != 2 || len(got[0].Spans) != 6 || len(got[1].Spans) != 6 {
		t.Fatalf("kept %v with %d pending, want the two failing traces whole", ids(t, got), s.Pending())
	}
	d := attribution.Decide("edge", attribution.Spans(got), attribution.Config{MinTraces: 1})
	if len(d.Shares) != 2 {
		t.Errorf("shares %+v", d.Shares)
	}
}

func TestSamplerBounds(t *testing.T) {
	s := newSampler(t, attribution.SamplerConfig{Quiet: time.Second, PerOperation: 3, MaxPending: 2, MaxSpans: 4, MaxOperations: 2})
	now := t0
	add := func(spans []attribution.Span) {
		for _, sp := range spans {
			s.Add(record(sp), now)
		}
		now = now.Add(2 * time.Second)
		s.Advance(now)
	}
	for _, id := range []string{"1", "2", "3", "4"} {
		add(request(id, "edge"))
	}
	got := s.Traces(checkout)
	if !slices.Equal(ids(t, got), []string{"4", "3", "2"}) || !got[0].Truncated || len(got[0].Spans) != 4 {
		t.Errorf("kept %v (truncated %v), want the newest three, cut to four spans", ids(t, got), got[0].Truncated)
	}
	st := s.Stats()
	if st.Evicted != 1 || st.DroppedSpans != 8 {
		t.Errorf("stats %+v, want one eviction and two spans dropped from each of four traces", st)
	}

	// Three traces at once with room for two: the quietest is judged
	// early.
	for _, id := range []string{"x", "y", "z"} {
		s.Add(record(request(id, "edge")[0]), now)
		now = now.Add(100 * time.Millisecond)
	}
	if s.Pending() != 2 || s.Stats().Early != 1 {
		t.Errorf("%d pending, %d early; want 2 and 1", s.Pending(), s.Stats().Early)
	}

	// A span that comes after its trace was judged starts a fragment
	// without a root, which is counted and dropped.
	late := request("4", "db")[5]
	s.Add(record(late), now)
	s.Advance(now.Add(time.Minute))
	if s.Stats().Orphaned != 1 {
		t.Errorf("stats %+v, want the late fragment orphaned", s.Stats())
	}

	// A third operation pushes out the one that failed longest ago.
	other := request("o", "edge")
	for i := range other {
		other[i].Name = "GET /other"
		if other[i].ParentID == "" {
			other[i].Service = "admin"
		}
	}
	now = now.Add(time.Minute)
	add(other)
	other2 := request("p", "edge")
	for i := range other2 {
		if other2[i].ParentID == "" {
			other2[i].Name = "GET /third"
		}
	}
	now = now.Add(time.Minute)
	add(other2)
	if len(s.Traces(checkout)) != 0 || len(s.Traces(attribution.Operation{Service: "admin", Name: "GET /other"})) != 1 {
		t.Errorf("operations after the third: checkout %v", ids(t, s.Traces(checkout)))
	}

	for _, bad := range []attribution.SamplerConfig{{Quiet: time.Millisecond}, {MaxPending: -1}, {PerOperation: 2_000_000}} {
		if _, err := attribution.NewSampler(bad); nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) == "" {
			t.Errorf("NewSampler(%+v) = %v, want a field error", bad, err)
		}
	}
}

// benchRecords are 30,000 spans of 10,000 three-span traces, every 50th
// failing, as exports bring them: by service.
func benchRecords() []attribution.Record {
	var out []attribution.Record
	for si, svc := range []string{"frontend", "orders", "payments"} {
		for i := range 10000 {
			r := attribution.Record{TraceID: [16]byte{byte(i), byte(i >> 8), 2: 1, 15: 9}, SpanID: [8]byte{byte(i), byte(i >> 8), byte(si), 1},
				Service: svc, Name: fmt.Sprintf("GET /api/%s/%d", svc, i%5), Kind: attribution.KindServer, Error: i%50 == 49,
				Start: t0.Add(time.Duration(i) * time.Millisecond), End: t0.Add(time.Duration(i+5) * time.Millisecond)}
			if si > 0 {
				r.ParentID = [8]byte{byte(i), byte(i >> 8), byte(si - 1), 1}
			}
			out = append(out, r)
		}
	}
	return out
}

// Once the sampler has judged as many traces as it assembles at once, it
// takes spans without allocating: records go into buffers judged traces
// left behind, and names are numbered once.
func TestSamplerAddDoesNotAllocate(t *testing.T) {
	s := newSampler(t, attribution.SamplerConfig{MaxPending: 10000})
	recs := benchRecords()
	now := t0
	feed := func() {
		for i := range recs {
			s.Add(&recs[i], now)
		}
		now = now.Add(time.Minute)
		s.Advance(now)
	}
	feed()
	// Only healthy traces this time, so none is kept (keeping one
	// allocates its Spans).
	for i := range recs {
		recs[i].Error = false
	}
	if n := testing.AllocsPerRun(3, feed); n > 0 {
		t.Errorf("%.0f allocations for %d spans, want none", n, len(recs))
	}
	if s.Pending() != 0 || len(s.Traces(attribution.Operation{Service: "frontend", Name: "GET /api/frontend/4"})) != 50 {
		t.Errorf("%d pending, %d kept", s.Pending(), len(s.Traces(attribution.Operation{Service: "frontend", Name: "GET /api/frontend/4"})))
	}
}

// BenchmarkSamplerAdd measures feeding the sampler alone, per span.
func BenchmarkSamplerAdd(b *testing.B) {
	s, _ := attribution.NewSampler(attribution.SamplerConfig{})
	recs := benchRecords()
	now := t0
	for i := 0; b.Loop(); i++ {
		s.Add(&recs[i%len(recs)], now)
		if i%len(recs) == len(recs)-1 {
			now = now.Add(time.Minute)
			s.Advance(now)
		}
	}
}
