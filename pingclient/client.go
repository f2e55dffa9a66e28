// Package pingclient sends heartbeat pings, the signals from which Nightjar
// learns that a job started, finished, or failed.
//
// It sits at the producing end of the signal flow: cron jobs, scripts and
// the run wrapper in package runner call Client.Ping, the server receives
// the ping, updates the check's state, and raises an alert when an expected
// signal does not arrive in time. The wire format is the Healthchecks ping
// API, so the same client works against Nightjar and against any
// Healthchecks-compatible server:
//
//	{base}/{uuid}[/start|/fail|/log|/{0-255}]
//	{base}/{ping-key}/{slug}[/start|/fail|/log|/{0-255}]
//
// with optional query parameters rid (run id, to pair a start with its
// finish), create=1 (slug form only: create the check on first ping) and m
// (Nightjar metrics, see FormatMetrics).
//
// Pings are POSTed as text/plain with an explicit Content-Length, and
// transient failures (408, 429, 500, 502, 503, 504, network errors and
// per-attempt timeouts) are retried with backoff, as established wrappers
// do, so a server restart does not turn into a missed heartbeat.
package pingclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Defaults used when the matching Client field is zero.
const (
	// DefaultMaxAttempts bounds how often one ping is tried; with the
	// default backoff the waits add up to 15 s, long enough to ride out a
	// server restart.
	DefaultMaxAttempts = 5
	// DefaultTimeout bounds one attempt, so a server that accepts the
	// connection but never answers costs a retry rather than the job's time.
	DefaultTimeout = 10 * time.Second
	// MaxBackoff caps the wait DefaultBackoff returns, keeping the last
	// retries of a long series from waiting minutes.
	MaxBackoff = 30 * time.Second
	// DefaultUserAgent identifies the client to the server's access logs.
	DefaultUserAgent = "nightjar-pingclient/1"
	// BodyLimitHeader is the response header in which the server states the
	// largest ping body it keeps, so clients can trim what they send next.
	BodyLimitHeader = "Ping-Body-Limit"
)

// Client sends pings to one ping API base URL. The zero value is not usable
// until BaseURL is set; every other field has a working default. A Client
// is safe for concurrent use as long as its fields are not changed.
type Client struct {
	// BaseURL is the ping endpoint root, for example
	// https://nightjar.example.com/ping or https://hc-ping.com. A trailing
	// slash is ignored.
	BaseURL string
	// HTTP sends the requests; nil means http.DefaultClient. Set it to
	// control proxies, TLS roots or connection reuse.
	HTTP *http.Client
	// MaxAttempts bounds the attempts per ping, the first one included;
	// zero or less means DefaultMaxAttempts.
	MaxAttempts int
	// Backoff returns how long to wait after the given failed attempt
	// (1 after the first) before the next; nil means DefaultBackoff. Tests
	// inject tiny waits through it.
	Backoff func(attempt int) time.Duration
	// Timeout bounds each attempt; zero or less means DefaultTimeout. The
	// overall time is bounded by the context given to Ping.
	Timeout time.Duration
	// UserAgent is sent as the User-Agent header; empty means
	// DefaultUserAgent.
	UserAgent string
}

// Options are the per-ping parameters beyond the target and kind.
type Options struct {
	// RunID pairs a start ping with its finish so the server can measure
	// the run's duration even when runs overlap. It must be a UUID; empty
	// sends none.
	RunID string
	// Create asks the server to create a slug-form check that does not
	// exist yet (answered with 201). It is not sent for UUID targets,
	// which cannot be auto-created and for which servers ignore it.
	Create bool
	// Body is attached to the ping as text, typically the tail of a job's
	// output. The server keeps at most its Ping-Body-Limit bytes.
	Body []byte
	// Metrics are job measurements sent in the m query parameter; see
	// FormatMetrics for the allowed names and values.
	Metrics map[string]float64
}

// Result describes how a ping went, also when Ping returns an error, so
// callers can log the attempts made and the last status seen.
type Result struct {
	// Status is the HTTP status of the last response, or 0 if no response
	// arrived.
	Status int
	// BodyLimit is the server's Ping-Body-Limit in bytes, or -1 if the
	// header was absent or unreadable. A start ping's value caps the body
	// worth sending with the finish ping.
	BodyLimit int64
	// Attempts counts the requests made.
	Attempts int
}

// StatusError reports a response whose status the client does not treat as
// success, so callers can tell a rejected ping (errors.As) from an
// unreachable server.
type StatusError struct {
	// StatusCode is the numeric HTTP status, for example 404.
	StatusCode int
	// Status is the status line text, for example "404 Not Found".
	Status string
}

// Error names the status the server answered with.
func (e *StatusError) Error() string {
	return "server answered " + e.Status
}

// DefaultBackoff waits 1 s after the first failed attempt and doubles the
// wait after each further one, up to MaxBackoff, which spaces retries out
// enough for a restarting server without stalling the caller for long.
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 6 {
		return MaxBackoff
	}
	return min(time.Second<<(attempt-1), MaxBackoff)
}

