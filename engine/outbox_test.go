package engine_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// guard bounds how long a test waits for something that happens at once
// when the code is right; it never measures speed.
const guard = 20 * time.Second

// blackHole is a real webhook receiver that never answers: each request
// hangs until its client gives up or the receiver is opened.
type blackHole struct {
	srv     *httptest.Server
	arrived chan string // the Idempotency-Key of each request, as it arrives
	release chan struct{}
	once    sync.Once
}

func newBlackHole(t *testing.T) *blackHole {
	b := &blackHole{arrived: make(chan string, 1000), release: make(chan struct{})}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.arrived <- r.Header.Get("Idempotency-Key")
		select {
		case <-r.Context().Done():
		case <-b.release:
		}
	}))
	t.Cleanup(func() {
		b.open()
		b.srv.Close()
	})
	return b
}

// open makes the receiver answer 200 to every request, hanging or new.
func (b *blackHole) open() { b.once.Do(func() { close(b.release) }) }

// await waits for n requests to arrive and returns their keys.
func (b *blackHole) await(t *testing.T, n int) []string {
	t.Helper()
	var keys []string
	for len(keys) < n {
		select {
		case k := <-b.arrived:
			keys = append(keys, k)
		case <-time.After(guard):
			t.Fatalf("%d of %d requests reached the receiver", len(keys), n)
		}
	}
	return keys
}

// stepWithin runs one outbox step at the given time. A step must never wait
// on a slow destination, so one that has not returned within the guard
// fails the test (it is left running; the test's cleanup releases it).
func stepWithin(t *testing.T, ob *engine.Outbox, clk *nightjar.FakeClock, at time.Time) {
	t.Helper()
	clk.Set(at)
	done := make(chan error, 1)
	go func() { done <- ob.Step(context.Background(), at) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(guard):
		t.Fatalf("outbox step at %s is still waiting on a receiver that never answers", at.Format(time.TimeOnly))
	}
}

// leased counts the notifications whose attempt is in flight.
func leased(t *testing.T, db *store.DB, projectID string) (n int) {
	t.Helper()
	items, err := outbox.New(db).ByProject(context.Background(), projectID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Status == outbox.Pending && it.Attempts > 0 && it.LastError == "" {
			n++
		}
	}
	return n
}

// A receiver that never answers, with 60 notifications queued for it, does
// not hold back another project's alert to a healthy receiver: the alert is
// claimed by the first step after it is due and delivered while the slow
// receiver's attempts hang, which never take more than their channel's
// share of the senders. When the slow attempts time out, on the module's
// clock, they are retried after a backoff counted from that moment.
func TestSlowReceiverDoesNotHoldBackOthers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		hole := newBlackHole(t)
		slowProject, _ := setupAt(t, db, hole.srv.URL, "", 60, t0)
		healthy := newReceiver(t, "k")
		_, quick := setupAt(t, db, healthy.srv.URL, "k", 1, t0.Add(5*time.Second))
		dl := &engine.Deadlines{Checks: checksOf(db)}
		clk := nightjar.NewFakeClock(t0)
		ob := &engine.Outbox{Outbox: outbox.New(db), Destinations: destinations(db, notifiers(nil)), Log: quiet(), Clock: clk, Rand: func() float64 { return 0 },
			Pace: time.Millisecond}
		t.Cleanup(func() { hole.open(); ob.Wait() })

		// The 60 slow alerts fall due at due; the healthy one 5 s later.
		due := t0.Add(time.Hour + time.Minute)
		for _, at := range []time.Time{t0.Add(time.Hour), due} {
			if err := dl.Step(ctx, at); err != nil {
				t.Fatal(err)
			}
		}
		stepWithin(t, ob, clk, due)
		first := hole.await(t, 2)
		if n := leased(t, db, slowProject.ID); n != 2 {
			t.Errorf("%d attempts in flight to the slow receiver, want its share of 2", n)
		}

		for _, at := range []time.Time{t0.Add(time.Hour + 5*time.Second), due.Add(5 * time.Second)} {
			if err := dl.Step(ctx, at); err != nil {
				t.Fatal(err)
			}
		}
		stepWithin(t, ob, clk, due.Add(5*time.Second))
		select {
		case <-healthy.delivered:
		case <-time.After(guard):
			t.Fatal("the healthy receiver's alert was not delivered while the slow receiver hangs")
		}
		healthy.mu.Lock()
		p := healthy.got[0]
		healthy.mu.Unlock()
		if p.Alert.DedupKey != "check:"+quick[0].ID {
			t.Fatalf("healthy receiver got %+v", p)
		}
		if n := leased(t, db, slowProject.ID); n != 2 {
			t.Fatalf("%d attempts in flight to the slow receiver after the next step, want 2", n)
		}

		// 30 s after they began, the slow attempts time out; their retry
		// comes a backoff (5 s with no jitter) after that, and the next two
		// slow alerts take their places.
		timeout := due.Add(30 * time.Second)
		stepWithin(t, ob, clk, timeout)
		second := hole.await(t, 2)
		for _, id := range first {
			it, err := outbox.New(db).Entry(ctx, slowProject.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			if want := timeout.Add(notify.BackoffBase / 2); !it.NextAttemptAt.Equal(want) || it.Status != outbox.Pending {
				t.Errorf("timed-out attempt: %s, next attempt at %s, want %s", it.Status, it.NextAttemptAt.Format(time.TimeOnly), want.Format(time.TimeOnly))
			}
			if !strings.Contains(it.LastError, "no answer within 30s") {
				t.Errorf("timed-out attempt's error: %q", it.LastError)
			}
			for _, again := range second {
				if again == id {
					t.Errorf("notification %s retried at once instead of after its backoff", id)
				}
			}
		}
	})
}

