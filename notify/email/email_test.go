package email_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/email"
)

const (
	testUser     = "alerts@example.com"
	testPassword = "s3cret-smtp-p4ss"
	// tlsHost is a name in the test certificate that does not resolve; the
	// redirecting dialer sends it to the local server.
	tlsHost = "smtp.example.test"
)

// delivery is one message as the test server received it.
type delivery struct {
	from   string
	to     []string
	data   []byte
	tls    bool
	authAs string
}

// backend is a real go-smtp backend that stores what it receives and can
// be told to reject commands.
type backend struct {
	requireAuth bool

	mu         sync.Mutex
	deliveries []delivery
	authTries  int
	mailErr    error
	rcptErr    map[string]error
	dataErr    error
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{be: b, tls: isTLS}, nil
}

func (b *backend) received() []delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.deliveries)
}

type session struct {
	be     *backend
	tls    bool
	authAs string
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string {
	if !s.be.requireAuth {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	s.be.mu.Lock()
	s.be.authTries++
	s.be.mu.Unlock()
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != testUser || password != testPassword {
			return smtp.ErrAuthFailed
		}
		s.authAs = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.be.requireAuth && s.authAs == "" {
		return smtp.ErrAuthRequired
	}
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	if s.be.mailErr != nil {
		return s.be.mailErr
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	if err := s.be.rcptErr[to]; err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	if s.be.dataErr != nil {
		return s.be.dataErr
	}
	s.be.deliveries = append(s.be.deliveries, delivery{from: s.from, to: s.to, data: data, tls: s.tls, authAs: s.authAs})
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

type serverOpts struct {
	starttls bool // offer STARTTLS
	implicit bool // TLS from the first byte
}

// startServer runs a go-smtp server on 127.0.0.1 and returns its port.
func startServer(t *testing.T, be *backend, opts serverOpts, cert tls.Certificate) int {
	t.Helper()
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // AUTH PLAIN over plaintext, as local relays allow
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = nopLogger{}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if opts.starttls {
		srv.TLSConfig = tlsCfg
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.implicit {
		ln = tls.NewListener(ln, tlsCfg)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

// testCert returns a self-signed certificate for the loopback address and
// tlsHost, and a pool that trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "nightjar test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost", tlsHost},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// redirectDialer connects to the test server whatever address it is asked
// for, so a configuration can name a non-loopback host.
type redirectDialer struct{ port int }

func (d redirectDialer) DialContext(ctx context.Context, network, _ string) (net.Conn, error) {
	var nd net.Dialer
	return nd.DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(d.port))
}

func message() notify.Message {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	return notify.Message{
		ID:        "0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
		ProjectID: "proj_checkout",
		Event:     notify.EventAlertFiring,
		Alert: nightjar.Alert{
			DedupKey: "check:payments-heartbeat",
			Service:  "payments-api",
			Severity: "page",
			Summary:  "Heartbeat missed for 5m",
			Details:  map[string]string{"check": "payments-heartbeat", "note": ".leading dot and a very long line that quoted-printable must wrap because it goes on and on past seventy-six characters"},
			Status:   "firing",
			StartsAt: start,
		},
		ConsoleURL: "https://nightjar.example.com/p/proj_checkout/checks/payments-heartbeat",
		CreatedAt:  start.Add(time.Second),
	}
}

func baseConfig(port int) email.Config {
	return email.Config{
		Host:     "127.0.0.1",
		Port:     port,
		From:     "Nightjar <nightjar@example.com>",
		To:       []string{"oncall@example.com", "Team Lead <lead@example.org>"},
		StartTLS: email.StartTLSNever,
	}
}

func TestNotifyDeliversMessage(t *testing.T) {
	cert, _ := testCert(t)
	be := &backend{}
	port := startServer(t, be, serverOpts{}, cert)

	msg := message()
	retry, err := email.New(baseConfig(port)).Notify(context.Background(), msg)
	if err != nil || retry {
		t.Fatalf("Notify = (%v, %v), want (false, nil)", retry, err)
	}

	got := be.received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	d := got[0]
	if d.from != "nightjar@example.com" {
		t.Errorf("envelope from = %q", d.from)
	}
	if want := []string{"oncall@example.com", "lead@example.org"}; !slices.Equal(d.to, want) {
		t.Errorf("envelope to = %v, want %v", d.to, want)
	}

	for i, line := range strings.Split(strings.TrimSuffix(string(d.data), "\r\n"), "\r\n") {
		if strings.Contains(line, "\n") {
			t.Errorf("line %d has a bare LF: %q", i, line)
		}
		if len(line) > 78 {
			t.Errorf("line %d is %d characters long: %q", i, len(line), line)
		}
	}

	m, err := mail.ReadMessage(bytes.NewReader(d.data))
	if err != nil {
		t.Fatalf("received message does not parse: %v", err)
	}
	wantSubject, wantBody := notify.RenderText(msg)
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if subject != wantSubject {
		t.Errorf("Subject = %q, want %q", subject, wantSubject)
	}
	headers := map[string]string{
		"From":                      `"Nightjar" <nightjar@example.com>`,
		"To":                        `<oncall@example.com>, "Team Lead" <lead@example.org>`,
		"Message-Id":                "<nightjar.0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b@example.com>",
		"Mime-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"Auto-Submitted":            "auto-generated",
		"X-Nightjar-Event":          "alert.firing",
	}
	for name, want := range headers {
		if got := m.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	date, err := m.Header.Date()
	if err != nil || !date.Equal(msg.CreatedAt) {
		t.Errorf("Date = %v (%v), want %v", date, err, msg.CreatedAt)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != wantBody {
		t.Errorf("body differs from RenderText:\n--- got ---\n%s\n--- want ---\n%s", got, wantBody)
	}
}

func TestNotifyIdempotentMessageID(t *testing.T) {
	cert, _ := testCert(t)
	be := &backend{}
	port := startServer(t, be, serverOpts{}, cert)
	n := email.New(baseConfig(port))

	first, other, weird := message(), message(), message()
	other.ID = "0195a1b2-0000-7e5f-8a9b-0c1d2e3f4a5b"
	weird.ID = "row 42 <x@y>"
	ids := sendForMessageIDs(t, n, be, first, first, other, weird, weird)
	if len(ids) != 5 {
		t.Fatalf("got %d messages", len(ids))
	}
	if ids[0] != ids[1] {
		t.Errorf("a retry changed the Message-ID: %s vs %s", ids[0], ids[1])
	}
	if ids[0] == ids[2] {
		t.Error("two notifications share a Message-ID")
	}
	if ids[3] != ids[4] || strings.ContainsAny(strings.Trim(ids[3], "<>"), " <>") {
		t.Errorf("unsafe id gave Message-IDs %q and %q", ids[3], ids[4])
	}
}

// A message its producer named with an idempotency key carries a
// Message-ID made from the key, not from its outbox id: two messages meant
// as one share it, so a deduplicating mail system keeps one.
func TestNotifyMessageIDFromIdempotencyKey(t *testing.T) {
	cert, _ := testCert(t)
	be := &backend{}
	port := startServer(t, be, serverOpts{}, cert)
	n := email.New(baseConfig(port))

	plain, keyed, sameKey := message(), message(), message()
	keyed.IdempotencyKey = "alert-firing-7"
	sameKey.ID, sameKey.IdempotencyKey = "0195a1b2-1111-7e5f-8a9b-0c1d2e3f4a5b", "alert-firing-7"
	ids := sendForMessageIDs(t, n, be, plain, keyed, sameKey)
	if len(ids) != 3 {
		t.Fatalf("got %d messages", len(ids))
	}
	if ids[1] != ids[2] || !strings.Contains(ids[1], "alert-firing-7") {
		t.Errorf("messages with one idempotency key got Message-IDs %q and %q", ids[1], ids[2])
	}
	if ids[0] == ids[1] {
		t.Errorf("the key did not change the Message-ID: %q", ids[0])
	}
}

// sendForMessageIDs sends msgs through n and returns the Message-ID of
// every mail be received.
func sendForMessageIDs(t *testing.T, n *email.Notifier, be *backend, msgs ...notify.Message) []string {
	t.Helper()
	for _, m := range msgs {
		if _, err := n.Notify(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for _, d := range be.received() {
		m, err := mail.ReadMessage(bytes.NewReader(d.data))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.Header.Get("Message-Id"))
	}
	return ids
}

func TestNotifyTLSModes(t *testing.T) {
	cert, pool := testCert(t)
	tests := []struct {
		name      string
		server    serverOpts
		mode      email.StartTLSMode
		implicit  bool
		wantTLS   bool
		wantErr   string
		wantRetry bool
	}{
		{name: "never, server without tls", mode: email.StartTLSNever},
		{name: "never, server offers starttls", server: serverOpts{starttls: true}, mode: email.StartTLSNever},
		{name: "auto, server offers starttls", server: serverOpts{starttls: true}, mode: email.StartTLSAuto, wantTLS: true},
		{name: "auto by default", server: serverOpts{starttls: true}, mode: "", wantTLS: true},
		{name: "auto, server without starttls", mode: email.StartTLSAuto},
		{name: "always, server offers starttls", server: serverOpts{starttls: true}, mode: email.StartTLSAlways, wantTLS: true},
		{name: "always, server without starttls", mode: email.StartTLSAlways, wantErr: "does not offer STARTTLS"},
		{name: "implicit tls", server: serverOpts{implicit: true}, implicit: true, wantTLS: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{}
			port := startServer(t, be, tt.server, cert)
			cfg := baseConfig(port)
			cfg.StartTLS = tt.mode
			cfg.TLS = tt.implicit
			cfg.HelloName = "nightjar.example.com"
			n := email.New(cfg, email.WithTLSConfig(&tls.Config{RootCAs: pool}))
			retry, err := n.Notify(context.Background(), message())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Notify error = %v, want one containing %q", err, tt.wantErr)
				}
				if retry != tt.wantRetry {
					t.Errorf("retry = %v, want %v", retry, tt.wantRetry)
				}
				if len(be.received()) != 0 {
					t.Error("message was sent despite the error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Notify: %v (retry=%v)", err, retry)
			}
			got := be.received()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			if got[0].tls != tt.wantTLS {
				t.Errorf("sent over TLS = %v, want %v", got[0].tls, tt.wantTLS)
			}
		})
	}
}

func TestNotifyCertificateMustVerify(t *testing.T) {
	cert, _ := testCert(t)
	be := &backend{}
	port := startServer(t, be, serverOpts{starttls: true}, cert)
	cfg := baseConfig(port)
	cfg.StartTLS = email.StartTLSAlways
	// No WithTLSConfig: the self-signed certificate is not trusted.
	retry, err := email.New(cfg).Notify(context.Background(), message())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Notify error = %v, want a certificate error", err)
	}
	if !retry {
		t.Error("certificate errors should be retried: the operator may fix the server")
	}
	if len(be.received()) != 0 {
		t.Error("message was sent over an unverified connection")
	}
}

func TestNotifyAuth(t *testing.T) {
	cert, pool := testCert(t)
	tests := []struct {
		name      string
		host      string
		server    serverOpts
		mode      email.StartTLSMode
		user      string
		password  string
		wantAuth  bool   // server saw a successful AUTH
		wantErr   string // empty for success
		wantRetry bool
		noAttempt bool // the client must not even try AUTH
	}{
		{name: "plain over loopback", host: "127.0.0.1", mode: email.StartTLSNever, user: testUser, password: testPassword, wantAuth: true},
		{name: "plain over starttls", host: tlsHost, server: serverOpts{starttls: true}, mode: email.StartTLSAlways, user: testUser, password: testPassword, wantAuth: true},
		{name: "wrong password is permanent", host: "127.0.0.1", mode: email.StartTLSNever, user: testUser, password: "wrong", wantErr: "535"},
		{name: "no credentials, server requires auth", host: "127.0.0.1", mode: email.StartTLSNever, wantErr: "502"},
		{name: "refuses plaintext password to a remote host", host: tlsHost, mode: email.StartTLSAuto, user: testUser, password: testPassword, wantErr: "unencrypted", noAttempt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{requireAuth: true}
			port := startServer(t, be, tt.server, cert)
			cfg := baseConfig(port)
			cfg.Host = tt.host
			cfg.StartTLS = tt.mode
			cfg.Username = tt.user
			cfg.Password = tt.password
			n := email.New(cfg, email.WithDialer(redirectDialer{port: port}), email.WithTLSConfig(&tls.Config{RootCAs: pool}))

			retry, err := n.Notify(context.Background(), message())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Notify: %v", err)
				}
				got := be.received()
				if len(got) != 1 || (got[0].authAs == testUser) != tt.wantAuth {
					t.Fatalf("deliveries = %+v, want one authenticated as %s", got, testUser)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Notify error = %v, want one containing %q", err, tt.wantErr)
			}
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v (err: %v)", retry, tt.wantRetry, err)
			}
			if strings.Contains(err.Error(), testPassword) || strings.Contains(err.Error(), tt.password) && tt.password != "" {
				t.Errorf("error %q leaks the password", err)
			}
			be.mu.Lock()
			tries := be.authTries
			be.mu.Unlock()
			if tt.noAttempt && tries != 0 {
				t.Errorf("client attempted AUTH %d times, want 0", tries)
			}
			if len(be.received()) != 0 {
				t.Error("message was delivered despite the error")
			}
		})
	}
}

func TestNotifyClassifiesRejections(t *testing.T) {
	cert, _ := testCert(t)
	temp := func(code int) error {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{4, 0, 0}, Message: "try later"}
	}
	perm := func(code int) error {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{5, 0, 0}, Message: "no such mailbox"}
	}
	tests := []struct {
		name          string
		setup         func(*backend)
		wantRetry     bool
		wantErr       string
		wantDelivered []string // recipients that got the message anyway
	}{
		{name: "MAIL 451", setup: func(b *backend) { b.mailErr = temp(451) }, wantRetry: true, wantErr: "MAIL FROM"},
		{name: "MAIL 550", setup: func(b *backend) { b.mailErr = perm(550) }, wantRetry: false, wantErr: "550"},
		{name: "RCPT 450 for all", setup: func(b *backend) {
			b.rcptErr = map[string]error{"oncall@example.com": temp(450), "lead@example.org": temp(450)}
		}, wantRetry: true, wantErr: "450"},
		{name: "RCPT 550 for all", setup: func(b *backend) {
			b.rcptErr = map[string]error{"oncall@example.com": perm(550), "lead@example.org": perm(550)}
		}, wantRetry: false, wantErr: "RCPT TO <oncall@example.com>"},
		{name: "RCPT 550 then 450", setup: func(b *backend) {
			b.rcptErr = map[string]error{"oncall@example.com": perm(550), "lead@example.org": temp(450)}
		}, wantRetry: true, wantErr: "550"},
		{name: "RCPT 450 then 550", setup: func(b *backend) {
			b.rcptErr = map[string]error{"oncall@example.com": temp(450), "lead@example.org": perm(550)}
		}, wantRetry: true, wantErr: "550"},
		{name: "RCPT 550 for one", setup: func(b *backend) {
			b.rcptErr = map[string]error{"lead@example.org": perm(550)}
		}, wantRetry: false, wantErr: "delivered to 1 of 2", wantDelivered: []string{"oncall@example.com"}},
		{name: "RCPT 452 for one", setup: func(b *backend) {
			b.rcptErr = map[string]error{"lead@example.org": temp(452)}
		}, wantRetry: true, wantErr: "delivered to 1 of 2", wantDelivered: []string{"oncall@example.com"}},
		{name: "DATA 421", setup: func(b *backend) { b.dataErr = temp(421) }, wantRetry: true, wantErr: "421"},
		{name: "DATA 554", setup: func(b *backend) { b.dataErr = perm(554) }, wantRetry: false, wantErr: "554"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{}
			tt.setup(be)
			port := startServer(t, be, serverOpts{}, cert)
			retry, err := email.New(baseConfig(port)).Notify(context.Background(), message())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Notify error = %v, want one containing %q", err, tt.wantErr)
			}
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v (err: %v)", retry, tt.wantRetry, err)
			}
			var delivered []string
			for _, d := range be.received() {
				delivered = append(delivered, d.to...)
			}
			if !slices.Equal(delivered, tt.wantDelivered) {
				t.Errorf("delivered to %v, want %v", delivered, tt.wantDelivered)
			}
		})
	}
}