// Ping sends one ping of the given kind for the target and retries it while
// the failure looks transient. Any 2xx answer is success; the ping API uses
// 200, and 201 when create=1 made a new check. It stops early when ctx is
// done, returning the context's error. Other statuses fail at once with a
// *StatusError, because retrying a 404 or 400 cannot help. The returned
// Result is filled in on error too.
func (c *Client) Ping(ctx context.Context, t Target, kind Kind, opts Options) (Result, error) {
	res := Result{BodyLimit: -1}
	u, shown, err := c.pingURL(t, kind, opts)
	if err != nil {
		return res, fmt.Errorf("ping %s: %w", kind, err)
	}

	maxAttempts := c.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	backoff := c.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}

	var lastErr error
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		status, limit, err := c.attempt(ctx, u, shown, opts.Body)
		res.Status = status
		if err == nil {
			res.BodyLimit = limit
			return res, nil
		}
		if ctx.Err() != nil {
			return res, fmt.Errorf("ping %s: attempt %d: %w", kind, attempt, ctx.Err())
		}
		if !retryable(err) {
			return res, fmt.Errorf("ping %s: %w", kind, err)
		}
		lastErr = err
		if attempt >= maxAttempts {
			break
		}
		wait := time.NewTimer(backoff(attempt))
		select {
		case <-ctx.Done():
			wait.Stop()
			return res, fmt.Errorf("ping %s: waiting to retry after %v: %w", kind, lastErr, ctx.Err())
		case <-wait.C:
		}
	}
	return res, fmt.Errorf("ping %s: giving up after %d attempts: %w", kind, res.Attempts, lastErr)
}

// attempt makes one request. It returns the status (0 without a response)
// and the body limit header, and an error for anything but success. Errors
// name the URL as shown, because the full one carries the check's key.
func (c *Client) attempt(ctx context.Context, u, shown string, body []byte) (int, int64, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var rd io.Reader = http.NoBody
	if len(body) > 0 {
		// A bytes.Reader gives the request an exact Content-Length:
		// some servers mishandle chunked uploads.
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, rd)
	if err != nil {
		return 0, -1, permanent{fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Content-Type", "text/plain")
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)

	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, -1, fmt.Errorf("post to %s: %w", shown, err)
	}
	// Drain a little so the connection can be reused; the body is only an
	// "OK" or a short error text.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()

	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp.StatusCode, parseBodyLimit(resp.Header.Get(BodyLimitHeader)), nil
	}
	return resp.StatusCode, -1, &StatusError{StatusCode: resp.StatusCode, Status: resp.Status}
}

// permanent marks errors that retrying cannot fix.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// retryable decides whether another attempt may succeed: the statuses that
// mean "busy or briefly broken", and transport failures other than
// certificate problems, which stay the same on every attempt.
func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		switch se.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var p permanent
	if errors.As(err, &p) {
		return false
	}
	var (
		unknownAuthority x509.UnknownAuthorityError
		invalidCert      x509.CertificateInvalidError
		hostname         x509.HostnameError
		verify           *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownAuthority) || errors.As(err, &invalidCert) ||
		errors.As(err, &hostname) || errors.As(err, &verify) {
		return false
	}
	return true
}

// parseBodyLimit reads the Ping-Body-Limit header value, -1 if unusable.
func parseBodyLimit(v string) int64 {
	if v == "" {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// pingURL builds the request URL, escaping each path segment so that any
// slug or key reaches the server intact. It also returns a form safe for
// logs: the base URL without credentials, and the check left out.
func (c *Client) pingURL(t Target, kind Kind, opts Options) (full, shown string, err error) {
	full, err = c.buildURL(t, kind, opts)
	if err != nil {
		return "", "", err
	}
	base, _ := url.Parse(c.BaseURL) // parsed without error by buildURL
	base.RawQuery, base.Fragment, base.RawFragment = "", "", ""
	return full, strings.TrimRight(base.Redacted(), "/") + "/…", nil
}

func (c *Client) buildURL(t Target, kind Kind, opts Options) (string, error) {
	if c.BaseURL == "" {
		return "", fmt.Errorf("no ping base URL configured (set %s)", EnvPingURL)
	}
	base, err := url.Parse(c.BaseURL)
	if err != nil {
		return "", fmt.Errorf("parse ping base URL: %w", err)
	}
	if base.Scheme != "http" && base.Scheme != "https" {
		return "", fmt.Errorf("ping base URL %q: scheme must be http or https", c.BaseURL)
	}
	if base.Host == "" {
		return "", fmt.Errorf("ping base URL %q has no host", c.BaseURL)
	}
	if err := t.Validate(); err != nil {
		return "", err
	}
	if err := kind.Validate(); err != nil {
		return "", err
	}

	segs := t.pathSegments()
	if kind != KindSuccess {
		segs = append(segs, string(kind))
	}
	escaped := strings.TrimRight(base.EscapedPath(), "/")
	for _, s := range segs {
		escaped += "/" + url.PathEscape(s)
	}
	u := *base
	u.Fragment, u.RawFragment = "", ""
	u.RawPath = escaped
	if u.Path, err = url.PathUnescape(escaped); err != nil {
		return "", fmt.Errorf("ping base URL path: %w", err)
	}

	q := base.Query()
	if opts.RunID != "" {
		if !isUUID(opts.RunID) {
			return "", fmt.Errorf("run id %q is not a uuid", opts.RunID)
		}
		q.Set("rid", strings.ToLower(opts.RunID))
	}
	if opts.Create && t.UUID == "" {
		q.Set("create", "1")
	}
	if len(opts.Metrics) > 0 {
		m, err := FormatMetrics(opts.Metrics)
		if err != nil {
			return "", err
		}
		q.Set("m", m)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// NewRunID returns a fresh random (version 4) UUID to pair a start ping
// with its finish.
func NewRunID() (string, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("generate run id: %w", err)
	}
	return id.String(), nil
}
