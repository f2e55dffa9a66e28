package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/attribution"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
)

// IngestFlush writes the counters ingest keeps in memory to the database
// every Every (10 seconds unless set), so a crash loses at most that long
// of spans and events; a clean stop flushes once more. Each replica
// flushes what it counted; the store adds the rows up. A flush that fails
// is kept in memory for the next one. Each step also reloads the
// objectives, so one created by apply or another replica is counted
// within one interval, and writes the users whose last request changed,
// so that every replica counts the customers having a bad time now from
// what all of them saw (slos.Service.BadTimeNow).
type IngestFlush struct {
	Ingest *aggregate.Aggregator
	// Traces, when set, is the failing-trace sample whose quiet traces
	// each step completes.
	Traces *aggregate.Traces
	SLOs   *slos.Service
	Clock  nightjar.Clock
	Log    *slog.Logger
	Every  time.Duration
}

// Name implements Module.
func (f *IngestFlush) Name() string { return "ingest-flush" }

// Interval implements Module.
func (f *IngestFlush) Interval() time.Duration { return orDefault(f.Every, 10*time.Second) }

// Step implements Module.
func (f *IngestFlush) Step(ctx context.Context, now time.Time) error {
	if err := LoadTargets(ctx, f.SLOs, f.Ingest); err != nil {
		return err
	}
	if f.Traces != nil {
		f.Traces.Advance(now)
	}
	rows := f.Ingest.Flush(now)
	if err := f.SLOs.AddMinutes(ctx, rows, now); err != nil {
		f.Ingest.Restore(rows)
		return err
	}
	return f.flushUsers(ctx, now)
}

// flushUsers writes the users whose last request changed; those it could
// not write go with the next flush.
func (f *IngestFlush) flushUsers(ctx context.Context, now time.Time) error {
	users := f.Ingest.ChangedUsers()
	if err := f.SLOs.AddRecentUsers(ctx, users, now); err != nil {
		f.Ingest.RestoreUsers(users)
		return err
	}
	return nil
}

// Wait flushes once more when the runner stops, so a clean shutdown loses
// nothing.
func (f *IngestFlush) Wait() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := f.Clock.Now()
	rows := f.Ingest.Flush(now)
	err := f.SLOs.AddMinutes(ctx, rows, now)
	if err == nil {
		err = f.flushUsers(ctx, now)
	}
	if err != nil && f.Log != nil {
		f.Log.Error("final ingest flush failed", "rows", len(rows), "err", err)
	}
}

// LoadTargets makes ingest count by the stored objectives.
func LoadTargets(ctx context.Context, s *slos.Service, a *aggregate.Aggregator) error {
	all, err := s.All(ctx)
	if err != nil {
		return err
	}
	targets := make([]aggregate.Target, 0, len(all))
	for _, o := range all {
		obj, err := o.Objective()
		if err != nil {
			return fmt.Errorf("compile slo %s: %w", o.ID, err)
		}
		targets = append(targets, aggregate.Target{ID: o.ID, ProjectID: o.ProjectID, Objective: obj})
	}
	a.Set(targets)
	return nil
}

// SLOEvaluation evaluates each objective once a minute (shortly after the
// minute ends and its counters are flushed), handing burn-rate alerts to
// the alert stage. Replicas divide the due objectives with SKIP LOCKED.
type SLOEvaluation struct {
	SLOs  *slos.Service
	Every time.Duration
	// Prometheus, when set, reads the counts of objectives whose indicator
	// is Prometheus before they are evaluated; a failed read is logged
	// with the objective's id and its evaluation waits.
	Prometheus slos.Fetcher
	Log        *slog.Logger
}

// Name implements Module.
func (e *SLOEvaluation) Name() string { return "slo-evaluation" }

// Interval implements Module.
func (e *SLOEvaluation) Interval() time.Duration { return orDefault(e.Every, 5*time.Second) }

// Step evaluates every due objective in batches.
func (e *SLOEvaluation) Step(ctx context.Context, now time.Time) error {
	if e.Prometheus != nil {
		failed, err := e.SLOs.FetchPrometheus(ctx, e.Prometheus, now)
		if err != nil {
			return err
		}
		for id, ferr := range failed {
			if e.Log != nil {
				e.Log.Warn("prometheus fetch failed; slo evaluation waits", "slo_id", id, "err", ferr)
			}
		}
	}
	for {
		n, err := e.SLOs.ProcessDue(ctx, now, 200)
		if err != nil {
			return err
		}
		if n < 200 {
			return nil
		}
	}
}

// TraceEvidence is the slos area's Evidence from a failing-trace sample:
// for an availability objective of one span name (an edge operation), the
// vote over its failing traces.
func TraceEvidence(t *aggregate.Traces) func(projectID string, d slo.Definition, from, to time.Time) map[string]string {
	return func(projectID string, d slo.Definition, from, to time.Time) map[string]string {
		sel := d.Indicator.Selector
		if d.Indicator.Kind != slo.KindAvailability || sel.SpanName == "" {
			return nil
		}
		service := sel.Service
		if service == "" {
			service = d.Service
		}
		dec, ok := t.Decide(projectID, attribution.Operation{Service: service, Name: sel.SpanName}, from, to, attribution.Config{})
		if !ok {
			return nil
		}
		return aggregate.Evidence(dec)
	}
}
