// Package email is the email channel of Nightjar's delivery stage (signals →
// evaluation → alerts → incidents → delivery). The outbox worker hands it a
// notify.Message; it renders the message with notify.RenderText, submits it
// to the operator's SMTP server and tells the worker whether a failure is
// worth retrying: 4xx replies and connection problems are, 5xx replies and
// configuration mistakes are not.
//
// Each message's Message-ID is derived from its idempotency key (the outbox
// id unless the message's producer named it), so a retry after
// an ambiguous failure (the connection dropped after the server accepted
// the data) produces the same Message-ID, which lets deduplicating mail
// systems drop the copy.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/google/uuid"

	"github.com/nightjar-dev/nightjar/notify"
)

// StartTLSMode says whether a plaintext SMTP connection is upgraded with
// STARTTLS. It is a string so configuration files use the names as written.
type StartTLSMode string

// STARTTLS modes.
const (
	// StartTLSAuto upgrades when the server offers STARTTLS and carries
	// on in plaintext otherwise. It is the default because most
	// submission servers offer it and some internal relays do not.
	StartTLSAuto StartTLSMode = "auto"
	// StartTLSAlways refuses to send unless the connection is upgraded,
	// for operators who must not leak alerts to the network.
	StartTLSAlways StartTLSMode = "always"
	// StartTLSNever never upgrades, for relays with broken TLS on a
	// trusted network.
	StartTLSNever StartTLSMode = "never"
)

// Default ports, used when Config.Port is zero.
const (
	// PortSubmission is the message submission port (RFC 6409), used with
	// STARTTLS.
	PortSubmission = 587
	// PortSubmissions is the submission port with implicit TLS (RFC 8314).
	PortSubmissions = 465
)

// DefaultTimeout bounds one delivery when the caller's context has no
// deadline, so a stalled server cannot hold an outbox worker forever.
const DefaultTimeout = time.Minute

// Config is one email channel's settings: the operator's SMTP server and the
// channel's sender and recipients.
type Config struct {
	// Host is the SMTP server's name; it is also the name its TLS
	// certificate must carry.
	Host string
	// Port is the SMTP server's port; zero means 465 with TLS and 587
	// otherwise.
	Port int
	// Username and Password authenticate with AUTH PLAIN (or LOGIN when
	// the server offers only that). Authentication is skipped when
	// Username is empty. The password is never sent in plaintext except
	// to a loopback server, and never appears in errors.
	Username string
	Password string
	// From is the sender, as "Name <addr@example.com>" or a bare address.
	From string
	// To lists the recipients, in the same forms as From.
	To []string
	// StartTLS is the STARTTLS mode; empty means StartTLSAuto. It is
	// ignored when TLS is set.
	StartTLS StartTLSMode
	// TLS connects with implicit TLS (usually port 465) instead of
	// plaintext with an optional STARTTLS upgrade.
	TLS bool
	// HelloName is the name sent with EHLO; empty sends "localhost".
	// Some servers want the sending host's real name here.
	HelloName string
}

// Validate reports the first problem with the configuration, so it can be
// rejected when saved instead of failing on the first alert.
func (c Config) Validate() error {
	if strings.TrimSpace(c.Host) == "" {
		return errors.New("smtp host is empty")
	}
	if strings.ContainsAny(c.Host, " \t\r\n/:") && net.ParseIP(c.Host) == nil {
		return fmt.Errorf("smtp host %q is not a host name or IP address", c.Host)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("smtp port %d is out of range", c.Port)
	}
	switch c.StartTLS {
	case "", StartTLSAuto, StartTLSAlways, StartTLSNever:
	default:
		return fmt.Errorf("smtp starttls mode %q is not one of auto, always, never", c.StartTLS)
	}
	if c.Username == "" && c.Password != "" {
		return errors.New("smtp password is set without a username")
	}
	if strings.ContainsAny(c.HelloName, " \t\r\n") {
		return errors.New("smtp hello name must be a single word")
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("email from address %q: %w", c.From, err)
	}
	if len(c.To) == 0 {
		return errors.New("email has no recipients")
	}
	for _, to := range c.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("email recipient %q: %w", to, err)
		}
	}
	return nil
}

