// Package emailtest is a real SMTP server for the tests of what Nightjar
// sends by email: it accepts every message and keeps it, decoded as a
// mail client would show it. Only tests import it.
package emailtest

import (
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/email"
)

// Mail is one message a Mailbox received.
type Mail struct {
	// Raw is the message as it came over SMTP.
	Raw string
	// Header is its header.
	Header mail.Header
	// Subject is its subject, decoded.
	Subject string
	// Body is its body, decoded from quoted-printable.
	Body string
}

// Mailbox is a real SMTP server on 127.0.0.1 that keeps what it receives.
type Mailbox struct {
	// Addr is the server's host:port.
	Addr string
	mu   sync.Mutex
	mail []Mail
}

// Start starts a mailbox, stopped when the test ends.
func Start(t testing.TB) *Mailbox {
	t.Helper()
	mb := &Mailbox{}
	srv := smtp.NewServer(backend{mb})
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	mb.Addr = ln.Addr().String()
	return mb
}

// Config is an email channel's settings for sending to to through the
// mailbox, from nightjar@example.com, without TLS.
func (m *Mailbox) Config(to ...string) email.Config {
	host, port, _ := net.SplitHostPort(m.Addr)
	p, _ := strconv.Atoi(port)
	return email.Config{Host: host, Port: p, From: "nightjar@example.com", To: to, StartTLS: email.StartTLSNever}
}

// Notifier sends to to through the mailbox.
func (m *Mailbox) Notifier(to ...string) notify.Notifier { return email.New(m.Config(to...)) }

// Messages returns the messages received so far.
func (m *Mailbox) Messages() []Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Mail(nil), m.mail...)
}

type backend struct{ m *Mailbox }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{m: b.m}, nil }

type session struct{ m *Mailbox }

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *session) Reset()                               {}
func (s *session) Logout() error                        { return nil }

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
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
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.mail = append(s.m.mail, Mail{Raw: string(raw), Header: msg.Header, Subject: subject, Body: string(b)})
	s.m.mu.Unlock()
	return nil
}
