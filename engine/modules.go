package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/telemetry"
)

// Deadlines moves checks whose deadline came to late or down, through the
// checks area: heartbeat decides, the checks area records the outcome and
// hands alert changes to the alert stage. It reads only the index of
// deadlines, so its cost grows with the number of checks that are due, not
// with the number of checks.
type Deadlines struct {
	Checks *checks.Service
	// Every is the step interval; 500 ms keeps deadline-to-alert under 2 s.
	Every time.Duration
}

// Name implements Module.
func (d *Deadlines) Name() string { return "deadlines" }

// Interval implements Module.
func (d *Deadlines) Interval() time.Duration { return orDefault(d.Every, 500*time.Millisecond) }

// Step processes every due check in batches.
func (d *Deadlines) Step(ctx context.Context, now time.Time) error {
	for {
		n, err := d.Checks.ProcessDue(ctx, now, 500)
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
	Checks *checks.Service
	Every  time.Duration
}

// Name implements Module.
func (a *Alive) Name() string { return "alive" }

// Interval implements Module.
func (a *Alive) Interval() time.Duration { return orDefault(a.Every, 5*time.Second) }

// Step implements Module.
func (a *Alive) Step(ctx context.Context, now time.Time) error { return a.Checks.TouchAlive(ctx, now) }

// RecoverAfterOutage runs once at start, before the deadline module: checks
// whose deadline passed while no Nightjar process was running get a fresh
// grace period instead of an alert, and the gap is recorded.
func RecoverAfterOutage(ctx context.Context, cs *checks.Service, now time.Time, log *slog.Logger) error {
	aliveAt, err := cs.AliveAt(ctx)
	if err != nil {
		return fmt.Errorf("read last alive time: %w", err)
	}
	g, err := cs.RecoverFromGap(ctx, aliveAt, now, 15*time.Second)
	if err != nil {
		return err
	}
	if g.ChecksAdjusted > 0 || (!aliveAt.IsZero() && now.Sub(aliveAt) >= 15*time.Second) {
		log.Warn("nightjar was not running; checks due meanwhile got a fresh grace period",
			"down_from", aliveAt, "down_until", now, "checks_adjusted", g.ChecksAdjusted)
	}
	return cs.TouchAlive(ctx, now)
}

// NotifierFor builds the channel-specific sender for a channel.
type NotifierFor func(ch *nightjar.Channel) (notify.Notifier, error)

// Destinations finds where the outbox's messages to one kind of
// destination go.
type Destinations interface {
	// Notifier returns the sender for one of a project's destinations and
	// the kind its deliveries are counted under in metrics and logs (a
	// channel's kind: webhook, email). When it cannot, retry says whether
	// a later attempt may succeed (the database did not answer) or the
	// message is to be given up (the destination is gone or cannot work),
	// or, for an error that is outbox.ErrCancelled, cancelled (the
	// destination no longer takes it).
	Notifier(ctx context.Context, it *outbox.Item) (n notify.Notifier, kind string, retry bool, err error)
}

// ChannelDestinations delivers to channels (outbox.ToChannel): it reads
// the channel and builds its sender.
type ChannelDestinations struct {
	Channels  *channels.Service
	Notifiers NotifierFor
}

// Notifier implements Destinations. A channel deleted since the message
// was written, or one whose sender cannot be built (an email channel with
// no SMTP server configured), is not retried.
func (c ChannelDestinations) Notifier(ctx context.Context, it *outbox.Item) (notify.Notifier, string, bool, error) {
	ch, err := c.Channels.Get(ctx, it.ProjectID, it.To.ID)
	if err != nil {
		return nil, outbox.ToChannel, nightjar.ErrorCode(err) != nightjar.ENOTFOUND, fmt.Errorf("load channel %s: %w", it.To.ID, err)
	}
	n, err := c.Notifiers(ch)
	return n, ch.Kind, false, err
}

// ChannelKind implements ChannelKinds.
func (c ChannelDestinations) ChannelKind(ctx context.Context, projectID, id string) (string, error) {
	ch, err := c.Channels.Get(ctx, projectID, id)
	if err != nil {
		return "", err
	}
	return ch.Kind, nil
}

// ChannelKinds is a Destinations that tells the kind of channel (slack,
// telegram, …) its destinations are sent as, so that delivery keeps to
// that kind's limit per minute.
type ChannelKinds interface {
	ChannelKind(ctx context.Context, projectID, id string) (string, error)
}

// DefaultPerMinute is the most messages one destination is sent in any
// minute, by the kind of channel it is sent as: a little under what each
// service tolerates (Slack's incoming webhooks about one a second,
// Discord's webhooks 30 a minute, a Telegram chat 20 a minute, ntfy.sh and
// Pushover a burst, then one every few seconds). Kinds not listed (a
// webhook, which is the operator's own receiver) have no limit. A storm
// beyond the limit is not dropped: the rest waits for the minute to allow
// it, and what waits for a person's contact method goes out as one
// bundle.
var DefaultPerMinute = map[string]int{
	nightjar.ChannelSlack:     50,
	nightjar.ChannelDiscord:   25,
	nightjar.ChannelTelegram:  18,
	nightjar.ChannelTeams:     30,
	nightjar.ChannelNtfy:      20,
	nightjar.ChannelPushover:  20,
	nightjar.ChannelGotify:    60,
	nightjar.ChannelMatrix:    30,
	nightjar.ChannelPagerDuty: 100,
	nightjar.ChannelOpsgenie:  60,
	nightjar.ChannelEmail:     30,
}

// kindTTL is how long the delivery module remembers the kind of channel a
// destination is sent as.
const kindTTL = 5 * time.Minute

// knownKind is a destination's kind of channel, as of when it was read.
type knownKind struct {
	kind string
	at   time.Time
}

// Outbox delivers the outbox's messages, fairly: a destination that is
// slow or never answers must not hold back anybody else's alerts. It is
// the only thing that delivers; it finds each message's sender by the kind
// of its destination, in Destinations, and gives up on a message whose
// kind has none.
//
// Each attempt runs on its own, bounded by Timeout, and takes one of this
// process's Workers slots; a destination has at most PerDestination and a
// project at most PerProject attempts in flight across all replicas (in
// the manner of Alertmanager's per-receiver pipelines and GoAlert's
// per-destination sending). A Step claims only as many messages as it has
// free slots and starts each at once, so a claimed message's attempt is
// running, never queued behind others, and its lease (Timeout plus a
// margin) outlasts it: no other replica can take a message whose attempt
// may still be running. A crash mid-delivery means a retry when the lease
// ends, never a lost notification; the message's idempotency key travels
// with every attempt so receivers can drop the duplicate such a retry may
// cause.
type Outbox struct {
	// Outbox is where the messages wait; Step claims them from it and
	// records each attempt's result there.
	Outbox *outbox.Outbox
	// Destinations maps a destination kind (outbox.ToChannel, …) to where
	// its messages go.
	Destinations map[string]Destinations
	Metrics      *telemetry.Metrics
	Log          *slog.Logger
	MaxAttempts  int
	// ConsoleURL is the base URL put into messages, may be empty.
	ConsoleURL string
	Every      time.Duration
	// Rand makes backoff jitter deterministic in tests; nil is random.
	Rand func() float64
	// Clock tells when an attempt ended, which is when its backoff
	// starts; it must be the clock Step's times come from. Nil is the
	// system clock.
	Clock nightjar.Clock
	// Timeout bounds one attempt; zero is 30 s.
	Timeout time.Duration
	// Workers is how many attempts this process runs at once; zero is 32.
	Workers int
	// PerDestination is how many attempts one destination may have in
	// flight; zero is 2.
	PerDestination int
	// PerProject is how many attempts one project may have in flight;
	// zero is 8.
	PerProject int
	// Pace is how long a Step waits for its attempts, refilling slots as
	// they free up, before it returns and leaves slow attempts running in
	// the background; zero is 1 s.
	Pace time.Duration
	// BundleWindow is how soon after a message about an incident to a
	// person's contact method falls due another may fall due and still
	// go out with it, as one message, and how long after one was sent the
	// next ones wait to go together; zero is DefaultBundleWindow.
	BundleWindow time.Duration
	// BundleMax is the most notifications one bundled message lists;
	// zero is DefaultBundleMax, and 1 sends every message alone.
	BundleMax int
	// PerMinute sets, by kind of channel, the most messages one
	// destination is sent in any minute, over DefaultPerMinute; 0 is no
	// limit.
	PerMinute map[string]int

	mu       sync.Mutex
	idle     *sync.Cond
	inflight map[string]*attempt
	wake     chan struct{}
	kinds    map[outbox.Destination]knownKind // read by Step only
}

// attempt is one delivery attempt running in the background.
type attempt struct {
	// deadline is when the attempt must have ended, on the module's clock.
	deadline time.Time
	cancel   context.CancelCauseFunc
	done     chan struct{}
}

// Bundling of the messages to people's contact methods (see
// outbox.Bundling): pages, and news of incidents acknowledged or
// resolved, that fall due for one contact method within a few seconds go
// out as one message that lists them, as GoAlert and PagerDuty bundle, so
// that an alert storm that opens forty incidents reaches a phone once.
// Channels' messages are never bundled: a channel is a room many people
// read, where each incident's message stands on its own (a chat thread, a
// PagerDuty or Opsgenie alert keyed by the alert), and verification codes
// always go alone.
const (
	// DefaultBundleWindow is Outbox.BundleWindow's default.
	DefaultBundleWindow = 5 * time.Second
	// DefaultBundleMax is Outbox.BundleMax's default: enough for a storm,
	// few enough that the message stays readable on a phone.
	DefaultBundleMax = 20
)

// bundledEvents are the events of messages to contact methods that are
// bundled.
var bundledEvents = []string{notify.EventIncidentPage, notify.EventIncidentTicket, notify.EventIncidentAcknowledged, notify.EventIncidentResolved}

// leaseMargin is how much longer than an attempt's timeout its row stays
// leased: room to record the result, and for the clocks of replicas to
// differ. Replicas' clocks must agree to well within it.
const leaseMargin = 90 * time.Second

// errAttemptTimedOut cancels an attempt that outlived its timeout on the
// module's clock.
var errAttemptTimedOut = errors.New("attempt timed out")

// Name implements Module.
func (o *Outbox) Name() string { return "outbox" }

// Interval implements Module.
func (o *Outbox) Interval() time.Duration { return orDefault(o.Every, time.Second) }

// Wake has the runner step the module as soon as this process commits
// messages, besides every Interval.
func (o *Outbox) Wake() <-chan struct{} { return o.Outbox.Queued() }

func (o *Outbox) timeout() time.Duration { return orDefault(o.Timeout, 30*time.Second) }

// Lease is how long a claimed notification is held: Timeout plus a margin.
func (o *Outbox) Lease() time.Duration { return o.timeout() + leaseMargin }

func (o *Outbox) clock() nightjar.Clock {
	if o.Clock == nil {
		return nightjar.SystemClock{}
	}
	return o.Clock
}

func (o *Outbox) init() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.inflight == nil {
		o.inflight = map[string]*attempt{}
		o.idle = sync.NewCond(&o.mu)
		o.wake = make(chan struct{}, 1)
	}
}

