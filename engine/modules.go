package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/telemetry"
)

// Deadlines moves checks whose deadline came to late or down. It reads only
// the index of deadlines, so its cost grows with the number of checks that
// are due, not with the number of checks.
type Deadlines struct {
	DB *store.DB
	// Every is the step interval; 500 ms keeps deadline-to-alert under 2 s.
	Every time.Duration
}

// Name implements Module.
func (d *Deadlines) Name() string { return "deadlines" }

// Interval implements Module.
func (d *Deadlines) Interval() time.Duration { return every(d.Every, 500*time.Millisecond) }

// Step processes every due check in batches.
func (d *Deadlines) Step(ctx context.Context, now time.Time) error {
	for {
		n, err := d.DB.ProcessDueChecks(ctx, now, 500)
		if err != nil {
			return err
		}
		if n < 500 {
			return nil
		}
	}
}

// Alive records that this process is running, so that after a full outage
// the next start knows how long nobody listened for pings.
type Alive struct {
	DB    *store.DB
	Every time.Duration
}

// Name implements Module.
func (a *Alive) Name() string { return "alive" }

// Interval implements Module.
func (a *Alive) Interval() time.Duration { return every(a.Every, 5*time.Second) }

// Step implements Module.
func (a *Alive) Step(ctx context.Context, now time.Time) error { return a.DB.TouchAlive(ctx, now) }

// RecoverAfterOutage runs once at start, before the deadline module: checks
// whose deadline passed while no Nightjar process was running get a fresh
// grace period instead of an alert, and the gap is recorded.
func RecoverAfterOutage(ctx context.Context, db *store.DB, now time.Time, log *slog.Logger) error {
	aliveAt, err := db.AliveAt(ctx)
	if err != nil {
		return fmt.Errorf("read last alive time: %w", err)
	}
	g, err := db.RecoverFromGap(ctx, aliveAt, now, 15*time.Second)
	if err != nil {
		return err
	}
	if g.ChecksAdjusted > 0 || (!aliveAt.IsZero() && now.Sub(aliveAt) >= 15*time.Second) {
		log.Warn("nightjar was not running; checks due meanwhile got a fresh grace period",
			"down_from", aliveAt, "down_until", now, "checks_adjusted", g.ChecksAdjusted)
	}
	return db.TouchAlive(ctx, now)
}

// NotifierFor builds the channel-specific sender for a channel.
type NotifierFor func(ch *nightjar.Channel) (notify.Notifier, error)

// Outbox delivers queued notifications. A claimed row is leased, so a
// crash mid-delivery means a retry later, never a lost notification; the
// outbox row id travels as the idempotency key so receivers can drop the
// duplicate such a retry may cause.
type Outbox struct {
	DB          *store.DB
	Notifiers   NotifierFor
	Metrics     *telemetry.Metrics
	Log         *slog.Logger
	MaxAttempts int
	// ConsoleURL is the base URL put into messages, may be empty.
	ConsoleURL string
	Every      time.Duration
	// Rand makes backoff jitter deterministic in tests; nil is random.
	Rand func() float64
}

// Name implements Module.
func (o *Outbox) Name() string { return "outbox" }

// Interval implements Module.
func (o *Outbox) Interval() time.Duration { return every(o.Every, time.Second) }

// lease is how long a claimed notification is held before another worker
// may take it; longer than any one delivery attempt's timeout.
const lease = 2 * time.Minute

// Step claims due notifications and delivers them, several at once.
func (o *Outbox) Step(ctx context.Context, now time.Time) error {
	items, err := o.DB.ClaimOutbox(ctx, now, lease, 50)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make([]error, len(items))
	for i, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = o.deliver(ctx, it, now)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (o *Outbox) deliver(ctx context.Context, it *store.OutboxItem, now time.Time) error {
	max := o.MaxAttempts
	if max <= 0 {
		max = 12
	}
	n, err := o.Notifiers(it.Channel)
	var retry bool
	if err == nil {
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		retry, err = n.Notify(actx, o.message(it))
		cancel()
	}
	result := "sent"
	var retryAt time.Time
	if err != nil {
		result = "failed"
		if retry && it.Attempts < max {
			result = "retry"
			retryAt = now.Add(notify.RetryDelay(it.Attempts, err, o.Rand))
		}
		if o.Log != nil {
			o.Log.Warn("notification not delivered", "outbox_id", it.ID, "channel_id", it.Channel.ID,
				"kind", it.Channel.Kind, "attempt", it.Attempts, "result", result, "err", err)
		}
	}
	if o.Metrics != nil {
		o.Metrics.Notification(it.Channel.Kind, result)
	}
	return o.DB.FinishOutbox(ctx, it.ID, now, err, retryAt)
}

func (o *Outbox) message(it *store.OutboxItem) notify.Message {
	a := it.Alert
	return notify.Message{
		ID: it.ID, ProjectID: it.ProjectID, Event: it.Event, CreatedAt: it.CreatedAt,
		ConsoleURL: o.ConsoleURL,
		Alert: notify.Alert{DedupKey: a.DedupKey, Service: a.Service, Severity: string(a.Severity), Summary: a.Summary,
			Details: a.Details, Status: string(a.Status), StartsAt: a.StartsAt, EndsAt: a.EndsAt},
	}
}

// Retention deletes records Nightjar no longer needs, once an hour.
type Retention struct {
	DB *store.DB
	// Keep is what to keep; zero values mean 30 days.
	Keep  store.Retention
	Every time.Duration
}

// Name implements Module.
func (r *Retention) Name() string { return "retention" }

// Interval implements Module.
func (r *Retention) Interval() time.Duration { return every(r.Every, time.Hour) }

// Step implements Module.
func (r *Retention) Step(ctx context.Context, now time.Time) error {
	keep := r.Keep
	if keep.Notifications <= 0 {
		keep.Notifications = 30 * 24 * time.Hour
	}
	_, err := r.DB.Prune(ctx, now, keep)
	return err
}

// every is a module's step interval: its Every when set, else def.
func every(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
