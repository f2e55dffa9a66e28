package attribution

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// SamplerConfig bounds a Sampler. Its zero value means the defaults.
type SamplerConfig struct {
	// Quiet is how long a trace must go without a new span to be
	// complete: 30s when zero.
	Quiet time.Duration `json:"quiet,omitempty" yaml:"quiet,omitempty"`
	// MaxPending is how many traces may be assembled at once: 10,000
	// when zero. When a new trace would exceed it, the trace that has
	// gone longest without a span is completed early.
	MaxPending int `json:"max_pending,omitempty" yaml:"max_pending,omitempty"`
	// MaxSpans is how many spans one trace keeps: 500 when zero; later
	// spans are dropped and the trace marked truncated.
	MaxSpans int `json:"max_spans,omitempty" yaml:"max_spans,omitempty"`
	// PerOperation is how many failing traces are kept per edge
	// operation, the newest: 50 when zero.
	PerOperation int `json:"per_operation,omitempty" yaml:"per_operation,omitempty"`
	// MaxOperations is how many operations are kept: 1,000 when zero;
	// the one whose newest trace is oldest is forgotten first.
	MaxOperations int `json:"max_operations,omitempty" yaml:"max_operations,omitempty"`
}

// Validate checks a configuration, naming the field at fault.
func (c *SamplerConfig) Validate() error {
	var p nightjar.Problems
	if c.Quiet != 0 && (c.Quiet < time.Second || c.Quiet > 10*time.Minute) {
		p.Add("quiet", "must be from 1s to 10m; got %s", c.Quiet)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"max_pending", c.MaxPending}, {"max_spans", c.MaxSpans}, {"per_operation", c.PerOperation}, {"max_operations", c.MaxOperations}} {
		if f.v < 0 || f.v > 1_000_000 {
			p.Add(f.name, "must be from 1 to 1000000, or 0 for the default")
		}
	}
	return p.Err()
}

// Operation names an edge operation: the root span's service and name.
type Operation struct {
	Service, Name string
}

// Trace is a complete trace that contains a failure.
type Trace struct {
	ID    string
	Spans []Span
	// Completed is when it was judged complete.
	Completed time.Time
	// Truncated is true when spans over the limit were dropped.
	Truncated bool
}

// SamplerStats count what a Sampler let go.
type SamplerStats struct {
	// Early is how many traces were completed before their quiet period
	// because too many were pending.
	Early int64
	// DroppedSpans were over a trace's limit.
	DroppedSpans int64
	// Orphaned traces failed but had no root span, so no operation (a
	// span that came after its trace was completed starts such a
	// fragment).
	Orphaned int64
	// Evicted traces were pushed out by newer ones of their operation or
	// went with a forgotten operation.
	Evicted int64
}

// Record is one span as a Sampler takes it: the ids binary, as OTLP
// carries them, so that feeding the sample converts nothing. Kept traces
// hand them out hex-encoded, as Span.
type Record struct {
	TraceID  [16]byte
	SpanID   [8]byte
	ParentID [8]byte // zero for a root span
	Service  string
	Name     string
	// Kind is SERVER, CLIENT, INTERNAL, PRODUCER or CONSUMER.
	Kind                       string
	Error                      bool
	PeerService, ServerAddress string
	Start, End                 time.Time
}

// Sampler keeps a bounded, recent, tail-based sample of traces that
// contain a failure, per edge operation, fed span by span. Spans of a trace
// may come in any order and in several batches; a trace is complete once
// no span of it has come for the quiet period. It holds at most
// MaxPending × MaxSpans spans being assembled and MaxOperations ×
// PerOperation × MaxSpans kept. It is not safe for concurrent use.
//
// Every span must be held until its trace is judged, since a failure may
// come in a later batch than the spans above it. So a span being
// assembled is held as a small fixed-size record without pointers (ids,
// times, kind, and its names as numbers in a table of the distinct names
// seen, 56 bytes), which costs neither an allocation per span nor the
// garbage collector's time; only the traces kept are turned back into
// Spans.
type Sampler struct {
	cfg SamplerConfig
	// index finds a pending trace in traces, which are linked oldest
	// last span first from head to tail; judged ones are linked from
	// free for reuse.
	index            traceIndex
	traces           []pendingTrace
	head, tail, free int32
	pending          int
	names            names
	ops              map[Operation]*kept
	stats            SamplerStats
}

// none ends the lists of pending traces.
const none = -1

type pendingTrace struct {
	id         [16]byte
	hash       uint32 // of id, in index
	spans      []record
	last       int64 // Unix nanoseconds
	prev, next int32
	failed     bool
	truncated  bool
}

// record is a span being assembled. Names are numbers in the sampler's
// table, zero for none.
type record struct {
	span, parent                 [8]byte
	start, end                   int64 // Unix nanoseconds
	service, name, peer, address uint32
	kind                         uint8
	err                          bool
}