// Step ends the attempts that outlived their timeout as of now, then claims
// due notifications into the free slots and starts them. It waits up to
// Pace for them, claiming more as slots free up, and returns; attempts
// still running go on in the background. A Step's errors are its own
// (claiming); each attempt logs its result where it ends. Steps of one
// Outbox must not overlap; the runner runs them one after another.
func (o *Outbox) Step(ctx context.Context, now time.Time) error {
	o.init()
	o.endOverdue(now)
	if err := o.fill(ctx, now); err != nil {
		return err
	}
	pace := time.NewTimer(orDefault(o.Pace, time.Second))
	defer pace.Stop()
	for o.running() > 0 {
		select {
		case <-o.wake:
			if err := o.fill(ctx, now); err != nil {
				return err
			}
		case <-pace.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// Wait returns when no attempt is running. The runner calls it when it
// stops; tests call it to see every attempt's result.
func (o *Outbox) Wait() {
	o.init()
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(o.inflight) > 0 {
		o.idle.Wait()
	}
}

func (o *Outbox) running() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.inflight)
}

// endOverdue cancels the attempts whose deadline has passed on the
// module's clock and waits (a little) for them to end. The context of each
// attempt also has a deadline on the system clock; this one makes the
// timeout hold on whatever clock drives the module.
func (o *Outbox) endOverdue(now time.Time) {
	o.mu.Lock()
	var overdue []*attempt
	for _, a := range o.inflight {
		if !now.Before(a.deadline) {
			a.cancel(errAttemptTimedOut)
			overdue = append(overdue, a)
		}
	}
	o.mu.Unlock()
	if len(overdue) == 0 {
		return
	}
	limit := time.NewTimer(10 * time.Second)
	defer limit.Stop()
	for _, a := range overdue {
		select {
		case <-a.done:
		case <-limit.C:
			if o.Log != nil {
				o.Log.Warn("a cancelled notification attempt is still running", "overdue", len(overdue))
			}
			return
		}
	}
}

// fill claims as many due notifications as there are free slots, finds
// each one's sender, and starts an attempt for each. The senders are found
// here rather than in the attempts, so that an attempt, once started, goes
// straight to its destination: its timeout bounds the delivery alone.
func (o *Outbox) fill(ctx context.Context, now time.Time) error {
	free := orDefault(o.Workers, 32) - o.running()
	if free <= 0 {
		return nil
	}
	items, err := o.Outbox.Claim(ctx, now, outbox.Claim{Limit: free, Lease: o.Lease(),
		PerDestination: orDefault(o.PerDestination, 2), PerProject: orDefault(o.PerProject, 8),
		Bundle: outbox.Bundling{Kinds: []string{outbox.ToContact}, Events: bundledEvents,
			Window: orDefault(o.BundleWindow, DefaultBundleWindow), Max: orDefault(o.BundleMax, DefaultBundleMax)},
		PerMinute: func(ctx context.Context, projectID string, to outbox.Destination) int {
			return o.perMinute(ctx, now, projectID, to)
		}})
	if err != nil {
		return err
	}
	for _, it := range items {
		o.start(ctx, it, o.target(ctx, it), now)
	}
	return nil
}

// perMinute is the limit per minute of a destination: its kind of
// channel's. The kind is read once per kindTTL; a destination whose kind
// cannot be read has no limit (its message's attempt will find out why).
func (o *Outbox) perMinute(ctx context.Context, now time.Time, projectID string, to outbox.Destination) int {
	k, ok := o.kinds[to]
	if !ok || now.Sub(k.at) >= kindTTL || now.Before(k.at) {
		d, isKinds := o.Destinations[to.Kind].(ChannelKinds)
		if !isKinds {
			return 0
		}
		kind, err := d.ChannelKind(ctx, projectID, to.ID)
		if err != nil {
			return 0
		}
		if o.kinds == nil || len(o.kinds) > 10_000 {
			o.kinds = map[outbox.Destination]knownKind{}
		}
		k = knownKind{kind: kind, at: now}
		o.kinds[to] = k
	}
	if n, ok := o.PerMinute[k.kind]; ok {
		return n
	}
	return DefaultPerMinute[k.kind]
}

func (o *Outbox) start(ctx context.Context, it *outbox.Item, to target, now time.Time) {
	actx, cancel := context.WithCancelCause(ctx)
	a := &attempt{deadline: now.Add(o.timeout()), cancel: cancel, done: make(chan struct{})}
	o.mu.Lock()
	o.inflight[it.ID] = a
	o.mu.Unlock()
	go func() {
		defer func() {
			cancel(nil)
			o.mu.Lock()
			delete(o.inflight, it.ID)
			o.idle.Broadcast()
			o.mu.Unlock()
			close(a.done)
			select {
			case o.wake <- struct{}{}:
			default:
			}
		}()
		o.deliver(actx, it, to)
	}()
}

// deliver makes one attempt and records its result. It is the boundary of
// the attempt, so it logs what went wrong itself.
func (o *Outbox) deliver(ctx context.Context, it *outbox.Item, to target) {
	max := o.MaxAttempts
	if max <= 0 {
		max = 12
	}
	kind, retry, err := to.kind, to.retry, to.err
	if err == nil {
		actx, cancel := context.WithTimeout(ctx, o.timeout())
		retry, err = to.notifier.Notify(actx, o.message(it))
		cancel()
		if err != nil && errors.Is(context.Cause(ctx), errAttemptTimedOut) {
			retry, err = true, fmt.Errorf("no answer within %s: %w", o.timeout(), err)
		}
	}
	// The backoff counts from when the attempt ended, not from when it
	// was claimed: an attempt can take up to Timeout.
	end := o.clock().Now()
	result := "sent"
	var retryAt time.Time
	switch {
	case errors.Is(err, outbox.ErrCancelled):
		// Not a failure: nothing was attempted, on purpose, and the
		// message's result says why.
		result = "cancelled"
		if o.Log != nil {
			o.Log.Info("notification cancelled", "outbox_id", it.ID, "destination", it.To.String(), "kind", kind, "reason", err)
		}
	case err != nil:
		result = "failed"
		if retry && it.Attempts < max {
			result = "retry"
			retryAt = end.Add(notify.RetryDelay(it.Attempts, err, o.Rand))
		}
		if o.Log != nil {
			o.Log.Warn("notification not delivered", "outbox_id", it.ID, "bundle", it.Bundle, "bundled", len(it.Bundled),
				"destination", it.To.String(), "kind", kind, "attempt", it.Attempts, "result", result, "err", err)
		}
	}
	if o.Metrics != nil {
		o.Metrics.Notification(kind, result)
	}
	// Record the result even when the module is stopping.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := o.Outbox.Finish(fctx, it, end, err, retryAt); err != nil && o.Log != nil {
		o.Log.Error("record notification result", "outbox_id", it.ID, "attempt", it.Attempts, "result", result, "err", err)
	}
}

