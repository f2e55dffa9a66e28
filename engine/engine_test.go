package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/checks/checkstest"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/netguard"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/email/emailtest"
	"github.com/nightjar-dev/nightjar/notify/webhook"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// receiver is a real HTTP webhook receiver that checks signatures and
// records deliveries; it can be told to fail the first n requests.
type receiver struct {
	mu       sync.Mutex
	failNext int
	got      []webhook.Payload
	keys     []string
	bad      []string
	srv      *httptest.Server
	// delivered has a value for each delivery accepted.
	delivered chan struct{}
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{delivered: make(chan struct{}, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := webhook.Verify(secret, req.Header, body, time.Now(), time.Minute); err != nil {
			r.bad = append(r.bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.failNext > 0 {
			r.failNext--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			r.bad = append(r.bad, err.Error())
		}
		r.got = append(r.got, p)
		r.keys = append(r.keys, req.Header.Get("Idempotency-Key"))
		r.delivered <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// notifiers sends webhooks, and email through mb (none when nil).
func notifiers(mb *emailtest.Mailbox) engine.NotifierFor {
	// Long enough that only the outbox's own timeout, on the test's clock,
	// ends an attempt to a receiver that never answers.
	client := netguard.Policy{AllowPrivate: true}.HTTPClient(10 * time.Minute)
	return func(ch *nightjar.Channel) (notify.Notifier, error) {
		switch {
		case ch.Kind == nightjar.ChannelWebhook:
			return webhook.New(webhook.Config{URL: ch.Config.URL, Secret: ch.Config.Secret, Headers: ch.Config.Headers}, client), nil
		case ch.Kind == nightjar.ChannelEmail && mb != nil:
			return mb.Notifier(ch.Config.To...), nil
		}
		return nil, errors.New("unknown kind")
	}
}

// destinations delivers to channels with n, as serve does.
func destinations(db *store.DB, n engine.NotifierFor) map[string]engine.Destinations {
	return map[string]engine.Destinations{outbox.ToChannel: engine.ChannelDestinations{Channels: channels.New(db), Notifiers: n}}
}

// checksOf is the checks area of db, with its alert stage.
func checksOf(db *store.DB) *checks.Service { return checkstest.New(db) }

func setup(t *testing.T, db *store.DB, hookURL, secret string, n int) (*nightjar.Project, []*nightjar.Check) {
	t.Helper()
	return setupAt(t, db, hookURL, secret, n, t0)
}

// setupAt makes a project with a webhook channel (when hookURL is set) and
// checks pinged at t0, due an hour later and down a minute after that.
func setupAt(t *testing.T, db *store.DB, hookURL, secret string, n int, t0 time.Time) (*nightjar.Project, []*nightjar.Check) {
	t.Helper()
	ctx := context.Background()
	p := &nightjar.Project{Name: "P"}
	if err := projects.New(db).Create(ctx, p, t0); err != nil {
		t.Fatal(err)
	}
	if hookURL != "" {
		ch := &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelWebhook, Name: "hook", Config: nightjar.ChannelConfig{URL: hookURL, Secret: secret}}
		if err := channels.New(db).Create(ctx, ch, t0); err != nil {
			t.Fatal(err)
		}
	}
	var out []*nightjar.Check
	cs := checksOf(db)
	var reqs []*checks.PingRequest
	for i := 0; i < n; i++ {
		c := nightjar.NewCheck(p.ID, "job")
		c.Timeout, c.Grace = time.Hour, time.Minute
		if err := cs.Create(ctx, c, t0); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
		reqs = append(reqs, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: t0, Method: "GET"})
	}
	for _, res := range cs.RecordPings(ctx, reqs, 0) {
		if res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	return p, out
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// stepAndWait runs one outbox step at the given time and waits until every
// attempt it started has ended.
func stepAndWait(t *testing.T, ob *engine.Outbox, clk *nightjar.FakeClock, at time.Time) {
	t.Helper()
	clk.Set(at)
	if err := ob.Step(context.Background(), at); err != nil {
		t.Fatal(err)
	}
	ob.Wait()
}

// A check that misses its deadline is down and its webhook is delivered,
// signed, within the engine's steps; a receiver failure is retried with
// backoff and the retry carries the same idempotency key.
func TestDeadlineToWebhookWithRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rcv := newReceiver(t, "s3cret")
		rcv.failNext = 1
		_, made := setup(t, db, rcv.srv.URL, "s3cret", 1)
		dl := &engine.Deadlines{Checks: checksOf(db)}
		clk := nightjar.NewFakeClock(t0)
		ob := &engine.Outbox{Outbox: outbox.New(db), Destinations: destinations(db, notifiers(nil)), Log: quiet(), Rand: func() float64 { return 0 }, Clock: clk}

		for _, at := range []time.Time{t0.Add(time.Hour), t0.Add(time.Hour + time.Minute)} {
			if err := dl.Step(ctx, at); err != nil {
				t.Fatal(err)
			}
		}
		now := t0.Add(time.Hour + time.Minute)
		stepAndWait(t, ob, clk, now)
		if rcv.count() != 0 {
			t.Fatal("delivered although the receiver failed")
		}
		// Backoff with zero jitter: half of 10 s.
		stepAndWait(t, ob, clk, now.Add(4*time.Second))
		if rcv.count() != 0 {
			t.Fatal("retried before the backoff ran out")
		}
		stepAndWait(t, ob, clk, now.Add(5*time.Second))
		if rcv.count() != 1 || len(rcv.bad) != 0 {
			t.Fatalf("deliveries %d, bad %v", rcv.count(), rcv.bad)
		}
		p := rcv.got[0]
		if p.Event != "alert.firing" || p.Alert.DedupKey != "check:"+made[0].ID || !strings.Contains(p.Alert.Summary, "is down") {
			t.Fatalf("payload: %+v", p)
		}
		if rcv.keys[0] == "" || rcv.keys[0] != p.ID {
			t.Fatalf("idempotency key %q, payload id %q", rcv.keys[0], p.ID)
		}
		if n, _ := outbox.New(db).Depth(ctx); n != 0 {
			t.Fatalf("outbox depth %d after delivery", n)
		}
	})
}

func TestEmailChannel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mb := emailtest.Start(t)
		p, _ := setup(t, db, "", "", 0)
		ch := &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelEmail, Name: "ops", Config: nightjar.ChannelConfig{To: []string{"ops@example.com"}}}
		if err := channels.New(db).Create(ctx, ch, t0); err != nil {
			t.Fatal(err)
		}
		id, err := channels.New(db).SendTest(ctx, ch, t0)
		if err != nil {
			t.Fatal(err)
		}
		clk := nightjar.NewFakeClock(t0)
		ob := &engine.Outbox{Outbox: outbox.New(db), Destinations: destinations(db, notifiers(mb)), Log: quiet(), Clock: clk}
		stepAndWait(t, ob, clk, t0)
		it, _ := outbox.New(db).Entry(ctx, p.ID, id)
		if it.Status != outbox.Sent {
			t.Fatalf("email status %s: %s", it.Status, it.LastError)
		}
		if got := mb.Messages(); len(got) != 1 || !strings.Contains(got[0].Raw, "To: <ops@example.com>") || !strings.Contains(got[0].Raw, "Test notification") {
			t.Fatalf("received: %+v", got)
		}
	})
}