// kindNames are the span kinds by record.kind; 0 is an empty or unknown
// kind.
var kindNames = [...]string{"", KindServer, KindClient, KindInternal, KindProducer, KindConsumer}

func kindOf(k string) uint8 {
	switch k {
	case KindServer:
		return 1
	case KindClient:
		return 2
	case KindInternal:
		return 3
	case KindProducer:
		return 4
	case KindConsumer:
		return 5
	}
	return 0
}

// keepBuffer is the capacity up to which a judged trace's span buffer is
// kept for the next trace in its place (so at most 16 × 56 bytes a place
// stay held when traces are few again); larger ones are let go.
const keepBuffer = 16

type kept struct {
	traces []Trace // oldest first
	newest time.Time
}

// NewSampler returns a sampler, or the configuration's field error.
func NewSampler(cfg SamplerConfig) (*Sampler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Quiet = cmp.Or(cfg.Quiet, 30*time.Second)
	cfg.MaxPending = cmp.Or(cfg.MaxPending, 10000)
	cfg.MaxSpans = cmp.Or(cfg.MaxSpans, 500)
	cfg.PerOperation = cmp.Or(cfg.PerOperation, 50)
	cfg.MaxOperations = cmp.Or(cfg.MaxOperations, 1000)
	return &Sampler{cfg: cfg, index: newTraceIndex(), head: none, tail: none, free: none,
		names: newNames(), ops: map[Operation]*kept{}}, nil
}

// Add takes one span that arrived at now. It keeps none of r's strings
// beyond the call but copies of names it has not seen, so the sampler
// never holds on to the request r was decoded from.
func (s *Sampler) Add(r *Record, now time.Time) {
	at := now.UnixNano()
	h := s.index.hash(&r.TraceID)
	i := s.index.find(h, &r.TraceID, s.traces)
	if i == none {
		if s.pending >= s.cfg.MaxPending {
			s.stats.Early++
			s.complete(s.head, now)
		}
		i = s.push(h, r.TraceID)
	} else if s.traces[i].last != at {
		// A trace whose last span came at now is among the last
		// already: the list stays in order of last span.
		s.toBack(i)
	}
	p := &s.traces[i]
	p.last = at
	if len(p.spans) >= s.cfg.MaxSpans {
		p.truncated = true
		s.stats.DroppedSpans++
		return
	}
	if s.names.full() {
		s.compactNames()
	}
	p.spans = append(p.spans, record{span: r.SpanID, parent: r.ParentID,
		start: r.Start.UnixNano(), end: r.End.UnixNano(),
		service: s.names.service(r.Service), name: s.names.id(r.Name),
		peer: s.names.id(r.PeerService), address: s.names.id(r.ServerAddress),
		kind: kindOf(r.Kind), err: r.Error})
	p.failed = p.failed || r.Error
}

// push starts a pending trace at the tail, in a judged one's place when
// there is one.
func (s *Sampler) push(h uint32, id [16]byte) int32 {
	i := s.free
	if i == none {
		i = int32(len(s.traces))
		s.traces = append(s.traces, pendingTrace{})
	} else {
		s.free = s.traces[i].next
	}
	p := &s.traces[i]
	*p = pendingTrace{id: id, hash: h, spans: p.spans[:0], prev: s.tail, next: none}
	if s.tail != none {
		s.traces[s.tail].next = i
	} else {
		s.head = i
	}
	s.tail = i
	s.index.insert(h, i)
	s.pending++
	return i
}

// unlink takes a pending trace out of the list.
func (s *Sampler) unlink(i int32) {
	p := &s.traces[i]
	if p.prev != none {
		s.traces[p.prev].next = p.next
	} else {
		s.head = p.next
	}
	if p.next != none {
		s.traces[p.next].prev = p.prev
	} else {
		s.tail = p.prev
	}
}

// toBack moves a pending trace to the tail: it has the newest span.
func (s *Sampler) toBack(i int32) {
	if s.tail == i {
		return
	}
	s.unlink(i)
	p := &s.traces[i]
	p.prev, p.next = s.tail, none
	s.traces[s.tail].next = i
	s.tail = i
}

// Advance completes every trace that has been quiet for the quiet period
// by now.
func (s *Sampler) Advance(now time.Time) {
	cut := now.Add(-s.cfg.Quiet).UnixNano()
	for s.head != none && s.traces[s.head].last <= cut {
		s.complete(s.head, now)
	}
}

// complete judges a pending trace: kept when a span failed and it has a
// root, dropped otherwise. Its place goes to the free list.
func (s *Sampler) complete(i int32, now time.Time) {
	s.unlink(i)
	p := &s.traces[i]
	s.index.remove(p.hash, i)
	s.pending--
	if p.failed {
		s.keep(p, now)
	}
	if cap(p.spans) > keepBuffer {
		p.spans = nil
	}
	p.next = s.free
	s.free = i
}

