package attribution

import (
	"cmp"
	"container/list"
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

// Sampler keeps a bounded, recent, tail-based sample of traces that
// contain a failure, per edge operation, fed span by span. Spans of a trace
// may come in any order and in several batches; a trace is complete once
// no span of it has come for the quiet period. It holds at most
// MaxPending × MaxSpans spans being assembled and MaxOperations ×
// PerOperation × MaxSpans kept. It is not safe for concurrent use.
type Sampler struct {
	cfg     SamplerConfig
	pending map[string]*list.Element // of *pendingTrace, oldest last span first
	order   *list.List
	ops     map[Operation]*kept
	stats   SamplerStats
}

type pendingTrace struct {
	id        string
	spans     []Span
	last      time.Time
	truncated bool
}

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
	return &Sampler{cfg: cfg, pending: map[string]*list.Element{}, order: list.New(), ops: map[Operation]*kept{}}, nil
}

// Add takes one span that arrived at now. Its strings are copied, so the
// sampler never holds on to the request it was decoded from.
func (s *Sampler) Add(sp Span, now time.Time) {
	e, ok := s.pending[sp.TraceID]
	if !ok {
		if s.order.Len() >= s.cfg.MaxPending {
			s.stats.Early++
			s.complete(s.order.Front(), now)
		}
		id := strings.Clone(sp.TraceID)
		e = s.order.PushBack(&pendingTrace{id: id})
		s.pending[id] = e
	}
	p := e.Value.(*pendingTrace)
	p.last = now
	s.order.MoveToBack(e)
	if len(p.spans) >= s.cfg.MaxSpans {
		p.truncated = true
		s.stats.DroppedSpans++
		return
	}
	sp.TraceID = p.id
	for _, f := range []*string{&sp.SpanID, &sp.ParentID, &sp.Service, &sp.Name, &sp.Kind, &sp.PeerService, &sp.ServerAddress} {
		*f = strings.Clone(*f)
	}
	p.spans = append(p.spans, sp)
}

// Advance completes every trace that has been quiet for the quiet period
// by now.
func (s *Sampler) Advance(now time.Time) {
	for e := s.order.Front(); e != nil; e = s.order.Front() {
		if now.Sub(e.Value.(*pendingTrace).last) < s.cfg.Quiet {
			return
		}
		s.complete(e, now)
	}
}

// complete judges a pending trace: kept when a span failed and it has a
// root, dropped otherwise.
func (s *Sampler) complete(e *list.Element, now time.Time) {
	p := s.order.Remove(e).(*pendingTrace)
	delete(s.pending, p.id)
	failed := false
	var root *Span
	for i := range p.spans {
		sp := &p.spans[i]
		failed = failed || sp.Error
		if sp.ParentID == "" && (root == nil || earlier(sp, root)) {
			root = sp
		}
	}
	switch {
	case !failed:
		return
	case root == nil:
		s.stats.Orphaned++
		return
	}
	op := Operation{Service: root.Service, Name: root.Name}
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
	k.traces = append(k.traces, Trace{ID: p.id, Spans: p.spans, Completed: now, Truncated: p.truncated})
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

// Spans returns the spans of traces, the form Decide takes.
func Spans(traces []Trace) [][]Span {
	out := make([][]Span, len(traces))
	for i, t := range traces {
		out[i] = t.Spans
	}
	return out
}

// Pending returns how many traces are being assembled.
func (s *Sampler) Pending() int { return s.order.Len() }

// Stats returns what the sampler let go so far.
func (s *Sampler) Stats() SamplerStats { return s.stats }
