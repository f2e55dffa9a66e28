package aggregate

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nightjar-dev/nightjar/attribution"
)

// Traces keeps, per project, a bounded tail-based sample of recent traces
// that contain a failure (attribution.Sampler), fed with every span
// ingested, so that when an availability objective of an edge operation
// pages, the vote over its failing traces can say which service the
// failures come from (adaptive paging's evidence). It sees the spans this
// replica received. It is safe for concurrent use.
type Traces struct {
	cfg      attribution.SamplerConfig
	mu       sync.Mutex
	projects map[string]*attribution.Sampler
	// MaxProjects bounds how many projects have a sampler.
	maxProjects int
}

// NewTraces returns an empty sample with each project's sampler bounded by
// cfg (whose zero value means attribution's defaults, some 10,000 traces
// being assembled and 50 failing ones kept per operation).
func NewTraces(cfg attribution.SamplerConfig) (*Traces, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Traces{cfg: cfg, projects: map[string]*attribution.Sampler{}, maxProjects: 1000}, nil
}

// Add takes one span of a project that arrived at now.
func (t *Traces) Add(projectID string, sp attribution.Record, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.projects[projectID]
	if s == nil {
		if len(t.projects) >= t.maxProjects {
			return
		}
		s, _ = attribution.NewSampler(t.cfg)
		t.projects[projectID] = s
	}
	s.Add(&sp, now)
}

// Advance completes the traces that have been quiet long enough.
func (t *Traces) Advance(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.projects {
		s.Advance(now)
	}
}

// Decide votes over a project's kept failing traces of an edge operation
// that completed in [from, to), and reports whether there were any.
func (t *Traces) Decide(projectID string, op attribution.Operation, from, to time.Time, cfg attribution.Config) (attribution.Decision, bool) {
	t.mu.Lock()
	s := t.projects[projectID]
	var kept []attribution.Trace
	if s != nil {
		for _, tr := range s.Traces(op) {
			if !tr.Completed.Before(from) && tr.Completed.Before(to) {
				kept = append(kept, tr)
			}
		}
	}
	t.mu.Unlock()
	if len(kept) == 0 {
		return attribution.Decision{}, false
	}
	return attribution.Decide(op.Service, attribution.Spans(kept), cfg), true
}

// Evidence turns a decision into alert details: whom the failures point
// at, each service's share of the vote, and example traces with the path
// to their failing span.
func Evidence(d attribution.Decision) map[string]string {
	out := map[string]string{
		attribution.DetailService:    d.Service,
		attribution.DetailAttributed: strconv.FormatBool(d.Attributed),
		attribution.DetailReason:     d.Reason,
		attribution.DetailTraces:     strconv.Itoa(d.Traces),
	}
	var shares, examples []string
	for _, sh := range d.Shares {
		shares = append(shares, sh.Service+" "+strconv.FormatFloat(100*sh.Share, 'f', 0, 64)+"%")
		for _, ex := range sh.Examples {
			if len(examples) < 3 {
				examples = append(examples, ex.TraceID+": "+strings.Join(ex.Path, " → "))
			}
		}
	}
	out[attribution.DetailShares] = strings.Join(shares, ", ")
	out[attribution.DetailExamples] = strings.Join(examples, "; ")
	return out
}