func (c Config) addr() string {
	port := c.Port
	if port == 0 {
		port = PortSubmission
		if c.TLS {
			port = PortSubmissions
		}
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

func (c Config) mode() StartTLSMode {
	if c.StartTLS == "" {
		return StartTLSAuto
	}
	return c.StartTLS
}

// Dialer opens the TCP connection to the SMTP server. *net.Dialer satisfies
// it, and so does a dialer from netguard when an operator wants the SMTP
// server held to the outbound network policy.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Option adjusts a Notifier beyond what the user-facing Config holds.
type Option func(*Notifier)

// WithDialer makes the Notifier connect through d instead of a plain
// net.Dialer.
func WithDialer(d Dialer) Option { return func(n *Notifier) { n.dialer = d } }

// WithTLSConfig sets the TLS settings for implicit TLS and STARTTLS, for
// example to trust a private certificate authority. ServerName defaults to
// Config.Host. The configuration is cloned, not retained.
func WithTLSConfig(c *tls.Config) Option {
	return func(n *Notifier) { n.tlsConfig = c.Clone() }
}

// WithTimeout replaces DefaultTimeout as the bound on one delivery when
// the caller's context has no deadline.
func WithTimeout(d time.Duration) Option { return func(n *Notifier) { n.timeout = d } }

// Notifier sends messages through one SMTP server. It holds no connection
// between deliveries and is safe for concurrent use.
type Notifier struct {
	cfg       Config
	dialer    Dialer
	tlsConfig *tls.Config
	timeout   time.Duration
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for cfg. Configuration problems are reported by
// Notify as permanent failures; call Config.Validate to catch them earlier.
func New(cfg Config, opts ...Option) *Notifier {
	n := &Notifier{
		cfg:     cfg,
		dialer:  &net.Dialer{Timeout: 30 * time.Second},
		timeout: DefaultTimeout,
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

// classifiedError carries a retry decision made where the failure was
// understood best, overriding the classification of the errors it wraps.
type classifiedError struct {
	err   error
	retry bool
}

func (e *classifiedError) Error() string { return e.err.Error() }
func (e *classifiedError) Unwrap() error { return e.err }

// permanent returns an error for failures that retrying cannot fix: the
// operator has to change the configuration or the server's policy.
func permanent(format string, args ...any) error {
	return &classifiedError{err: fmt.Errorf(format, args...), retry: false}
}

// Notify renders msg and submits it to every recipient. It returns
// retry=true for 4xx replies, timeouts and connection failures, and
// retry=false for 5xx replies and configuration problems. When the server
// accepts some recipients and rejects others, the message is still sent to
// those it accepted and the error lists the rejected ones; retry is then
// true only if a rejection was temporary, in which case a retry may deliver
// a second copy (with the same Message-ID) to the accepted recipients.
func (n *Notifier) Notify(ctx context.Context, msg notify.Message) (retry bool, err error) {
	if err := n.cfg.Validate(); err != nil {
		return false, err
	}
	if n.timeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, n.timeout)
			defer cancel()
		}
	}
	err = n.send(ctx, msg)
	if err == nil {
		return false, nil
	}
	if ctx.Err() != nil {
		// The connection was closed because the context ended; report
		// that rather than the resulting "use of closed connection".
		return true, fmt.Errorf("smtp %s: %w (%v)", n.cfg.addr(), ctx.Err(), err)
	}
	return classify(err), fmt.Errorf("smtp %s: %w", n.cfg.addr(), err)
}

// classify reports whether err is worth retrying.
func classify(err error) bool {
	var ce *classifiedError
	if errors.As(err, &ce) {
		return ce.retry
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		// 5xx replies are permanent by definition (RFC 5321 §4.2.1);
		// 4xx and anything unexpected may succeed later.
		return se.Code < 500 || se.Code > 599
	}
	return true
}

func (n *Notifier) send(ctx context.Context, msg notify.Message) error {
	from, err := mail.ParseAddress(n.cfg.From)
	if err != nil {
		return permanent("email from address: %w", err)
	}
	var rcpts []string
	for _, to := range n.cfg.To {
		a, err := mail.ParseAddress(to)
		if err != nil {
			return permanent("email recipient: %w", err)
		}
		rcpts = append(rcpts, a.Address)
	}
	data, err := Compose(n.cfg, msg)
	if err != nil {
		return permanent("compose email: %w", err)
	}

	c, err := n.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		c.CommandTimeout = min(c.CommandTimeout, left)
		c.SubmissionTimeout = min(c.SubmissionTimeout, left)
	}

	if err := n.auth(c); err != nil {
		return err
	}

	var opts *smtp.MailOptions
	if !isASCII(from.Address) || !allASCII(rcpts) {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			return permanent("an address is not ASCII and the server does not support SMTPUTF8")
		}
		opts = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(from.Address, opts); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	var rejected []error
	accepted, temporary := 0, false
	for _, rcpt := range rcpts {
		if err := c.Rcpt(rcpt, nil); err != nil {
			var se *smtp.SMTPError
			if !errors.As(err, &se) {
				return fmt.Errorf("RCPT TO <%s>: %w", rcpt, err)
			}
			temporary = temporary || classify(se)
			rejected = append(rejected, fmt.Errorf("RCPT TO <%s>: %w", rcpt, err))
			continue
		}
		accepted++
	}
	// Rejections are worth retrying when any of them was temporary,
	// whatever order the recipients came in.
	var rejectedErr error
	if len(rejected) > 0 {
		rejectedErr = &classifiedError{err: errors.Join(rejected...), retry: temporary}
	}
	if accepted == 0 {
		return rejectedErr
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of DATA: %w", err)
	}
	// The server has taken responsibility for the message; a failing QUIT
	// must not cause a retry and a duplicate.
	_ = c.Quit()

	if rejectedErr != nil {
		return fmt.Errorf("delivered to %d of %d recipients: %w", accepted, len(rcpts), rejectedErr)
	}
	return nil
}

// connect dials the server, sets up TLS as configured and exchanges
// greetings.
func (n *Notifier) connect(ctx context.Context) (*smtp.Client, error) {
	raw, err := n.dial(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case n.cfg.TLS:
		tc := tls.Client(raw, n.tls())
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		return n.client(tc)

	case n.cfg.mode() == StartTLSNever:
		return n.client(raw)
	}

	// STARTTLS, required or opportunistic. The SMTP library can only
	// upgrade while it creates a client, so try that first: it is the
	// common case and costs one connection.
	c, err := smtp.NewClientStartTLS(raw, n.tls())
	if err == nil {
		// The upgrade forgets the first EHLO; greeting again runs the
		// TLS handshake, so certificate problems surface here.
		if err := n.greet(c); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) || isConnError(err) {
		return nil, fmt.Errorf("starttls: %w", err)
	}
	// Anything else most likely means the server did not offer STARTTLS.
	// Confirm it on a fresh connection rather than guessing from the
	// error text, and continue in plaintext there if that is allowed.
	raw, err2 := n.dial(ctx)
	if err2 != nil {
		return nil, err2
	}
	c, err2 = n.client(raw)
	if err2 != nil {
		return nil, err2
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		c.Close()
		return nil, fmt.Errorf("starttls: %w", err)
	}
	if n.cfg.mode() == StartTLSAlways {
		c.Close()
		return nil, permanent("server does not offer STARTTLS and starttls is set to always")
	}
	return c, nil
}

func (n *Notifier) dial(ctx context.Context) (net.Conn, error) {
	raw, err := n.dialer.DialContext(ctx, "tcp", n.cfg.addr())
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	// The SMTP library bounds each command by its own timeouts, not by a
	// context, so close the TCP connection when ctx ends to unblock it.
	// Closing the TCP layer directly, rather than a TLS layer above it
	// whose Close may wait on a stuck write, always returns at once.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	return &ctxConn{Conn: raw, stop: stop}, nil
}

// ctxConn is a connection tied to a context by context.AfterFunc; closing
// it releases that registration so long-lived contexts do not accumulate
// them.
type ctxConn struct {
	net.Conn
	stop func() bool
}

func (c *ctxConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// client wraps an established connection and exchanges greetings, so a
// failure to greet is reported as such instead of surfacing later as an
// unrelated-looking failure (for example, as missing AUTH support).
func (n *Notifier) client(conn net.Conn) (*smtp.Client, error) {
	c := smtp.NewClient(conn)
	if err := n.greet(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// greet reads the server's greeting and sends EHLO with the configured
// name. Before a STARTTLS upgrade the library always says "localhost";
// the configured name is used from the upgrade on.
func (n *Notifier) greet(c *smtp.Client) error {
	name := n.cfg.HelloName
	if name == "" {
		name = "localhost"
	}
	if err := c.Hello(name); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	return nil
}

func (n *Notifier) tls() *tls.Config {
	cfg := n.tlsConfig.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = n.cfg.Host
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

func (n *Notifier) auth(c *smtp.Client) error {
	if n.cfg.Username == "" {
		return nil
	}
	if _, encrypted := c.TLSConnectionState(); !encrypted && !isLoopbackHost(n.cfg.Host) {
		return permanent("refusing to send the smtp password over an unencrypted connection to %s; enable tls or starttls", n.cfg.Host)
	}
	var a sasl.Client
	switch {
	case c.SupportsAuth(sasl.Plain):
		a = sasl.NewPlainClient("", n.cfg.Username, n.cfg.Password)
	case c.SupportsAuth(sasl.Login):
		a = sasl.NewLoginClient(n.cfg.Username, n.cfg.Password)
	default:
		if ok, _ := c.Extension("AUTH"); !ok {
			return permanent("server does not offer authentication but a username is configured")
		}
		return permanent("server offers neither PLAIN nor LOGIN authentication")
	}
	if err := c.Auth(a); err != nil {
		return fmt.Errorf("AUTH: %w", err)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isConnError reports whether err came from the network rather than from
// the SMTP dialogue.
func isConnError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func allASCII(ss []string) bool {
	for _, s := range ss {
		if !isASCII(s) {
			return false
		}
	}
	return true
}

// Compose builds the RFC 5322 message sent for msg: headers, then the body
// from notify.RenderText as quoted-printable UTF-8 text with CRLF line
// endings. It depends only on cfg and msg, so a retry sends the same bytes;
// the console can also use it to preview an email.
func Compose(cfg Config, msg notify.Message) ([]byte, error) {
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("from address: %w", err)
	}
	var to []string
	for _, t := range cfg.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("recipient: %w", err)
		}
		to = append(to, a.String())
	}
	subject, body := notify.RenderText(msg)

	date := msg.CreatedAt
	if date.IsZero() {
		date = time.Now()
	}

	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(fold(name + ": " + value))
		b.WriteString("\r\n")
	}
	header("Date", date.UTC().Format(time.RFC1123Z))
	header("From", from.String())
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Message-ID", messageID(msg.Key(), from.Address))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	// Tells vacation responders and mailing lists not to answer (RFC 3834).
	header("Auto-Submitted", "auto-generated")
	if ev := strings.TrimSpace(msg.Event); ev != "" && isToken(ev) {
		header("X-Nightjar-Event", ev)
	}
	b.WriteString("\r\n")

	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// messageID derives the Message-ID from the message's idempotency key, so
// every attempt to deliver one notification carries the same id. Ids that are not safe in
// a msg-id are hashed into a name-based UUID; a message without an id gets
// a random one.
func messageID(id, fromAddr string) string {
	domain := "nightjar.invalid"
	if at := strings.LastIndexByte(fromAddr, '@'); at >= 0 && isDotAtom(fromAddr[at+1:]) {
		domain = fromAddr[at+1:]
	}
	local := id
	switch {
	case id == "":
		local = uuid.NewString()
	case !isDotAtom(id) || len(id) > 64:
		local = uuid.NewSHA1(uuid.NameSpaceOID, []byte("nightjar-outbox:"+id)).String()
	}
	return "<nightjar." + local + "@" + domain + ">"
}

// isDotAtom reports whether s is a dot-atom of letters, digits and the few
// punctuation marks every mail system accepts in a Message-ID.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// fold breaks a header line at spaces so lines stay near the 78-character
// limit of RFC 5322; a word longer than that stays whole.
func fold(line string) string {
	const limit = 78
	if len(line) <= limit {
		return line
	}
	var b strings.Builder
	width := 0
	for i, word := range strings.Split(line, " ") {
		if i > 0 {
			if width+1+len(word) > limit {
				b.WriteString("\r\n ")
				width = 1
			} else {
				b.WriteByte(' ')
				width++
			}
		}
		b.WriteString(word)
		width += len(word)
	}
	return b.String()
}