// overlapWatch wraps real notifiers to see whether an attempt at a
// notification ever starts while another attempt at it is still running.
type overlapWatch struct {
	mu       sync.Mutex
	running  map[string]int
	attempts map[string]int
	overlaps []string
}

type notifierFunc func(ctx context.Context, msg notify.Message) (bool, error)

func (f notifierFunc) Notify(ctx context.Context, msg notify.Message) (bool, error) {
	return f(ctx, msg)
}

func (w *overlapWatch) wrap(next engine.NotifierFor) engine.NotifierFor {
	return func(ch *nightjar.Channel) (notify.Notifier, error) {
		n, err := next(ch)
		if err != nil {
			return nil, err
		}
		return notifierFunc(func(ctx context.Context, msg notify.Message) (bool, error) {
			w.mu.Lock()
			if w.running[msg.ID] > 0 {
				w.overlaps = append(w.overlaps, msg.ID)
			}
			w.running[msg.ID]++
			w.attempts[msg.ID]++
			w.mu.Unlock()
			defer func() {
				w.mu.Lock()
				w.running[msg.ID]--
				w.mu.Unlock()
			}()
			return n.Notify(ctx, msg)
		}), nil
	}
}

// Two replicas share one database and a receiver that never answers. Each
// steps every few seconds of a shared timeline, as the runner would; no
// notification is ever taken by one while the other's attempt at it may
// still be running, and every claim is an attempt that really starts.
func TestOutboxLeaseOutlastsAttempt(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			hole := newBlackHole(t)
			watch := &overlapWatch{running: map[string]int{}, attempts: map[string]int{}}
			type replica struct {
				db  *store.DB
				ob  *engine.Outbox
				clk *nightjar.FakeClock
			}
			var replicas []replica
			for _, db := range sharedDBs(t, dialect, 2) {
				clk := nightjar.NewFakeClock(t0)
				ob := &engine.Outbox{Outbox: outbox.New(db), Destinations: destinations(db, watch.wrap(notifiers(nil))), Log: quiet(), Clock: clk,
					Pace: time.Millisecond, Workers: 3, PerDestination: 4}
				t.Cleanup(func() { hole.open(); ob.Wait() })
				replicas = append(replicas, replica{db, ob, clk})
			}
			p, _ := setupAt(t, replicas[0].db, hole.srv.URL, "", 20, t0)
			due := t0.Add(time.Hour + time.Minute)
			dl := &engine.Deadlines{Checks: checksOf(replicas[0].db)}
			for _, at := range []time.Time{t0.Add(time.Hour), due} {
				if err := dl.Step(ctx, at); err != nil {
					t.Fatal(err)
				}
			}
			// Five minutes of the timeline; the second replica's clock runs
			// 3 s ahead of the first's.
			for at := due; at.Before(due.Add(5 * time.Minute)); at = at.Add(5 * time.Second) {
				stepWithin(t, replicas[0].ob, replicas[0].clk, at)
				stepWithin(t, replicas[1].ob, replicas[1].clk, at.Add(3*time.Second))
			}
			// Let the attempts still hanging end, then compare.
			hole.open()
			for _, r := range replicas {
				r.ob.Wait()
			}
			watch.mu.Lock()
			overlaps := append([]string(nil), watch.overlaps...)
			made := len(watch.attempts)
			watch.mu.Unlock()
			if len(overlaps) > 0 {
				t.Fatalf("notifications sent again while an attempt at them was still running: %v", overlaps)
			}
			if made == 0 {
				t.Fatal("no attempts were made")
			}
			// Every attempt the database counts was really made: nothing
			// was claimed and left waiting in a queue of its sender.
			items, err := outbox.New(replicas[0].db).ByProject(ctx, p.ID, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				watch.mu.Lock()
				made := watch.attempts[it.ID]
				watch.mu.Unlock()
				if it.Attempts != made {
					t.Errorf("notification %s: %d attempts claimed, %d made", it.ID, it.Attempts, made)
				}
			}
		})
	}
}

