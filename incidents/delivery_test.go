package incidents_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/netguard"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/webhook"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// receiver is a real webhook endpoint that refuses while down and
// records what it accepts.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	down bool
	got  []webhook.Payload
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var p webhook.Payload
		if err := json.NewDecoder(req.Body).Decode(&p); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.got = append(r.got, p)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

func (r *receiver) payloads() []webhook.Payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhook.Payload(nil), r.got...)
}

// pagesThrough gives person a verified webhook contact method at the
// receiver, and the service checkout a one-step policy paging them; it
// returns the method's id.
func (w *world) pagesThrough(t *testing.T, person string, rcv *receiver) string {
	t.Helper()
	m := w.method(t, person, rcv.srv.URL+"/"+person)
	p := w.policy(t, "web", 0, step(5*time.Minute, user(person)))
	w.service(t, "checkout", p, incident.DefaultServiceConfig())
	return m
}

// deliverer returns a function that runs the outbox module as serve wires
// it (webhook senders for channels and contact methods, the incidents area
// recording results) at a time, and waits for its attempts.
func (w *world) deliverer(t *testing.T) func(at time.Time) {
	clk := nightjar.NewFakeClock(t0)
	return stepper(t, delivery(w, clk, webhooks()), clk)
}

// delivery is the outbox module as serve wires it, on clk, with links to
// https://nightjar.example.com, sending through notifiers, the incidents
// area recording results.
func delivery(w *world, clk nightjar.Clock, notifiers engine.NotifierFor) *engine.Outbox {
	return &engine.Outbox{Outbox: outbox.New(w.db, w.s), Clock: clk, Rand: func() float64 { return 0 }, ConsoleURL: "https://nightjar.example.com",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Destinations: map[string]engine.Destinations{
			outbox.ToChannel: engine.ChannelDestinations{Channels: channels.New(w.db), Notifiers: notifiers},
			outbox.ToContact: engine.ContactDestinations{Incidents: w.s, Notifiers: notifiers},
		}}
}

// webhooks sends to every destination as a webhook to its URL, which may
// be a receiver on the loopback address.
func webhooks() engine.NotifierFor {
	client := netguard.Policy{AllowPrivate: true}.HTTPClient(10 * time.Second)
	return func(ch *nightjar.Channel) (notify.Notifier, error) {
		return webhook.New(webhook.Config{URL: ch.Config.URL}, client), nil
	}
}

// stepper returns a function that sets clk to a time, steps ob then and
// waits for its attempts.
func stepper(t *testing.T, ob *engine.Outbox, clk *nightjar.FakeClock) func(time.Time) {
	return func(at time.Time) {
		t.Helper()
		clk.Set(at)
		must(t, ob.Step(context.Background(), at))
		ob.Wait()
	}
}

// TestPageDelivery: a page reaches a person's webhook contact method
// through the outbox, with the incident and its ack link; while the
// receiver is down it is retried, and once back it gets the page exactly
// once; the timeline shows the delivery result.
func TestPageDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rcv := newReceiver(t)
		w := newWorld(t, db)
		m := w.pagesThrough(t, w.bob, rcv)
		w.names[m] = "bob-hook"
		deliver := w.deliverer(t)

		rcv.setDown(true)
		w.alert(t, t0, "db", "checkout", nightjar.AlertFiring)
		deliver(t0)
		rcv.setDown(false)
		for i := 1; i <= 5; i++ {
			deliver(t0.Add(time.Duration(i) * time.Minute))
		}
		var pages []webhook.Payload
		for _, pl := range rcv.payloads() {
			if pl.Event == notify.EventIncidentPage {
				pages = append(pages, pl)
			}
		}
		// bob has two methods (the fixture's and this one); this one got
		// the page once.
		if len(pages) != 1 {
			t.Fatalf("pages received = %+v", pages)
		}
		pi := pages[0].Incident
		if pi == nil || pi.Number != 1 || pi.RunbookURL != "https://wiki.example.com/checkout" || pi.Step != 1 ||
			!strings.HasPrefix(pi.AckURL, "https://nightjar.example.com/ack/") || pages[0].Alert.Summary != "db is down" {
			t.Fatalf("page = %+v / %+v", pages[0], pi)
		}
		// The link in the page works.
		token := strings.TrimPrefix(pi.AckURL, "https://nightjar.example.com/ack/")
		if _, err := w.s.UseLink(ctx, token, t0.Add(6*time.Minute)); err != nil {
			t.Fatal(err)
		}
		inc := w.only(t)
		if inc.Status != incident.Acknowledged || inc.Assignee != w.bob {
			t.Fatalf("after the link: %+v", inc)
		}
		tl, err := w.s.Timeline(ctx, w.project, inc.ID)
		must(t, err)
		found := false
		for _, e := range tl {
			if e.Kind == incidents.EntryNotification && e.Delivery != nil && e.Delivery.Status == outbox.Sent && e.Delivery.Attempts == 2 {
				found = true
			}
		}
		if !found {
			t.Fatalf("no notification sent on the second attempt in the timeline: %+v", tl)
		}
	})
}