// keep turns a failing trace's records into Spans and keeps it under its
// operation, when it has a root.
func (s *Sampler) keep(p *pendingTrace, now time.Time) {
	root := -1
	for j := range p.spans {
		r := &p.spans[j]
		if r.parent == [8]byte{} && (root < 0 || r.start < p.spans[root].start ||
			(r.start == p.spans[root].start && bytes.Compare(r.span[:], p.spans[root].span[:]) < 0)) {
			root = j
		}
	}
	if root < 0 {
		s.stats.Orphaned++
		return
	}
	op := Operation{Service: s.names.str(p.spans[root].service), Name: s.names.str(p.spans[root].name)}
	k := s.ops[op]
	if k == nil {
		if len(s.ops) >= s.cfg.MaxOperations {
			s.forgetOldestOperation()
		}
		k = &kept{}
		s.ops[op] = k
	}
	if len(k.traces) >= s.cfg.PerOperation {
		k.traces = k.traces[1:]
		s.stats.Evicted++
	}
	id := hex.EncodeToString(p.id[:])
	spans := make([]Span, len(p.spans))
	for j := range p.spans {
		r := &p.spans[j]
		spans[j] = Span{TraceID: id, SpanID: hex.EncodeToString(r.span[:]),
			Service: s.names.str(r.service), Name: s.names.str(r.name), Kind: kindNames[r.kind], Error: r.err,
			PeerService: s.names.str(r.peer), ServerAddress: s.names.str(r.address),
			Start: time.Unix(0, r.start).UTC(), End: time.Unix(0, r.end).UTC()}
		if r.parent != [8]byte{} {
			spans[j].ParentID = hex.EncodeToString(r.parent[:])
		}
	}
	k.traces = append(k.traces, Trace{ID: id, Spans: spans, Completed: now, Truncated: p.truncated})
	k.newest = now
}

func (s *Sampler) forgetOldestOperation() {
	var oldest Operation
	var at time.Time
	first := true
	for op, k := range s.ops {
		if first || k.newest.Before(at) || (k.newest.Equal(at) && (op.Service+"\x00"+op.Name) < (oldest.Service+"\x00"+oldest.Name)) {
			oldest, at, first = op, k.newest, false
		}
	}
	s.stats.Evicted += int64(len(s.ops[oldest].traces))
	delete(s.ops, oldest)
}

// Traces returns the kept failing traces of an operation, newest first.
func (s *Sampler) Traces(op Operation) []Trace {
	k := s.ops[op]
	if k == nil {
		return nil
	}
	out := make([]Trace, len(k.traces))
	for i, t := range k.traces {
		out[len(out)-1-i] = t
	}
	return out
}

// compactNames drops the names no pending span uses any more, so the
// table holds at most about twice the names in use.
func (s *Sampler) compactNames() {
	fresh := newNames()
	remap := make([]uint32, len(s.names.list))
	move := func(n *uint32) {
		if *n == 0 {
			return
		}
		if remap[*n] == 0 {
			remap[*n] = fresh.id(s.names.list[*n])
		}
		*n = remap[*n]
	}
	for i := s.head; i != none; i = s.traces[i].next {
		for j := range s.traces[i].spans {
			r := &s.traces[i].spans[j]
			move(&r.service)
			move(&r.name)
			move(&r.peer)
			move(&r.address)
		}
	}
	fresh.limit = max(minNames, 2*len(fresh.list))
	s.names = fresh
}

// minNames is how many names the table holds before it is first
// compacted.
const minNames = 4096

// names numbers the distinct strings of pending spans; 0 is "".
type names struct {
	ids   map[string]uint32
	list  []string
	limit int
	// lastService and lastServiceID are the last service numbered:
	// spans come grouped by their resource, so mostly the same.
	lastService   string
	lastServiceID uint32
}

func newNames() names {
	return names{ids: map[string]uint32{}, list: []string{""}, limit: minNames}
}

// full reports whether the table should be compacted before a span's
// names (up to four new ones) are added.
func (n *names) full() bool { return len(n.list)+4 > n.limit }

func (n *names) id(v string) uint32 {
	if v == "" {
		return 0
	}
	if i, ok := n.ids[v]; ok {
		return i
	}
	v = strings.Clone(v)
	i := uint32(len(n.list))
	n.list = append(n.list, v)
	n.ids[v] = i
	return i
}

// service is id for a span's service.
func (n *names) service(v string) uint32 {
	if n.lastServiceID == 0 || v != n.lastService {
		n.lastServiceID = n.id(v)
		n.lastService = n.list[n.lastServiceID]
	}
	return n.lastServiceID
}

func (n *names) str(i uint32) string { return n.list[i] }

// Spans returns the spans of traces, the form Decide takes.
func Spans(traces []Trace) [][]Span {
	out := make([][]Span, len(traces))
	for i, t := range traces {
		out[i] = t.Spans
	}
	return out
}

// Pending returns how many traces are being assembled.
func (s *Sampler) Pending() int { return s.pending }

// Stats returns what the sampler let go so far.
func (s *Sampler) Stats() SamplerStats { return s.stats }