// target is where a claimed message goes: its sender and the kind its
// delivery is counted under, or why there is no sender and whether a later
// attempt may find one.
type target struct {
	notifier notify.Notifier
	kind     string
	retry    bool
	err      error
}

// target finds the sender for a message's destination.
func (o *Outbox) target(ctx context.Context, it *outbox.Item) target {
	d, ok := o.Destinations[it.To.Kind]
	if !ok {
		return target{kind: it.To.Kind, err: fmt.Errorf("no delivery to destinations of kind %q", it.To.Kind)}
	}
	n, kind, retry, err := d.Notifier(ctx, it)
	if err == nil && n == nil {
		err = fmt.Errorf("no sender for %s", it.To)
	}
	return target{notifier: n, kind: kind, retry: retry, err: err}
}

// message is what a claimed item says: its message, or, for the first of
// a bundle, one message that stands for the bundle's, named by the
// bundle, its members ordered by when they were written and then by
// incident number, so it reads "#12, #13, #14" and renders the same on
// every retry.
func (o *Outbox) message(it *outbox.Item) notify.Message {
	one := func(it *outbox.Item) notify.Message {
		return notify.Message{
			ID: it.ID, IdempotencyKey: it.IdempotencyKey, ProjectID: it.ProjectID, Event: it.Event, CreatedAt: it.CreatedAt,
			ConsoleURL: o.ConsoleURL, Alert: it.Alert, Incident: it.Incident,
		}
	}
	if len(it.Bundled) == 0 {
		return one(it)
	}
	// Messages that share an idempotency key are one notification
	// written twice (a person's two rules for one method and delay); the
	// bundle lists it once.
	members := []notify.Message{one(it)}
	for _, b := range it.Bundled {
		if !slices.ContainsFunc(members, func(m notify.Message) bool { return m.IdempotencyKey == b.IdempotencyKey }) {
			members = append(members, one(b))
		}
	}
	if len(members) == 1 {
		return members[0]
	}
	slices.SortStableFunc(members, func(a, b notify.Message) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(incidentNumber(a), incidentNumber(b))
	})
	first := members[0]
	return notify.Message{ID: it.Bundle, IdempotencyKey: it.Bundle, ProjectID: it.ProjectID, Event: it.Event, CreatedAt: first.CreatedAt,
		ConsoleURL: o.ConsoleURL, Alert: first.Alert, Incident: first.Incident, Bundle: members}
}