func TestNotifyConnectionFailures(t *testing.T) {
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	// A server that accepts connections and never says a word.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mute.Close() })
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	mutePort := mute.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name    string
		port    int
		mode    email.StartTLSMode
		opts    []email.Option
		ctx     time.Duration
		wantErr string
	}{
		{name: "connection refused", port: closedPort, mode: email.StartTLSNever, wantErr: "refused"},
		{name: "silent server, context deadline", port: mutePort, mode: email.StartTLSAuto, ctx: 300 * time.Millisecond, wantErr: "deadline exceeded"},
		{name: "silent server, notifier timeout", port: mutePort, mode: email.StartTLSNever, opts: []email.Option{email.WithTimeout(300 * time.Millisecond)}, wantErr: "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			cfg := baseConfig(tt.port)
			cfg.StartTLS = tt.mode
			start := time.Now()
			retry, err := email.New(cfg, tt.opts...).Notify(ctx, message())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Notify error = %v, want one containing %q", err, tt.wantErr)
			}
			if !retry {
				t.Errorf("retry = false for %v, want true", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Notify took %v to give up", d)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	ok := baseConfig(25)
	tests := []struct {
		name    string
		mutate  func(*email.Config)
		wantErr string
	}{
		{name: "valid", mutate: func(*email.Config) {}},
		{name: "no host", mutate: func(c *email.Config) { c.Host = "" }, wantErr: "host is empty"},
		{name: "host with port", mutate: func(c *email.Config) { c.Host = "mail.example.com:25" }, wantErr: "not a host name"},
		{name: "ipv6 host", mutate: func(c *email.Config) { c.Host = "::1" }},
		{name: "bad port", mutate: func(c *email.Config) { c.Port = 70000 }, wantErr: "out of range"},
		{name: "bad mode", mutate: func(c *email.Config) { c.StartTLS = "sometimes" }, wantErr: "not one of"},
		{name: "password without user", mutate: func(c *email.Config) { c.Password = "x" }, wantErr: "without a username"},
		{name: "bad from", mutate: func(c *email.Config) { c.From = "not an address" }, wantErr: "from address"},
		{name: "no recipients", mutate: func(c *email.Config) { c.To = nil }, wantErr: "no recipients"},
		{name: "bad recipient", mutate: func(c *email.Config) { c.To = []string{"ok@example.com", "nope"} }, wantErr: `recipient "nope"`},
		{name: "header injection in from", mutate: func(c *email.Config) { c.From = "a@example.com\r\nBcc: x@example.com" }, wantErr: "from address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			cfg.To = slices.Clone(ok.To)
			tt.mutate(&cfg)
			err := cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want error containing %q", err, tt.wantErr)
			}
			// Configuration errors are permanent.
			if retry, err := email.New(cfg).Notify(context.Background(), message()); retry || err == nil {
				t.Errorf("Notify with invalid config = (%v, %v), want a permanent error", retry, err)
			}
		})
	}
}

