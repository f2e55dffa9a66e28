package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar/netguard"
)

// maxResponseBody caps how much of a service's answer is read: enough to
// explain a failure or find an id, not enough for a hostile server to
// exhaust memory.
const maxResponseBody = 4 << 10

// maxErrorBody caps the part of an answer quoted in error messages, which
// end up in the outbox row and the console.
const maxErrorBody = 512

// Request is one HTTP call a channel makes to its service. The chat and
// paging channels (Slack, Discord, Teams, Telegram, ntfy, Pushover, Gotify,
// Matrix, PagerDuty, Opsgenie) all deliver through Send, so they classify
// failures, honour Retry-After and keep credentials out of errors the same
// way.
type Request struct {
	// Service names the service in errors ("slack", "pagerduty").
	Service string
	// Method is the HTTP method; empty means POST.
	Method string
	// URL is where the request goes. Errors show only its scheme and
	// host: paths and queries of these URLs often hold a token.
	URL string
	// Header holds the request's headers besides Content-Type, which
	// Send sets, and User-Agent, which defaults to UserAgent.
	Header http.Header
	// ContentType is the body's media type; empty means application/json.
	ContentType string
	// Body is the request body.
	Body []byte
	// RetryHint reads a delay the service asked for in its answer's body
	// (Telegram's parameters.retry_after, Matrix's retry_after_ms), for
	// services that say it there rather than in Retry-After. It may be
	// nil.
	RetryHint func(body []byte) (time.Duration, bool)
}

// UserAgent identifies Nightjar to the services it notifies.
const UserAgent = "Nightjar/1"

// Send makes r through client and classifies the outcome for the outbox
// worker, returning the answer's body (at most 4 KiB) on success. A 2xx
// answer is success. Network errors, timeouts, 408, 425, 429 and 5xx
// answers are worth retrying, with the delay the service asked for (a
// Retry-After header, or r.RetryHint) wrapped in a *RetryAfterError; other
// answers (a wrong token, an unknown room, a payload the service refused)
// and destinations refused by the network guard are permanent, since
// trying again cannot fix them.
func Send(ctx context.Context, client *http.Client, r Request, now time.Time) (body []byte, retry bool, err error) {
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	endpoint := Endpoint(r.URL)
	req, err := http.NewRequestWithContext(ctx, method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, false, fmt.Errorf("%s: build request to %s: %v", r.Service, endpoint, errors.Unwrap(err))
	}
	for name, values := range r.Header {
		req.Header[name] = values
	}
	ct := r.ContentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", UserAgent)
	}

	resp, err := client.Do(req)
	if err != nil {
		retry, err := TransportError(r.Service, endpoint, err)
		return nil, retry, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	truncated := len(raw) > maxResponseBody
	if truncated {
		raw = raw[:maxResponseBody]
	}
	// Drain a little more so the connection can be reused, but never wait
	// on an endless body.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return raw, false, nil
	}
	serr := &StatusError{Service: r.Service, Endpoint: endpoint, StatusCode: resp.StatusCode, Body: CleanText(raw), Truncated: truncated}
	if !RetryableStatus(resp.StatusCode) {
		return nil, false, serr
	}
	d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	if !ok && r.RetryHint != nil {
		d, ok = r.RetryHint(raw)
	}
	if ok {
		return nil, true, &RetryAfterError{After: d, Err: serr}
	}
	return nil, true, serr
}

// StatusError is returned when a service answered with a status other than
// 2xx. It keeps the start of the answer, where services explain a
// rejection ("invalid_token", "channel_not_found").
type StatusError struct {
	// Service names the service ("slack").
	Service string
	// Endpoint is the scheme and host the request went to.
	Endpoint string
	// StatusCode is the HTTP status the service answered with.
	StatusCode int
	// Body is the start of the answer, cleaned of control characters.
	Body string
	// Truncated reports whether the service sent more than Body holds.
	Truncated bool
}

// Error names the service, the endpoint without its path or query, the
// status, what to check for the usual configuration errors, and the start
// of the answer.
func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s returned %d %s", e.Service, e.Endpoint, e.StatusCode, http.StatusText(e.StatusCode))
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		b.WriteString(" (check the channel's token or key)")
	case http.StatusNotFound, http.StatusGone:
		b.WriteString(" (check the channel's URL, room, chat or topic)")
	}
	if e.Body != "" {
		body, cut := e.Body, e.Truncated
		if len(body) > maxErrorBody {
			body, cut = truncateUTF8(body, maxErrorBody), true
		}
		b.WriteString(": " + body)
		if cut {
			b.WriteString("…")
		}
	}
	return b.String()
}

// RetryableStatus reports whether an HTTP answer with code may succeed if
// sent again: a timeout, "too early", rate limiting or a server error.
func RetryableStatus(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests:
		return true
	case code >= 500:
		return true
	}
	return false
}

// TransportError classifies a failure to get any answer from endpoint:
// destinations the network guard refuses are permanent, timeouts and other
// network errors are worth retrying. The error never repeats the full URL,
// which may carry a token.
func TransportError(service, endpoint string, err error) (retry bool, _ error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, netguard.ErrBlocked) || errors.Is(err, netguard.ErrRedirect) {
		return false, fmt.Errorf("%s %s: %w", service, endpoint, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return true, fmt.Errorf("%s %s timed out: %w", service, endpoint, err)
	}
	return true, fmt.Errorf("%s %s: %w", service, endpoint, err)
}

// Endpoint reduces a URL to its scheme and host for error messages: paths
// and queries of notification URLs often embed credentials (Slack's and
// Discord's webhook tokens, Telegram's bot token).
func Endpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid url)"
	}
	return u.Scheme + "://" + u.Host
}

// CleanText makes a service's answer safe to show on one line: invalid
// UTF-8 and control characters become spaces, runs of spaces collapse.
func CleanText(b []byte) string {
	s := strings.ToValidUTF8(string(b), " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// maxRetryAfter bounds a delay read from a service's answer; anything
// longer is nonsense for a retry (RetryDelay caps it further).
const maxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After value, either delay-seconds or an
// HTTP date, as a delay from now. Delays in the past count as zero, and
// delays beyond a day are clamped to a day.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}

// SecondsDelay turns a delay a service gave as a number of seconds (which
// may have a fraction) into a duration, refusing negative, non-finite and
// absurd values and clamping to a day.
func SecondsDelay(secs float64) (time.Duration, bool) {
	if !(secs >= 0) || secs > 1e9 {
		return 0, false
	}
	return min(time.Duration(secs*float64(time.Second)), maxRetryAfter), true
}

// JSONPost is the Notifier of a service that takes each message as one
// JSON document POSTed to one URL (Slack's, Discord's and Teams's
// webhooks). It is safe for concurrent use.
type JSONPost struct {
	// Service names the service in errors.
	Service string
	// URL is the webhook URL; it carries the webhook's token.
	URL string
	// Client sends the requests; nil means DefaultClient.
	Client *http.Client
	// Payload builds the document for a message.
	Payload func(Message) any
	// RetryHint is passed on as Request.RetryHint.
	RetryHint func(body []byte) (time.Duration, bool)
}

// Notify POSTs the message's payload and classifies the answer as Send
// does.
func (p *JSONPost) Notify(ctx context.Context, msg Message) (bool, error) {
	body, err := EncodeJSON(p.Payload(msg))
	if err != nil {
		return false, fmt.Errorf("%s: encode payload: %w", p.Service, err)
	}
	_, retry, err := Send(ctx, DefaultClient(p.Client), Request{Service: p.Service, URL: p.URL, Body: body, RetryHint: p.RetryHint}, time.Now())
	return retry, err
}
