// Package attribution is the pure core of adaptive paging: given failing
// traces of an edge operation, it finds in which service the failures
// originate, and decides whether to page that service's team instead of the
// team at the edge.
//
// It sits between evaluation and incidents in Nightjar's data flow: when an
// SLO of an edge operation burns, the alert stage asks [Decide] about the
// recent failing traces a [Sampler] kept, routes the alert by its answer,
// and shows its [Decision] as the evidence. Like the other evaluation
// packages it is pure: spans and time go in, nothing is read from a clock,
// stored or sent.
//
// # Where a failure originates
//
// In one trace, the origin is the deepest span that failed while none of
// its children failed: every failing span above it failed because a call
// below it did. A failing CLIENT span without a SERVER child called
// something that sent no spans (a database, a third-party API); the origin
// is then that peer, named by the span's peer.service attribute, or its
// server.address, one level deeper than the client span. A failing CLIENT
// span whose SERVER child succeeded (a timeout, a connection reset on the
// way back) is its own service's failure. Among equally deep origins the
// one that started first wins, then the lowest span id, so the answer does
// not depend on the order spans arrived in.
//
// # The vote
//
// Each trace with an origin casts one vote for the origin's service. The
// winner takes the page when it is not the edge service, has at least
// MinShare of the votes (60% unless configured) and at least MinTraces
// votes (5 unless configured); otherwise the edge service is paged, as it
// would be without attribution. Evidence comes with the answer: each
// service's share, example trace ids and the path from the edge to the
// failing span.
package attribution

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// Span kinds, as OpenTelemetry names them.
const (
	KindServer   = "SERVER"
	KindClient   = "CLIENT"
	KindInternal = "INTERNAL"
	KindProducer = "PRODUCER"
	KindConsumer = "CONSUMER"
)

// Span is what attribution needs of a span.
type Span struct {
	TraceID, SpanID, ParentID string
	// Service is the resource's service.name.
	Service string
	Name    string
	// Kind is SERVER, CLIENT, INTERNAL, PRODUCER or CONSUMER.
	Kind string
	// Error is true when the span's status is ERROR.
	Error bool
	// PeerService and ServerAddress are the peer.service and
	// server.address attributes of a CLIENT span.
	PeerService, ServerAddress string
	Start, End                 time.Time
}

// Origin is where one trace's failure originates.
type Origin struct {
	TraceID string
	// Service is the service blamed.
	Service string
	// SpanID is the failing span; for a peer, the CLIENT span that called
	// it.
	SpanID string
	// Peer is true when the service is a peer named by a CLIENT span that
	// has no SERVER child.
	Peer bool
	// Path runs from the trace's root to the failing span, one
	// "service: span name" a step, and ends with "peer: name" for a peer.
	Path []string
}

// FindOrigin returns where a trace's failure originates, and false when no
// span of it failed. Spans whose parent is missing are treated as roots of
// their own, so an incomplete trace still has an answer.
func FindOrigin(spans []Span) (Origin, bool) {
	byID := make(map[string]int, len(spans))
	for i := range spans {
		if _, dup := byID[spans[i].SpanID]; !dup {
			byID[spans[i].SpanID] = i
		}
	}
	children := make(map[int][]int, len(spans))
	var roots []int
	for i := range spans {
		p, ok := byID[spans[i].ParentID]
		if spans[i].ParentID == "" || !ok || p == i || byID[spans[i].SpanID] != i {
			roots = append(roots, i)
			continue
		}
		children[p] = append(children[p], i)
	}
	// Depths and parents by a walk from the roots; spans caught in a
	// parent cycle are never reached and never blamed.
	depth := make([]int, len(spans))
	parent := make([]int, len(spans))
	seen := make([]bool, len(spans))
	stack := roots
	for _, r := range roots {
		seen[r], parent[r] = true, -1
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range children[i] {
			if !seen[c] {
				seen[c], depth[c], parent[c] = true, depth[i]+1, i
				stack = append(stack, c)
			}
		}
	}

	best, bestDepth, peer := -1, 0, false
	for i := range spans {
		s := &spans[i]
		if !seen[i] || !s.Error {
			continue
		}
		// The deepest failing span has no failing child: the child would
		// be deeper.
		hasServer := false
		for _, c := range children[i] {
			hasServer = hasServer || spans[c].Kind == KindServer
		}
		d, viaPeer := depth[i], false
		if s.Kind == KindClient && !hasServer && (s.PeerService != "" || s.ServerAddress != "") {
			d, viaPeer = d+1, true
		}
		if best < 0 || d > bestDepth || (d == bestDepth && earlier(s, &spans[best])) {
			best, bestDepth, peer = i, d, viaPeer
		}
	}
	if best < 0 {
		return Origin{}, false
	}
	s := &spans[best]
	o := Origin{TraceID: s.TraceID, Service: s.Service, SpanID: s.SpanID, Peer: peer}
	for i := best; i >= 0; i = parent[i] {
		o.Path = append(o.Path, spans[i].Service+": "+spans[i].Name)
	}
	slices.Reverse(o.Path)
	if peer {
		o.Service = cmp.Or(s.PeerService, s.ServerAddress)
		o.Path = append(o.Path, "peer: "+o.Service)
	}
	return o, true
}

