package incidents_test

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/email/emailtest"
	"github.com/nightjar-dev/nightjar/notify/webhook"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// pagesIn keeps the pages among a receiver's payloads.
func pagesIn(got []webhook.Payload) []webhook.Payload {
	var pages []webhook.Payload
	for _, p := range got {
		if p.Event == notify.EventIncidentPage {
			pages = append(pages, p)
		}
	}
	return pages
}

// TestBundledPages: five incidents open at once and page bob. His
// webhook and his mailbox each get one message listing the five, oldest
// first, each with an acknowledge link that works; his webhook was down
// at first, so the bundle is retried whole and arrives once. alice, paged
// at the same moment for a sixth incident, gets her single page as it
// always was, and nothing of bob's. Every incident's timeline shows its
// page to each method with the delivery's result.
func TestBundledPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const console = "https://nightjar.example.com"
		w := newWorld(t, db)
		bobHook, aliceHook := newReceiver(t), newReceiver(t)
		hook := w.method(t, w.bob, bobHook.srv.URL+"/bob")
		w.method(t, w.alice, aliceHook.srv.URL+"/alice")
		mb := emailtest.Start(t)
		mail := incident.ContactMethod{UserID: w.bob, Kind: incident.ContactEmail, Value: "bob@example.com"}
		must(t, w.s.CreateContactMethod(ctx, &mail, t0))
		must(t, w.s.Verify(ctx, w.bob, mail.ID, sendCode(t, w.fixture, w.bob, mail.ID, t0), t0))

		toBob := w.policy(t, "bob", 0, step(time.Hour, user(w.bob)))
		toAlice := w.policy(t, "alice", 0, step(time.Hour, user(w.alice)))
		for i := 1; i <= 5; i++ {
			w.service(t, fmt.Sprintf("svc%d", i), toBob, incident.DefaultServiceConfig())
		}
		w.service(t, "billing", toAlice, incident.DefaultServiceConfig())

		hooks := webhooks()
		notifiers := func(ch *nightjar.Channel) (notify.Notifier, error) {
			if ch.Kind == nightjar.ChannelEmail {
				return mb.Notifier(ch.Config.To...), nil
			}
			return hooks(ch)
		}
		clk := nightjar.NewFakeClock(t0)
		ob := delivery(w, clk, notifiers)
		// Room for every attempt of the first step at once, so that the
		// bundle to bob's webhook is tried while it is down.
		ob.PerProject = 50
		deliver := stepper(t, ob, clk)

		bobHook.setDown(true)
		for i := 1; i <= 5; i++ {
			w.alert(t, t0, fmt.Sprintf("db%d", i), fmt.Sprintf("svc%d", i), nightjar.AlertFiring)
		}
		w.alert(t, t0, "ledger", "billing", nightjar.AlertFiring)
		deliver(t0)
		if got := pagesIn(bobHook.payloads()); len(got) != 0 {
			t.Fatalf("bob's webhook is down, yet accepted %+v", got)
		}
		bobHook.setDown(false)
		for _, at := range []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute} {
			deliver(t0.Add(at))
		}

		// bob's webhook: one bundle of the five, incidents #1 to #5.
		pages := pagesIn(bobHook.payloads())
		if len(pages) != 1 || len(pages[0].Bundle) != 5 {
			t.Fatalf("bob's webhook got %d pages, want one bundle of 5: %+v", len(pages), pages)
		}
		bundle := pages[0]
		if !strings.HasPrefix(bundle.ID, "bundle/") || bundle.Incident == nil || !reflect.DeepEqual(bundle.Incident, bundle.Bundle[0].Incident) {
			t.Fatalf("bundle %s names %+v, want its first incident", bundle.ID, bundle.Incident)
		}
		var links []string
		for i, item := range bundle.Bundle {
			if item.Incident == nil || item.Incident.Number != int64(i+1) || item.Alert.Summary != fmt.Sprintf("db%d is down", i+1) ||
				!strings.HasPrefix(item.Incident.AckURL, console+"/ack/") || item.ID == bundle.ID {
				t.Fatalf("bundle item %d: %+v / %+v", i, item, item.Incident)
			}
			links = append(links, item.Incident.AckURL)
		}

		// bob's mailbox: one email listing the five, each with its link.
		var mails []emailtest.Mail
		for _, m := range mb.Messages() {
			if strings.HasPrefix(m.Subject, "[PAGE") {
				mails = append(mails, m)
			}
		}
		if len(mails) != 1 || !strings.HasPrefix(mails[0].Subject, "[PAGE] 5 incidents need you: #1 svc1: db1 is down, #2 svc2") {
			t.Fatalf("bob's mailbox got %d pages: %+v", len(mails), mails)
		}
		ackLine := regexp.MustCompile(`Acknowledge #(\d): (https://\S+)`)
		found := ackLine.FindAllStringSubmatch(mails[0].Body, -1)
		if len(found) != 5 {
			t.Fatalf("the email has %d acknowledge links, want 5:\n%s", len(found), mails[0].Body)
		}
		for i, f := range found {
			if f[1] != fmt.Sprint(i+1) {
				t.Fatalf("the email lists #%s in place %d:\n%s", f[1], i+1, mails[0].Body)
			}
		}

		// alice: her one page, as a single message.
		alicePages := pagesIn(aliceHook.payloads())
		if len(alicePages) != 1 || alicePages[0].Bundle != nil || alicePages[0].Incident == nil || alicePages[0].Incident.Number != 6 ||
			!strings.HasPrefix(alicePages[0].ID, "incident/") {
			t.Fatalf("alice got %+v", alicePages)
		}

		// Each link works: three from the webhook, two from the email,
		// and each acknowledges its own incident in bob's name.
		for i := 0; i < 5; i++ {
			link := links[i]
			if i >= 3 {
				link = found[i][2]
			}
			l, err := w.s.UseLink(ctx, strings.TrimPrefix(link, console+"/ack/"), t0.Add(6*time.Minute))
			must(t, err)
			if l.User != w.bob || l.Action != incidents.ActionAcknowledge {
				t.Fatalf("link %d: %+v", i+1, l)
			}
		}
		incs, err := w.s.Incidents(ctx, w.project, incidents.IncidentFilter{})
		must(t, err)
		if len(incs) != 6 {
			t.Fatalf("%d incidents, want 6", len(incs))
		}
		for _, inc := range incs {
			acked := inc.Status == incident.Acknowledged && inc.Assignee == w.bob
			if acked != (inc.Number <= 5) {
				t.Fatalf("incident #%d: %s by %q", inc.Number, inc.Status, inc.Assignee)
			}
			if inc.Number > 5 {
				continue
			}
			// The timeline: the page to bob's webhook, sent on the second
			// attempt, and to his mailbox, sent on the first.
			tl, err := w.s.Timeline(ctx, w.project, inc.ID)
			must(t, err)
			var hookSent, mailSent bool
			for _, e := range tl {
				if e.Kind != incidents.EntryNotification || e.Delivery == nil || e.Delivery.Status != outbox.Sent {
					continue
				}
				hookSent = hookSent || (strings.HasSuffix(e.Text, "by webhook") && e.Delivery.Attempts == 2 && e.Delivery.Bundled == 5)
				mailSent = mailSent || (strings.HasSuffix(e.Text, "by email") && e.Delivery.Attempts == 1 && e.Delivery.Bundled == 5)
			}
			if !hookSent || !mailSent {
				t.Fatalf("incident #%d's timeline lacks its bundled deliveries: %+v", inc.Number, tl)
			}
		}

		// In the outbox, each of the five pages to bob's webhook was sent
		// once, in the bundle, on its second attempt.
		items, err := w.ob.ByProject(ctx, w.project, 1000)
		must(t, err)
		n := 0
		for _, it := range items {
			if it.To.ID == hook && it.Event == notify.EventIncidentPage {
				n++
				if it.Status != outbox.Sent || it.Attempts != 2 || it.Bundle != bundle.ID {
					t.Fatalf("page %+v", it)
				}
			}
		}
		if n != 5 {
			t.Fatalf("%d pages to bob's webhook in the outbox, want 5", n)
		}
	})
}

