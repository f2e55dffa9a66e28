// Package webhook is the webhook channel of Nightjar's delivery stage
// (signals → evaluation → alerts → incidents → delivery). The outbox worker
// hands it a notify.Message; it POSTs a signed JSON document to the URL a
// user configured and tells the worker whether a failure is worth retrying.
//
// # Payload
//
// The body is a JSON object whose shape only grows (fields are added, never
// renamed or removed, while "version" stays 1):
//
//	{
//	  "version": 1,
//	  "id": "0195a1b2-…",            // idempotency key; equals the Idempotency-Key header
//	  "event": "alert.firing",       // "alert.firing", "alert.resolved" or "test"
//	  "project_id": "proj_checkout",
//	  "alert": {
//	    "dedup_key": "check:payments-heartbeat",
//	    "service": "payments-api",
//	    "severity": "page",          // "page", "ticket" or "info"
//	    "summary": "Heartbeat missed for 5m",
//	    "details": {"check": "payments-heartbeat"},  // always an object, maybe empty
//	    "status": "firing",          // "firing" or "resolved"
//	    "starts_at": "2025-03-01T12:00:00Z",
//	    "ends_at": null,             // RFC 3339 once resolved
//	    "links": [{"href": "https://…", "text": "Runbook"}]  // always an array, maybe empty
//	  },
//	  "console_url": "https://…",    // "" when no console URL is configured
//	  "created_at": "2025-03-01T12:00:01Z"
//	}
//
// Times are RFC 3339 in UTC with second precision; "ends_at" is null while
// the alert fires. A test event may carry an empty alert, whose strings are
// empty and whose zero "starts_at" reads 0001-01-01T00:00:00Z.
//
// Messages about an incident ("incident.*" events) carry an "incident"
// object: its id, number, title, service, urgency, status, since, the
// escalation step and round, "runbook_url", the one-click "ack_url" and
// "resolve_url", and "changes", the service's last changes (at most 3)
// made in the day before the incident opened, newest first, each
// {"at", "summary", "source", "links"}; an empty array when there were
// none.
//
// # Bundles
//
// When several notifications fall due together for one person's contact
// method (an alert storm that opens many incidents), they arrive as one
// request whose "bundle" array lists each of them, oldest first, as
// {"id", "alert", "incident", "created_at"}, each incident with its own
// "ack_url". The request's "id" (and Idempotency-Key) is the bundle's own,
// the same on every retry; its "event" is the notifications' (they share
// one), and its "alert", "incident" and "created_at" are the first's, so
// a receiver that knows nothing of bundles still sees a page. A single
// notification carries no "bundle".
//
// # Headers and signature
//
// Every request carries Content-Type: application/json, User-Agent:
// Nightjar-Webhook/1, Idempotency-Key (the message's idempotency key, the
// same on every retry) and X-Nightjar-Timestamp (Unix seconds). When the channel has a
// secret, X-Nightjar-Signature is "v1=" followed by the lowercase hex
// HMAC-SHA256, keyed with the secret, of the timestamp, a full stop and the
// raw body. Receivers check it with Verify, or by recomputing it, and should
// reject timestamps far from their clock to stop replays.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/netguard"
	"github.com/nightjar-dev/nightjar/notify"
)

// Protocol constants. They are exported so receivers written in Go, and the
// documentation, use the same names as the sender.
const (
	// SchemaVersion is the payload's "version" field. It changes only for
	// an incompatible change of the payload.
	SchemaVersion = 1
	// UserAgent identifies Nightjar to receivers and their firewalls.
	UserAgent = "Nightjar-Webhook/1"
	// HeaderTimestamp carries the Unix time, in seconds, that was signed.
	HeaderTimestamp = "X-Nightjar-Timestamp"
	// HeaderSignature carries the signature: "v1=<hex>", possibly several
	// comma-separated values while a secret is being rotated.
	HeaderSignature = "X-Nightjar-Signature"
	// HeaderIdempotencyKey carries the message's idempotency key
	// (notify.Message.Key) so receivers can drop deliveries they have
	// already processed.
	HeaderIdempotencyKey = "Idempotency-Key"
	// DefaultTolerance is how far a signed timestamp may be from the
	// receiver's clock when Verify is given no tolerance.
	DefaultTolerance = 5 * time.Minute
)

// Config is one webhook channel's settings as the user entered them.
type Config struct {
	// URL receives the POST; it must be http or https.
	URL string
	// Secret signs each request when set. It never appears in errors.
	Secret string
	// Headers are extra request headers, for receivers that want a token
	// of their own. They cannot replace the headers this package sets.
	Headers map[string]string
}

// Validate reports the first problem with the configuration, so it can be
// rejected when saved instead of failing on the first alert. The rules are
// the domain's (nightjar.ValidateWebhookURL and ValidateWebhookHeaders), so
// the sender refuses exactly what the API, the console and apply refuse.
func (c Config) Validate() error {
	if err := nightjar.ValidateWebhookURL(c.URL); err != nil {
		return err
	}
	return nightjar.ValidateWebhookHeaders(c.Headers)
}

// Notifier delivers messages to one webhook. It is safe for concurrent use.
type Notifier struct {
	cfg    Config
	client *http.Client
	now    func() time.Time
}

// New returns a Notifier for cfg that sends through client. Pass a client
// built by netguard so user-supplied URLs cannot reach internal addresses;
// nil uses netguard's default policy with a 30-second timeout. The client's
// timeout and the context given to Notify both bound a delivery.
func New(cfg Config, client *http.Client) *Notifier {
	if client == nil {
		client = netguard.Policy{}.HTTPClient(30 * time.Second)
	}
	return &Notifier{cfg: cfg, client: client, now: time.Now}
}

var _ notify.Notifier = (*Notifier)(nil)

// Notify POSTs msg to the webhook. A 2xx response is success. Network
// errors, timeouts, 408, 425, 429 and 5xx responses are worth retrying; any
// other response, an invalid configuration, a destination refused by the
// network policy and a refused redirect (a loop, or too long a chain) are
// permanent. When a retryable response carries Retry-After, the error wraps
// a *notify.RetryAfterError with the delay the receiver asked for.
func (n *Notifier) Notify(ctx context.Context, msg notify.Message) (retry bool, err error) {
	if err := n.cfg.Validate(); err != nil {
		return false, err
	}
	body, err := Encode(msg)
	if err != nil {
		return false, fmt.Errorf("encode webhook payload: %w", err)
	}

	ts := strconv.FormatInt(n.now().Unix(), 10)
	h := make(http.Header, len(n.cfg.Headers)+4)
	for name, value := range n.cfg.Headers {
		h.Set(name, value)
	}
	h.Set("User-Agent", UserAgent)
	if key := msg.Key(); key != "" {
		h.Set(HeaderIdempotencyKey, key)
	}
	h.Set(HeaderTimestamp, ts)
	if n.cfg.Secret != "" {
		h.Set(HeaderSignature, "v1="+sign(n.cfg.Secret, ts, body))
	}
	_, retry, err = notify.Send(ctx, n.client, notify.Request{Service: "webhook", URL: n.cfg.URL, Header: h, Body: body}, n.now())
	return retry, err
}

// StatusError is returned when the receiver answered with a status other
// than 2xx. It keeps the start of the response body because receivers
// usually explain a rejection there.
type StatusError = notify.StatusError

// sign returns the hex signature sent in the v1 scheme.
func sign(secret, ts string, body []byte) string {
	return hex.EncodeToString(mac(secret, ts, body))
}

// mac is HMAC-SHA256 keyed with secret over "<ts>.<body>".
func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}