// earlier orders equally deep origins: the one that started first, then
// the lower span id.
func earlier(a, b *Span) bool {
	if c := a.Start.Compare(b.Start); c != 0 {
		return c < 0
	}
	return a.SpanID < b.SpanID
}

// Config sets what a clear winner is.
type Config struct {
	// MinShare is the share of the votes a service needs: 0.6 when zero.
	MinShare float64 `json:"min_share,omitempty" yaml:"min_share,omitempty"`
	// MinTraces is how many votes it needs: 5 when zero.
	MinTraces int `json:"min_traces,omitempty" yaml:"min_traces,omitempty"`
	// Examples is how many example origins each service's share keeps: 3
	// when zero.
	Examples int `json:"examples,omitempty" yaml:"examples,omitempty"`
}

// Defaults for Config.
const (
	DefaultMinShare  = 0.6
	DefaultMinTraces = 5
	DefaultExamples  = 3
)

// Validate checks a configuration, naming the field at fault.
func (c *Config) Validate() error {
	var p nightjar.Problems
	if c.MinShare != 0 && !(c.MinShare > 0.5 && c.MinShare <= 1) {
		p.Add("min_share", "must be more than 0.5 and at most 1, so that only one service can win; got %v", c.MinShare)
	}
	if c.MinTraces < 0 || c.MinTraces > 10000 {
		p.Add("min_traces", "must be from 1 to 10000, or 0 for the default %d", DefaultMinTraces)
	}
	if c.Examples < 0 || c.Examples > 100 {
		p.Add("examples", "must be from 1 to 100, or 0 for the default %d", DefaultExamples)
	}
	return p.Err()
}

// Share is one service's part of the vote.
type Share struct {
	Service string
	Votes   int
	// Share is Votes over all votes.
	Share float64
	// Examples are the first few origins that voted for it.
	Examples []Origin
}

// Decision says whom to page for failures at an edge, and why.
type Decision struct {
	// Edge is the service at the edge, paged without a clear winner.
	Edge string
	// Service is the service to page.
	Service string
	// Attributed is true when Service won the vote rather than being the
	// edge by default (it may be the edge itself when the failures
	// originate there).
	Attributed bool
	// Reason says in a sentence why Service is paged.
	Reason string
	// Traces is how many traces had an origin, and so voted.
	Traces int
	// Shares are the services voted for, most votes first.
	Shares []Share
}

// Decide votes over failing traces of an edge operation, each a trace's
// spans, and says whom to page.
func Decide(edge string, traces [][]Span, cfg Config) Decision {
	minShare := cmp.Or(cfg.MinShare, DefaultMinShare)
	minTraces := cmp.Or(cfg.MinTraces, DefaultMinTraces)
	examples := cmp.Or(cfg.Examples, DefaultExamples)
	d := Decision{Edge: edge, Service: edge}
	index := map[string]int{}
	for _, spans := range traces {
		o, ok := FindOrigin(spans)
		if !ok {
			continue
		}
		d.Traces++
		i, seen := index[o.Service]
		if !seen {
			i = len(d.Shares)
			index[o.Service] = i
			d.Shares = append(d.Shares, Share{Service: o.Service})
		}
		sh := &d.Shares[i]
		sh.Votes++
		if len(sh.Examples) < examples {
			sh.Examples = append(sh.Examples, o)
		}
	}
	for i := range d.Shares {
		d.Shares[i].Share = float64(d.Shares[i].Votes) / float64(d.Traces)
	}
	slices.SortStableFunc(d.Shares, func(a, b Share) int {
		return cmp.Or(cmp.Compare(b.Votes, a.Votes), cmp.Compare(a.Service, b.Service))
	})
	switch {
	case d.Traces == 0:
		d.Reason = "no failing trace had a failing span, so the edge service is paged"
	case d.Shares[0].Votes < minTraces:
		d.Reason = fmt.Sprintf("%d failing traces are fewer than the %d needed to name an origin, so the edge service is paged", d.Traces, minTraces)
	case d.Shares[0].Share < minShare:
		d.Reason = fmt.Sprintf("no service is the origin of %.0f%% of the failures (the most, %s, of %.0f%%), so the edge service is paged",
			minShare*100, d.Shares[0].Service, d.Shares[0].Share*100)
	default:
		w := d.Shares[0]
		d.Service, d.Attributed = w.Service, true
		d.Reason = fmt.Sprintf("%d of %d failing traces (%.0f%%) originate in %s", w.Votes, d.Traces, w.Share*100, w.Service)
	}
	return d
}

// The alert details that carry a decision as evidence (see
// aggregate.Evidence), for whoever routes the alert to read back.
const (
	// DetailService is the service to page: the origin, or the edge.
	DetailService = "origin_service"
	// DetailAttributed is "true" when the origin won the vote clearly
	// (Decision.Attributed), "false" when the edge is paged by default.
	DetailAttributed = "origin_attributed"
	DetailReason     = "origin_reason"
	DetailTraces     = "origin_traces"
	DetailShares     = "origin_shares"
	DetailExamples   = "origin_examples"
)