func TestComposeEncodesHeaders(t *testing.T) {
	msg := message()
	msg.Alert.Summary = "Latenz über 2s — Zahlungsdienst 🚨 " + strings.Repeat("sehr lang ", 8)
	msg.Alert.Service = "zahlung\r\nBcc: victim@example.com"
	cfg := baseConfig(25)
	cfg.From = "Nightjar Überwachung <nightjar@example.com>"
	for i := range 6 {
		cfg.To = append(cfg.To, "Person Number "+strconv.Itoa(i)+" <p"+strconv.Itoa(i)+"@example.com>")
	}

	data, err := email.Compose(cfg, msg)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n") {
		if len(line) > 78 {
			t.Errorf("header line of %d characters: %q", len(line), line)
		}
		for _, r := range line {
			if r > 0x7e || (r < ' ' && r != '\t') {
				t.Errorf("header line has a raw non-ASCII or control character: %q", line)
				break
			}
		}
		if strings.HasPrefix(line, "Bcc:") {
			t.Errorf("header injection produced %q", line)
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	wantSubject, _ := notify.RenderText(msg)
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subject != wantSubject {
		t.Errorf("Subject decodes to %q (%v), want %q", subject, err, wantSubject)
	}
	from, err := m.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Nightjar Überwachung" {
		t.Errorf("From = %v (%v)", from, err)
	}
	to, err := m.Header.AddressList("To")
	if err != nil || len(to) != 8 {
		t.Errorf("To parses to %d addresses (%v), want 8", len(to), err)
	}
}