// incidentNumber is the number of the incident a message is about, 0 for
// none.
func incidentNumber(m notify.Message) int64 {
	if m.Incident == nil {
		return 0
	}
	return m.Incident.Number
}

// Pruner is an area of Nightjar's state that deletes the records it no
// longer needs as of now, and reports how many rows went. Each area knows
// its own records' lifetimes, so the retention module only asks.
type Pruner interface {
	Prune(ctx context.Context, now time.Time) (int64, error)
}

// Retention deletes records Nightjar no longer needs, once an hour: the
// outbox's messages sent or given up on after KeepNotifications, and
// whatever each of Areas no longer needs (expired sessions and used
// invitations, for accounts).
type Retention struct {
	Outbox *outbox.Outbox
	// KeepNotifications is how long messages sent or given up on are
	// kept; zero is 30 days.
	KeepNotifications time.Duration
	Areas             []Pruner
	Every             time.Duration
}

// Name implements Module.
func (r *Retention) Name() string { return "retention" }

// Interval implements Module.
func (r *Retention) Interval() time.Duration { return orDefault(r.Every, time.Hour) }

// Step implements Module.
func (r *Retention) Step(ctx context.Context, now time.Time) error {
	_, err := r.Outbox.Prune(ctx, now, orDefault(r.KeepNotifications, 30*24*time.Hour))
	errs := []error{err}
	// One area's failure does not keep the others from pruning.
	for _, a := range r.Areas {
		if _, err := a.Prune(ctx, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// orDefault is a module's setting: its value when set, else def.
func orDefault[T time.Duration | int](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