// enqueueAt writes msgs to the outbox at the given time, as the alert
// stage does.
func enqueueAt(t *testing.T, db *store.DB, at time.Time, msgs ...outbox.Message) []string {
	t.Helper()
	ids, err := outbox.New(db).Enqueue(context.Background(), at, msgs...)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// firingTo is a firing alert's message in p to a destination.
func firingTo(p *nightjar.Project, to outbox.Destination) outbox.Message {
	return outbox.Message{ProjectID: p.ID, To: to, Event: notify.EventAlertFiring,
		Alert: nightjar.Alert{ProjectID: p.ID, DedupKey: "check:x", Summary: "x is down", Status: nightjar.AlertFiring, StartsAt: t0}}
}

// A message its producer gave an idempotency key reaches the receiver
// with that key, on every attempt, in the header and as the payload's id.
func TestOutboxSendsTheMessagesIdempotencyKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rcv := newReceiver(t, "k")
		rcv.failNext = 1
		p, _ := setup(t, db, rcv.srv.URL, "k", 0)
		chs, err := channels.New(db).List(ctx, p.ID)
		if err != nil || len(chs) != 1 {
			t.Fatalf("channels: %v %v", chs, err)
		}
		msg := firingTo(p, outbox.Destination{Kind: outbox.ToChannel, ID: chs[0].ID})
		msg.IdempotencyKey = "alert:check:x:firing:1"
		id := enqueueAt(t, db, t0, msg)[0]
		clk := nightjar.NewFakeClock(t0)
		ob := &engine.Outbox{Outbox: outbox.New(db), Destinations: destinations(db, notifiers(nil)), Log: quiet(), Clock: clk, Rand: func() float64 { return 0 }}
		stepAndWait(t, ob, clk, t0)
		stepAndWait(t, ob, clk, t0.Add(notify.BackoffBase))
		if rcv.count() != 1 {
			t.Fatalf("%d deliveries", rcv.count())
		}
		if rcv.keys[0] != "alert:check:x:firing:1" || rcv.got[0].ID != "alert:check:x:firing:1" {
			t.Fatalf("Idempotency-Key %q, payload id %q; want the message's key", rcv.keys[0], rcv.got[0].ID)
		}
		if it, err := outbox.New(db).Entry(ctx, p.ID, id); err != nil || it.Status != outbox.Sent || it.Attempts != 2 {
			t.Fatalf("message: %+v %v", it, err)
		}
	})
}

// The module delivers only where it knows how: a message to a kind of
// destination it has no sender for, or to a channel that no longer
// exists, is given up at once with an error saying why, never retried.
func TestOutboxGivesUpOnDestinationsItCannotReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p, _ := setup(t, db, "", "", 0)
		ids := enqueueAt(t, db, t0, firingTo(p, outbox.Destination{Kind: outbox.ToContact, ID: "person-1"}),
			firingTo(p, outbox.Destination{Kind: outbox.ToChannel, ID: "no-such-channel"}))
		clk := nightjar.NewFakeClock(t0)
		ob := &engine.Outbox{Outbox: outbox.New(db), Destinations: destinations(db, notifiers(nil)), Log: quiet(), Clock: clk}
		stepAndWait(t, ob, clk, t0)
		for i, want := range []string{`no delivery to destinations of kind "contact"`, "channel not found"} {
			it, err := outbox.New(db).Entry(ctx, p.ID, ids[i])
			if err != nil || it.Status != outbox.Failed || it.Attempts != 1 || !strings.Contains(it.LastError, want) {
				t.Errorf("message to %s: %+v %v; want failed with %q", it.To, it, err, want)
			}
		}
	})
}

// A channel is sent no more than its kind's limit per minute; the rest
// waits and is sent in the minutes after, none lost.
func TestOutboxKeepsToTheChannelsRatePerMinute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rcv := newReceiver(t, "k")
		p, _ := setup(t, db, rcv.srv.URL, "k", 0)
		chs, err := channels.New(db).List(ctx, p.ID)
		if err != nil || len(chs) != 1 {
			t.Fatalf("channels: %v %v", chs, err)
		}
		to := outbox.Destination{Kind: outbox.ToChannel, ID: chs[0].ID}
		for range 5 {
			enqueueAt(t, db, t0, firingTo(p, to))
		}
		clk := nightjar.NewFakeClock(t0)
		ob := &engine.Outbox{Outbox: outbox.New(db), Destinations: destinations(db, notifiers(nil)), Log: quiet(), Clock: clk,
			PerMinute: map[string]int{nightjar.ChannelWebhook: 2}}
		for _, step := range []struct {
			at   time.Duration
			want int
		}{{0, 2}, {time.Second, 2}, {30 * time.Second, 2}, {time.Minute, 4}, {90 * time.Second, 4}, {2 * time.Minute, 5}} {
			stepAndWait(t, ob, clk, t0.Add(step.at))
			if rcv.count() != step.want {
				t.Fatalf("after %s: %d deliveries, want %d", step.at, rcv.count(), step.want)
			}
		}
		items, err := outbox.New(db).ByProject(ctx, p.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Status != outbox.Sent || it.Attempts != 1 {
				t.Errorf("message %s: %s after %d attempts, want sent after 1", it.ID, it.Status, it.Attempts)
			}
		}
	})
}