// TestTwoReplicasPageOnce: two processes' escalation modules on one
// PostgreSQL database, stepping at the same moments, page each step of
// many incidents exactly once.
func TestTwoReplicasPageOnce(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	ctx := context.Background()
	open := func() *store.DB {
		db, err := store.Open(ctx, dsn, store.Options{})
		must(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	db1 := open()
	db2 := open()
	w := newWorld(t, db1)
	p := w.policy(t, "web", 2, step(time.Minute, user(w.alice)), step(time.Minute, user(w.bob)))
	w.service(t, "checkout", p, incident.ServiceConfig{})
	const n = 20
	for i := 0; i < n; i++ {
		w.alert(t, t0, "k"+string(rune('a'+i)), "checkout", nightjar.AlertFiring)
	}
	replicas := []*engine.Escalation{{Incidents: incidents.New(db1), Batch: 3}, {Incidents: incidents.New(db2), Batch: 3}}
	for s := 1; s <= 8; s++ {
		at := t0.Add(time.Duration(s) * time.Minute)
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for _, r := range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- r.Step(ctx, at)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err)
		}
	}
	items, err := w.ob.ByProject(ctx, w.project, 10000)
	must(t, err)
	keys := map[string]int{}
	pages := 0
	for _, it := range items {
		if it.Event == notify.EventIncidentPage {
			keys[it.IdempotencyKey]++
			pages++
		}
	}
	// 3 rounds of 2 steps for each incident, one message each.
	if pages != n*6 || len(keys) != pages {
		t.Fatalf("%d pages with %d distinct keys, want %d", pages, len(keys), n*6)
	}
}

// TestConcurrentAlertsGroup: alerts of one service arriving together on
// two replicas of one PostgreSQL database join one incident.
func TestConcurrentAlertsGroup(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	ctx := context.Background()
	var stages []*alerting.Stage
	var dbs []*store.DB
	var w *world
	for i := 0; i < 2; i++ {
		db, err := store.Open(ctx, dsn, store.Options{})
		must(t, err)
		t.Cleanup(func() { db.Close() })
		if w == nil {
			w = newWorld(t, db)
		}
		stages = append(stages, alerting.New(db, incidents.AlertRoute{Store: incidents.New(db)}))
		dbs = append(dbs, db)
	}
	p := w.policy(t, "web", 0, step(time.Minute, user(w.alice)))
	w.service(t, "checkout", p, incident.DefaultServiceConfig())
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, db := stages[i%2], dbs[i%2]
			a := &nightjar.Alert{ProjectID: w.project, DedupKey: fmt.Sprintf("k%d", i), Source: "test", Service: "checkout",
				Severity: nightjar.SeverityPage, Summary: "down", Status: nightjar.AlertFiring, StartsAt: t0}
			errs <- db.WithTx(ctx, func(tx *store.Tx) error { return st.Handle(ctx, tx, alerting.Change{Alert: a, At: t0}) })
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	if inc := w.only(t); len(inc.Alerts) != 10 {
		t.Fatalf("incident has %d alerts, want 10", len(inc.Alerts))
	}
}

// notifications returns the incident's notification entries, oldest first.
func (w *world) notifications(t *testing.T, id string) []incidents.TimelineEntry {
	t.Helper()
	tl, err := w.s.Timeline(context.Background(), w.project, id)
	must(t, err)
	var out []incidents.TimelineEntry
	for _, e := range tl {
		if e.Kind == incidents.EntryNotification {
			out = append(out, e)
		}
	}
	return out
}

// TestDeliveryResultOutlivesPrune: the timeline and the postmortem of an
// incident keep how its notifications fared after the outbox has pruned
// the messages.
func TestDeliveryResultOutlivesPrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		rcv := newReceiver(t)
		w := newWorld(t, db)
		dave := addMember(t, w.fixture, "dave@example.com")
		w.pagesThrough(t, dave, rcv)
		deliver := w.deliverer(t)

		rcv.setDown(true)
		w.alert(t, t0, "db", "checkout", nightjar.AlertFiring)
		deliver(t0)
		rcv.setDown(false)
		deliver(t0.Add(time.Minute))
		w.alert(t, t0.Add(2*time.Minute), "db", "checkout", nightjar.AlertResolved)
		deliver(t0.Add(2 * time.Minute))
		inc := w.only(t)

		ob := outbox.New(db)
		items, err := ob.ByProject(ctx, w.project, 100)
		must(t, err)
		must(t, (&engine.Retention{Outbox: ob}).Step(ctx, t0.Add(31*24*time.Hour)))
		for _, it := range items {
			if _, err := ob.Entry(ctx, w.project, it.ID); it.Status != outbox.Pending && nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
				t.Fatalf("message %s (%s) was not pruned: %v", it.ID, it.Status, err)
			}
		}

		var got []string
		for _, e := range w.notifications(t, inc.ID) {
			d := e.Delivery
			if d == nil {
				t.Fatalf("notification %q lost its delivery result", e.Text)
			}
			got = append(got, fmt.Sprintf("%s %s %d %s", e.Text, d.Status, d.Attempts, d.SentAt.Sub(t0)))
		}
		want := []string{
			fmt.Sprintf("page to %s by webhook sent 2 1m0s", dave),
			fmt.Sprintf("resolved to %s by webhook sent 1 2m0s", dave),
		}
		if !slices.Equal(got, want) {
			t.Fatalf("notifications after the prune = %q, want %q", got, want)
		}
		pm, err := w.s.Postmortem(ctx, w.project, inc.ID, time.UTC, t0.Add(31*24*time.Hour))
		must(t, err)
		if !strings.Contains(pm.Text, "page to "+dave+" by webhook: sent after 2 attempts |") {
			t.Fatalf("postmortem draft does not say how the page fared:\n%s", pm.Text)
		}
	})
}

