package console

import (
	"context"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/browsertest"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/email"
	"github.com/nightjar-dev/nightjar/outbox"
)

// mailbox is a real SMTP server keeping the text of what it receives.
type mailbox struct {
	mu    sync.Mutex
	texts []string
	addr  string
}

func startMailbox(t *testing.T) *mailbox {
	t.Helper()
	mb := &mailbox{}
	srv := smtp.NewServer(mb)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	mb.addr = ln.Addr().String()
	return mb
}

// NewSession implements smtp.Backend.
func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }

// notifier sends email to the mailbox, as an email channel set up with
// the operator's SMTP server does.
func (m *mailbox) notifier(ch *nightjar.Channel) (notify.Notifier, error) {
	host, port, _ := net.SplitHostPort(m.addr)
	p, _ := strconv.Atoi(port)
	return email.New(email.Config{Host: host, Port: p, From: "nightjar@acme.test", To: ch.Config.To, StartTLS: email.StartTLSNever}), nil
}

// find returns the decoded body of the first message containing s.
func (m *mailbox) find(s string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.texts {
		if strings.Contains(t, s) {
			return t
		}
	}
	return ""
}

type mailSession struct{ m *mailbox }

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }

// Data keeps the message's body, decoded from quoted-printable as a mail
// client would show it.
func (s *mailSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body := msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.texts = append(s.m.texts, "Subject: "+msg.Header.Get("Subject")+"\n\n"+string(b))
	s.m.mu.Unlock()
	return nil
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
	mb := startMailbox(t)
	ob := &engine.Outbox{Outbox: areas.Outbox, Clock: nightjar.SystemClock{}, Rand: func() float64 { return 0 }, ConsoleURL: srv.URL,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Destinations: map[string]engine.Destinations{
			outbox.ToContact: engine.ContactDestinations{Incidents: areas.Incidents, Notifiers: mb.notifier}}}
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
	code := regexp.MustCompile(regexp.QuoteMeta(incidents.VerificationPrefix) + `([^\s.]+)`).FindStringSubmatch(mb.find(incidents.VerificationPrefix))
	if code == nil {
		t.Fatalf("no verification code received: %q", mb.texts)
	}
	if err := areas.Incidents.Verify(ctx, mia.ID, m.ID, code[1], time.Now()); err != nil {
		t.Fatal(err)
	}

	fire := pagingSetup(t, db, areas.Incidents, p.ID, mia.ID)
	fire("checkout-errors", nightjar.AlertFiring, time.Now())
	deliver()
	page := mb.find("checkout-errors is down")
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
