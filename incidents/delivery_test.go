package incidents_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// delivery is the outbox module as serve wires it, on clk, with links to
// https://nightjar.example.com, sending through notifiers.
func delivery(w *world, clk nightjar.Clock, notifiers engine.NotifierFor) *engine.Outbox {
	return &engine.Outbox{Outbox: outbox.New(w.db), Clock: clk, Rand: func() float64 { return 0 }, ConsoleURL: "https://nightjar.example.com",
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
		m := w.method(t, w.bob, rcv.srv.URL+"/bob")
		w.names[m] = "bob-hook"
		p := w.policy(t, "web", 0, step(5*time.Minute, user(w.bob)))
		w.service(t, "checkout", p, incident.DefaultServiceConfig())

		clk := nightjar.NewFakeClock(t0)
		deliver := stepper(t, delivery(w, clk, webhooks()), clk)

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