// TestUnverifiedMethodNotSent: a page queued to a contact method whose
// address changes (which takes its verification away), or that is
// deleted, before the page goes out is not sent: it ends cancelled with
// the reason, and the incident's timeline says so. A verification code
// still reaches the changed method.
func TestUnverifiedMethodNotSent(t *testing.T) {
	for _, c := range []struct {
		name, reason string
		change       func(t *testing.T, w *world, user, method string)
	}{
		{"address changed", "is not verified", func(t *testing.T, w *world, user, method string) {
			m, err := w.s.ContactMethod(context.Background(), user, method)
			must(t, err)
			m.Value += "-new"
			must(t, w.s.UpdateContactMethod(context.Background(), m))
		}},
		{"deleted", "was deleted", func(t *testing.T, w *world, user, method string) {
			must(t, w.s.DeleteContactMethod(context.Background(), user, method))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				rcv := newReceiver(t)
				w := newWorld(t, db)
				dave := addMember(t, w.fixture, "dave@example.com")
				m := w.pagesThrough(t, dave, rcv)
				deliver := w.deliverer(t)
				deliver(t0) // the verification code
				before := len(rcv.payloads())

				w.alert(t, t0.Add(time.Minute), "db", "checkout", nightjar.AlertFiring)
				c.change(t, w, dave, m)
				deliver(t0.Add(time.Minute))
				deliver(t0.Add(2 * time.Minute))
				if got := rcv.payloads()[before:]; len(got) != 0 {
					t.Fatalf("sent to a method that is no longer verified: %+v", got)
				}
				items, err := w.ob.ByProject(ctx, w.project, 100)
				must(t, err)
				var page *outbox.Item
				for _, it := range items {
					if it.Event == notify.EventIncidentPage && it.To.ID == m {
						page = it
					}
				}
				if page == nil || page.Status != outbox.Cancelled || !strings.Contains(page.LastError, c.reason) {
					t.Fatalf("page = %+v, want cancelled because the method %s", page, c.reason)
				}
				ns := w.notifications(t, w.only(t).ID)
				if len(ns) != 1 || ns[0].Delivery == nil || ns[0].Delivery.Status != outbox.Cancelled ||
					!strings.Contains(ns[0].Delivery.LastError, c.reason) || ns[0].Delivery.Attempts != 1 {
					t.Fatalf("timeline notifications = %+v, want the page cancelled because the method %s", ns, c.reason)
				}
				if c.name != "address changed" {
					return
				}
				// The new address gets its verification code.
				code := sendCode(t, w.fixture, dave, m, t0.Add(3*time.Minute))
				deliver(t0.Add(3 * time.Minute))
				got := rcv.payloads()[before:]
				if len(got) != 1 || got[0].Event != notify.EventContactVerify || !strings.HasSuffix(got[0].Alert.Summary, code) {
					t.Fatalf("after asking for a code, the method got %+v", got)
				}
			})
		})
	}
}

// TestDeletedChannelNotificationNotSent: a notification to a channel
// deleted before it went out shows in the timeline as cancelled, not as
// pending for ever.
func TestDeletedChannelNotificationNotSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p := w.policy(t, "web", 0, step(5*time.Minute, incident.Target{Kind: incident.TargetChannel, ID: w.channel}))
		w.service(t, "checkout", p, incident.DefaultServiceConfig())
		w.alert(t, t0, "db", "checkout", nightjar.AlertFiring)
		w.want(t, t0, "the alert fires", "incident.page → #ops")
		must(t, channels.New(db).Delete(ctx, w.project, w.channel))
		ns := w.notifications(t, w.only(t).ID)
		if len(ns) != 1 || ns[0].Delivery == nil || ns[0].Delivery.Status != outbox.Cancelled || !strings.Contains(ns[0].Delivery.LastError, "deleted") {
			t.Fatalf("notifications = %+v, want the page cancelled with its channel", ns)
		}
	})
}
