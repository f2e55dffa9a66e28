// Package engine runs Nightjar's background work — deadline scans, outbox
// delivery, liveness — as modules: each has a Name and a Step that does
// one round of work at a given time. The runner calls each module's Step
// on its own ticker. Steps take time as an argument, so tests drive them
// with a fake clock instead of sleeping.
//
// With several replicas on one PostgreSQL database every replica runs
// every module; the areas divide the rows between them with FOR UPDATE
// SKIP LOCKED, so nothing runs twice and nothing stops when one replica
// dies.
package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/telemetry"
)

// Module is one kind of background work.
type Module interface {
	Name() string
	// Interval is how often Step runs.
	Interval() time.Duration
	// Step does one round of work as of now.
	Step(ctx context.Context, now time.Time) error
}

// Runner runs modules until its context ends.
type Runner struct {
	Clock   nightjar.Clock
	Log     *slog.Logger
	Metrics *telemetry.Metrics
}

// Run runs every module on its own ticker and returns when ctx is done and
// every module's current step, and any work it left running, has finished.
func (r *Runner) Run(ctx context.Context, modules ...Module) {
	var wg sync.WaitGroup
	for _, m := range modules {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.loop(ctx, m)
		}()
	}
	wg.Wait()
}

// waker is a module that at times has work before its next tick (the
// outbox, when messages were just committed): the runner steps it when
// its channel receives, too.
type waker interface{ Wake() <-chan struct{} }

// waiter is a module whose steps leave work running in the background
// (the outbox's slow deliveries); the runner waits for it when it stops.
type waiter interface{ Wait() }

func (r *Runner) loop(ctx context.Context, m Module) {
	log := r.Log.With("module", m.Name())
	t := time.NewTicker(m.Interval())
	defer t.Stop()
	var wake <-chan struct{} // nil, which never receives, for most modules
	if wk, ok := m.(waker); ok {
		wake = wk.Wake()
	}
	for {
		r.step(ctx, m, log)
		select {
		case <-ctx.Done():
			if w, ok := m.(waiter); ok {
				w.Wait()
			}
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// step runs one Step, logging its error once here, at the boundary, and
// turning a panic into a logged error so one bad row cannot stop the
// module for good.
func (r *Runner) step(ctx context.Context, m Module, log *slog.Logger) {
	defer func() {
		if v := recover(); v != nil {
			log.Error("module step panicked", "panic", v)
		}
	}()
	err := m.Step(ctx, r.Clock.Now())
	if r.Metrics != nil {
		r.Metrics.ModuleRun(m.Name(), err)
	}
	if err != nil && ctx.Err() == nil {
		log.Error("module step failed", "err", err)
	}
}
