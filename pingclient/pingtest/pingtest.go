// Package pingtest provides an in-process ping API server for tests of code
// that emits heartbeat signals. It follows the ping API's routing closely
// enough to catch malformed URLs (unknown routes answer 404, a run id that
// is not a UUID answers 400, create=1 answers 201 for a new slug), records
// every request for assertions, and can be scripted to answer with errors
// or to hang, so retry and timeout behaviour can be tested without a real
// server.
package pingtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// PathPrefix is the path under which the server routes pings; Server.Base
// includes it, so clients are tested with a base URL that has a path, as
// in a real deployment.
const PathPrefix = "/ping"

// Hang, given to Server.Respond, makes the server hold the request open
// until the client gives up, to exercise per-attempt timeouts.
const Hang = -1

// Request is one recorded ping request with its route already decoded.
type Request struct {
	// Method is the HTTP method, POST for this project's clients.
	Method string
	// Path is the decoded URL path and RawPath the path as sent, to check
	// escaping.
	Path, RawPath string
	// Query holds the decoded query parameters (rid, create, m).
	Query url.Values
	// Header holds the request headers, to check Content-Type and friends.
	Header http.Header
	// Body is the request body as received.
	Body []byte
	// UUID, or PingKey and Slug, name the check the route addressed.
	UUID, PingKey, Slug string
	// Kind is "" for success, "start", "fail", "log", or an exit status.
	Kind string
	// Status is what the server answered.
	Status int
	// Received is when the request arrived.
	Received time.Time
}

// Server is a recording ping API server. Create it with NewServer.
type Server struct {
	// Server is the underlying test server; its URL is the site root, and
	// Base gives the ping base URL.
	*httptest.Server

	mu        sync.Mutex
	script    []int
	bodyLimit int64
	requests  []Request
	slugs     map[string]bool
	closed    chan struct{}
	closeOnce sync.Once
}

// NewServer starts a server that answers 200 to well-formed pings with a
// Ping-Body-Limit of 100000 bytes, and stops it when the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		bodyLimit: 100000,
		slugs:     map[string]bool{},
		closed:    make(chan struct{}),
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Close releases hanging requests and stops the server.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.Server.Close()
}

// Base returns the base URL a client should use.
func (s *Server) Base() string { return s.URL + PathPrefix }

// Respond queues statuses for the next requests, in order; once the queue
// is empty the server answers normally again. Hang holds a request open.
func (s *Server) Respond(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, statuses...)
}

// SetBodyLimit sets the Ping-Body-Limit header value; a negative limit
// leaves the header out.
func (s *Server) SetBodyLimit(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodyLimit = n
}

// AddSlug makes a slug-form check exist, so it answers 200 without create.
func (s *Server) AddSlug(pingKey, slug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slugs[pingKey+"/"+slug] = true
}

// Requests returns a copy of the requests recorded so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := Request{
		Method:   r.Method,
		Path:     r.URL.Path,
		RawPath:  r.URL.EscapedPath(),
		Query:    r.URL.Query(),
		Header:   r.Header.Clone(),
		Body:     body,
		Received: time.Now(),
	}

	s.mu.Lock()
	scripted := 0
	if len(s.script) > 0 {
		scripted, s.script = s.script[0], s.script[1:]
	}
	limit := s.bodyLimit
	s.mu.Unlock()

	status := s.route(&rec, scripted)
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	if status == Hang {
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		return
	}
	if limit >= 0 {
		w.Header().Set("Ping-Body-Limit", strconv.FormatInt(limit, 10))
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	if status == http.StatusOK || status == http.StatusCreated {
		_, _ = io.WriteString(w, "OK")
	} else {
		_, _ = io.WriteString(w, strings.ToLower(http.StatusText(status)))
	}
}

// route decodes the request into rec and decides the status, letting a
// scripted status win once the route is known to be well-formed.
func (s *Server) route(rec *Request, scripted int) (status int) {
	defer func() { rec.Status = status }()
	switch rec.Method {
	case http.MethodGet, http.MethodPost, http.MethodHead:
	default:
		return http.StatusMethodNotAllowed
	}
	rest, ok := strings.CutPrefix(rec.Path, PathPrefix+"/")
	if !ok {
		return http.StatusNotFound
	}
	segs := strings.Split(rest, "/")
	for _, seg := range segs {
		if seg == "" {
			return http.StatusNotFound
		}
	}
	switch {
	case isUUID(segs[0]) && len(segs) <= 2:
		rec.UUID = segs[0]
		if len(segs) == 2 {
			rec.Kind = segs[1]
		}
	case len(segs) == 2 || len(segs) == 3:
		rec.PingKey, rec.Slug = segs[0], segs[1]
		if len(segs) == 3 {
			rec.Kind = segs[2]
		}
		if rec.PingKey == "" || rec.Slug == "" {
			return http.StatusNotFound
		}
	default:
		return http.StatusNotFound
	}
	if !validKind(rec.Kind) {
		return http.StatusNotFound
	}
	if rid := rec.Query.Get("rid"); rid != "" && !isUUID(rid) {
		return http.StatusBadRequest
	}
	if scripted != 0 {
		return scripted
	}
	if rec.UUID != "" {
		return http.StatusOK
	}
	key := rec.PingKey + "/" + rec.Slug
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.slugs[key]:
		return http.StatusOK
	case rec.Query.Get("create") == "1":
		s.slugs[key] = true
		return http.StatusCreated
	default:
		return http.StatusNotFound
	}
}

func validKind(k string) bool {
	switch k {
	case "", "start", "fail", "log":
		return true
	}
	n, err := strconv.Atoi(k)
	return err == nil && n >= 0 && n <= 255 && strconv.Itoa(n) == k
}

// isUUID accepts the lower-case form only, as the ping API's router does.
func isUUID(s string) bool {
	if len(s) != 36 || s != strings.ToLower(s) {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}