// sharedDBs opens n handles on one new database of the dialect, as n
// replicas of Nightjar would.
func sharedDBs(t *testing.T, dialect string, n int) []*store.DB {
	t.Helper()
	dsn := storetest.SQLitePath(t)
	if dialect == "postgres" {
		dsn = storetest.PostgresURL(t)
	}
	var dbs []*store.DB
	for i := 0; i < n; i++ {
		db, err := store.Open(context.Background(), dsn, store.Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	return dbs
}

// Two replicas sharing one database run the same modules at the same time;
// every alert is raised once and every notification is delivered once.
func TestTwoReplicasNoDoubles(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			replicas := sharedDBs(t, dialect, 2)
			rcv := newReceiver(t, "k")
			const n = 30
			setup(t, replicas[0], rcv.srv.URL, "k", n)

			var wg sync.WaitGroup
			for _, db := range replicas {
				dl := &engine.Deadlines{Checks: checksOf(db)}
				clk := nightjar.NewFakeClock(t0)
				ob := &engine.Outbox{Outbox: outbox.New(db), Destinations: destinations(db, notifiers(nil)), Log: quiet(), Clock: clk}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 20; i++ {
						// The replicas' clocks differ by less than the
						// outbox lease, as real clocks do.
						now := t0.Add(time.Hour + time.Duration(min(i, 7))*10*time.Second)
						if err := dl.Step(ctx, now); err != nil {
							t.Error(err)
							return
						}
						clk.Set(now)
						if err := ob.Step(ctx, now); err != nil {
							t.Error(err)
							return
						}
						ob.Wait()
					}
				}()
			}
			wg.Wait()
			if rcv.count() != n {
				for _, p := range rcv.got {
					t.Logf("%s %s %s", p.ID, p.Event, p.Alert.DedupKey)
				}
				t.Fatalf("%d notifications delivered for %d alerts", rcv.count(), n)
			}
			seen := map[string]bool{}
			for _, p := range rcv.got {
				if seen[p.Alert.DedupKey] {
					t.Fatalf("alert %s notified twice", p.Alert.DedupKey)
				}
				seen[p.Alert.DedupKey] = true
			}
		})
	}
}