// TestStormOverSeconds: five incidents open a second apart and page bob,
// as the alerts of a storm arrive. The first page reaches his webhook at
// once, alone and as it always was; the four that follow within seconds
// wait out the bundling window after it and arrive as one message.
func TestStormOverSeconds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		rcv := newReceiver(t)
		w.method(t, w.bob, rcv.srv.URL+"/bob")
		p := w.policy(t, "bob", 0, step(time.Hour, user(w.bob)))
		for i := 1; i <= 5; i++ {
			w.service(t, fmt.Sprintf("svc%d", i), p, incident.DefaultServiceConfig())
		}
		clk := nightjar.NewFakeClock(t0)
		deliver := stepper(t, delivery(w, clk, webhooks()), clk)

		for i := 1; i <= 5; i++ {
			at := t0.Add(time.Duration(i-1) * time.Second)
			w.alert(t, at, fmt.Sprintf("db%d", i), fmt.Sprintf("svc%d", i), nightjar.AlertFiring)
			deliver(at)
			if got := pagesIn(rcv.payloads()); len(got) != 1 {
				t.Fatalf("at %s: %d pages, want the first alone", at.Sub(t0), len(got))
			}
		}
		deliver(t0.Add(5 * time.Second))
		pages := pagesIn(rcv.payloads())
		if len(pages) != 2 || pages[0].Bundle != nil || pages[0].Incident.Number != 1 || len(pages[1].Bundle) != 4 {
			t.Fatalf("pages: %+v", pages)
		}
		for i, item := range pages[1].Bundle {
			if item.Incident.Number != int64(i+2) {
				t.Fatalf("bundle item %d is incident #%d", i, item.Incident.Number)
			}
		}
	})
}

// TestTwoRulesOneMethodPageOnce: bob has two notification rules for the
// same method and delay, so his page is written twice under one key; the
// two fall due together and go as one request, his single page as it
// always looked, not a bundle listing the incident twice.
func TestTwoRulesOneMethodPageOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		rcv := newReceiver(t)
		m := w.method(t, w.bob, rcv.srv.URL+"/bob")
		for i := 0; i < 2; i++ {
			must(t, w.s.CreateNotificationRule(ctx, &incident.NotificationRule{UserID: w.bob, Method: m}, t0))
		}
		w.service(t, "checkout", w.policy(t, "bob", 0, step(time.Hour, user(w.bob))), incident.DefaultServiceConfig())
		clk := nightjar.NewFakeClock(t0)
		deliver := stepper(t, delivery(w, clk, webhooks()), clk)
		w.alert(t, t0, "db", "checkout", nightjar.AlertFiring)
		deliver(t0)
		deliver(t0.Add(time.Minute))
		pages := pagesIn(rcv.payloads())
		if len(pages) != 1 || pages[0].Bundle != nil || pages[0].Incident == nil || !strings.HasPrefix(pages[0].ID, "incident/") {
			t.Fatalf("pages: %+v", pages)
		}
		items, err := w.ob.ByProject(ctx, w.project, 100)
		must(t, err)
		for _, it := range items {
			if it.To.ID == m && it.Event == notify.EventIncidentPage && it.Status != outbox.Sent {
				t.Fatalf("page %+v", it)
			}
		}
	})
}
