package console

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/browsertest"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/email/emailtest"
	"github.com/nightjar-dev/nightjar/outbox"
)

// mailNotifier sends email to mb, as an email channel set up with the
// operator's SMTP server does.
func mailNotifier(mb *emailtest.Mailbox) engine.NotifierFor {
	return func(ch *nightjar.Channel) (notify.Notifier, error) { return mb.Notifier(ch.Config.To...), nil }
}

// findMail returns the subject and decoded body of the first message mb
// received that contains s.
func findMail(mb *emailtest.Mailbox, s string) string {
	for _, m := range mb.Messages() {
		if t := "Subject: " + m.Subject + "\n\n" + m.Body; strings.Contains(t, s) {
			return t
		}
	}
	return ""
}

// The quality bar of incident response: a responder is paged by email
// (a real SMTP server), opens the acknowledge link from the message in a
// browser, presses its button, and finds the acknowledgement, in their
// name, in the incident's timeline in the console.
func TestAckLinkFromEmail(t *testing.T) {
	t.Parallel()
	takeBrowserTurn(t)
	b := browsertest.New(t)
	ctx := context.Background()
	r := newResponders(t)
	db, p, areas, mia := r.db, r.project, r.areas, r.mia
	srv := startStack(t, db)
	mb := emailtest.Start(t)
	ob := &engine.Outbox{Outbox: areas.Outbox, Clock: nightjar.SystemClock{}, Rand: func() float64 { return 0 }, ConsoleURL: srv.URL,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Destinations: map[string]engine.Destinations{
			outbox.ToContact: engine.ContactDestinations{Incidents: areas.Incidents, Notifiers: mailNotifier(mb)}}}
	deliver := func() {
		t.Helper()
		if err := ob.Step(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		ob.Wait()
	}

	// Mia's email address, verified with the code it received.
	m := &incident.ContactMethod{UserID: mia.ID, Kind: incident.ContactEmail, Value: "mia@acme.test"}
	if err := areas.Incidents.CreateContactMethod(ctx, m, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := areas.Incidents.SendVerificationCode(ctx, p.ID, mia.ID, m.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	deliver()
	code := regexp.MustCompile(regexp.QuoteMeta(incidents.VerificationPrefix) + `([^\s.]+)`).FindStringSubmatch(findMail(mb, incidents.VerificationPrefix))
	if code == nil {
		t.Fatalf("no verification code received: %+v", mb.Messages())
	}
	if err := areas.Incidents.Verify(ctx, mia.ID, m.ID, code[1], time.Now()); err != nil {
		t.Fatal(err)
	}

	fire := pagingSetup(t, db, areas.Incidents, p.ID, mia.ID)
	fire("checkout-errors", nightjar.AlertFiring, time.Now())
	deliver()
	page := findMail(mb, "checkout-errors is down")
	link := regexp.MustCompile(regexp.QuoteMeta(srv.URL) + `/ack/[^\s"<>]+`).FindString(page)
	if link == "" {
		t.Fatalf("the page email has no link to %s/ack/:\n%s", srv.URL, page)
	}

	// Opening the link changes nothing; its button acknowledges.
	tab := b.NewPage(t)
	tab.Navigate(link)
	tab.WaitText("#status", "triggered")
	tab.Screenshot("ack-link")
	tab.Click("form button")
	tab.WaitText("h1", "Incident #1 is acknowledged")
	tab.Navigate(link)
	tab.WaitText("#message", "used already")

	tab.Navigate(srv.URL + "/incidents/1")
	tab.Fill("#email", "mia@acme.test")
	tab.Fill("#password", pw)
	tab.Submit("form[action='/login']")
	tab.WaitText("h1", "#1 checkout-errors is down")
	tab.WaitText("#status", "acknowledged")
	tab.WaitText(".timeline .e-acknowledged", "Acknowledged by mia@acme.test")
	tab.Screenshot("acknowledged-from-email")
}