func TestRecoverAfterOutage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cs := checksOf(db)
		_, made := setup(t, db, "", "", 3)
		if err := cs.TouchAlive(ctx, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		restart := t0.Add(5 * time.Hour)
		if err := engine.RecoverAfterOutage(ctx, cs, restart, quiet()); err != nil {
			t.Fatal(err)
		}
		dl := &engine.Deadlines{Checks: checksOf(db)}
		if err := dl.Step(ctx, restart.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		for _, c := range made {
			got, _ := cs.Get(ctx, c.ProjectID, c.ID)
			if got.State.Status != nightjar.StatusUp && got.State.Status != nightjar.StatusLate {
				t.Fatalf("check went %s right after the restart", got.State.Status)
			}
		}
		gaps, _ := cs.Gaps(ctx, 5)
		if len(gaps) != 1 || gaps[0].ChecksAdjusted != 3 {
			t.Fatalf("gaps: %+v", gaps)
		}
		alive, _ := cs.AliveAt(ctx)
		if !alive.Equal(restart) {
			t.Fatalf("alive at %s, want %s", alive, restart)
		}
	})
}

func TestRunnerRunsModulesUntilCancelled(t *testing.T) {
	var mu sync.Mutex
	steps := 0
	m := moduleFunc(func(ctx context.Context, now time.Time) error {
		mu.Lock()
		steps++
		s := steps
		mu.Unlock()
		if s == 2 {
			panic("boom") // a panicking step must not stop the module
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		(&engine.Runner{Clock: nightjar.SystemClock{}, Log: quiet()}).Run(ctx, m)
		close(done)
	}()
	deadline := time.After(5 * time.Second)
	for {
		mu.Lock()
		s := steps
		mu.Unlock()
		if s >= 4 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("only %d steps ran", s)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	<-done
}

type moduleFunc func(ctx context.Context, now time.Time) error

func (f moduleFunc) Name() string                                  { return "test" }
func (f moduleFunc) Interval() time.Duration                       { return time.Millisecond }
func (f moduleFunc) Step(ctx context.Context, now time.Time) error { return f(ctx, now) }

// wakingModule has an interval of an hour and a wake channel.
type wakingModule struct {
	wake  chan struct{}
	steps chan struct{}
}

func (m wakingModule) Name() string                          { return "waking" }
func (m wakingModule) Interval() time.Duration               { return time.Hour }
func (m wakingModule) Wake() <-chan struct{}                 { return m.wake }
func (m wakingModule) Step(context.Context, time.Time) error { m.steps <- struct{}{}; return nil }

// A module with work before its next tick (the outbox, with messages just
// committed) is stepped when its wake channel receives.
func TestRunnerStepsWokenModules(t *testing.T) {
	m := wakingModule{wake: make(chan struct{}, 1), steps: make(chan struct{}, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		(&engine.Runner{Clock: nightjar.SystemClock{}, Log: quiet()}).Run(ctx, m)
		close(done)
	}()
	defer func() { cancel(); <-done }()
	for i := range 3 {
		select {
		case <-m.steps:
		case <-time.After(guard):
			t.Fatalf("step %d did not run", i+1)
		}
		m.wake <- struct{}{} // the first step runs at start, the others only when woken
	}
}
