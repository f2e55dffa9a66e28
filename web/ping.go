package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/clientip"
	"github.com/nightjar-dev/nightjar/metricrule"
)

// pingTarget is a parsed ping URL path (the part after /ping/).
type pingTarget struct {
	UUID          string
	PingKey, Slug string
	Kind          string
	ExitStatus    *int
}

// errPingNotFound and errPingBadURL are the two ways a ping path is wrong,
// answered as Healthchecks does: 404 "not found" and 400 "invalid url format".
var (
	errPingNotFound = errors.New("not found")
	errPingBadURL   = errors.New("invalid url format")
)

var (
	uuidRE    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	pingKeyRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	digitsRE  = regexp.MustCompile(`^[0-9]{1,9}$`)
)

// parsePingPath parses "<uuid>[/<action>]" or "<ping-key>/<slug>[/<action>]"
// where action is start, fail, log or an exit status 0-255.
func parsePingPath(p string) (pingTarget, error) {
	var t pingTarget
	p = strings.TrimSuffix(p, "/")
	parts := strings.Split(p, "/")
	if len(parts) == 0 || len(parts) > 3 || parts[0] == "" {
		return t, errPingNotFound
	}
	rest := parts[1:]
	if uuidRE.MatchString(parts[0]) {
		t.UUID = parts[0]
	} else {
		if !pingKeyRE.MatchString(parts[0]) || len(parts) < 2 {
			return t, errPingNotFound
		}
		t.PingKey = parts[0]
		t.Slug = parts[1]
		if !nightjar.ValidSlug(t.Slug) {
			return t, errPingBadURL
		}
		rest = parts[2:]
	}
	t.Kind = nightjar.PingSuccess
	if len(rest) > 1 {
		return t, errPingNotFound
	}
	if len(rest) == 1 {
		switch a := rest[0]; {
		case a == "start":
			t.Kind = nightjar.PingStart
		case a == "fail":
			t.Kind = nightjar.PingFail
		case a == "log":
			t.Kind = nightjar.PingLog
		case digitsRE.MatchString(a):
			n, _ := strconv.Atoi(a)
			if n > 255 {
				return t, errPingBadURL
			}
			t.ExitStatus = &n
			if n > 0 {
				t.Kind = nightjar.PingFail
			}
		default:
			return t, errPingNotFound
		}
	}
	return t, nil
}

// maxPingRequest is the most a ping request may send. Everything up to it
// is read, the part over the body limit only to be discarded, before the
// ping is answered: a server that answers and closes while the client is
// still sending makes the client see "connection reset" although the ping
// was recorded. Larger bodies are refused whole with 413.
const maxPingRequest = 64 << 20

// errPingTooLarge is a ping body longer than maxPingRequest.
var errPingTooLarge = fmt.Errorf("request body too large: a ping may send at most %d bytes", maxPingRequest)

// handlePing takes a ping in any of Healthchecks' URL forms, with any
// method, and answers only once the ping is durable.
func (s *Server) handlePing(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Ping-Body-Limit", strconv.FormatInt(s.cfg.PingBodyLimit, 10))
	if r.ContentLength > s.pingRequestBound() {
		s.refuseLargePing(w)
		return
	}
	// Answers given before the body was read still let the client finish
	// sending, except a refusal of a body that is too large.
	drain := true
	defer func() {
		if drain {
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, s.pingRequestBound()))
		}
	}()
	t, err := parsePingPath(r.PathValue("rest"))
	if err != nil {
		s.metrics.PingRejected("bad_url")
		status := http.StatusNotFound
		if errors.Is(err, errPingBadURL) {
			status = http.StatusBadRequest
		}
		writeText(w, status, err.Error())
		return
	}
	q := r.URL.Query()
	rid := q.Get("rid")
	if rid != "" {
		u, err := uuid.Parse(rid)
		if err != nil || len(rid) != 36 {
			s.metrics.PingRejected("bad_rid")
			writeText(w, http.StatusBadRequest, "invalid uuid format")
			return
		}
		rid = u.String()
	}
	body, err := readPingBody(r.Body, s.cfg.PingBodyLimit, s.pingRequestBound())
	if errors.Is(err, errPingTooLarge) {
		drain = false
		s.refuseLargePing(w)
		return
	} else if err != nil {
		writeText(w, http.StatusBadRequest, "could not read request body")
		return
	}
	metrics, err := pingMetrics(q, body)
	if err != nil {
		s.metrics.PingRejected("bad_metrics")
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	req := &checks.PingRequest{
		CheckID:    t.UUID,
		PingKey:    t.PingKey,
		Slug:       t.Slug,
		Create:     q.Get("create") == "1" && t.Slug != "",
		Kind:       t.Kind,
		ExitStatus: t.ExitStatus,
		At:         s.clock.Now().UTC().Truncate(time.Millisecond),
		RID:        rid,
		Method:     r.Method,
		Scheme:     scheme(r),
		RemoteAddr: s.remoteAddr(r),
		UA:         r.UserAgent(),
		Body:       body,
		Metrics:    metrics,
	}
	res := s.pings.Submit(r.Context(), req)
	switch code := nightjar.ErrorCode(res.Err); {
	case res.Err == nil && res.Created:
		writeText(w, http.StatusCreated, "Created")
	case res.Err == nil:
		writeText(w, http.StatusOK, "OK")
	case code == nightjar.ENOTFOUND:
		writeText(w, http.StatusNotFound, "not found")
	case code == nightjar.ECONFLICT:
		writeText(w, http.StatusConflict, "ambiguous slug")
	case code == nightjar.EINVALID:
		writeText(w, http.StatusBadRequest, nightjar.ErrorMessage(res.Err))
	case errors.Is(res.Err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; its ping may still commit with its batch.
		return
	case errors.Is(res.Err, checks.ErrRecorderClosed):
		writeText(w, http.StatusServiceUnavailable, "shutting down, try again")
	default:
		s.log.Error("record ping", "request_id", requestID(r.Context()), "err", res.Err)
		writeText(w, http.StatusInternalServerError, "internal error (request id "+requestID(r.Context())+")")
		return
	}
	if res.Err == nil {
		s.metrics.PingRecorded(t.Kind, time.Since(start))
	}
}

// pingRequestBound is the most a ping request may send: maxPingRequest, or
// the body limit when that is larger.
func (s *Server) pingRequestBound() int64 { return max(maxPingRequest, s.cfg.PingBodyLimit) }

// refuseLargePing answers a ping that sends more than maxPingRequest bytes
// and closes the connection rather than read the rest.
func (s *Server) refuseLargePing(w http.ResponseWriter) {
	s.metrics.PingRejected("too_large")
	w.Header().Set("Connection", "close")
	writeText(w, http.StatusRequestEntityTooLarge, errPingTooLarge.Error())
}

// readPingBody reads up to limit bytes and, when the body is longer, reads
// and discards the rest, up to most bytes in all, adding a visible marker
// saying how much was cut. A body longer than most is errPingTooLarge.
func readPingBody(rc io.Reader, limit, most int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(rc, limit))
	if err != nil {
		return nil, err
	}
	extra, err := io.Copy(io.Discard, io.LimitReader(rc, most-int64(len(body))+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body))+extra > most {
		return nil, errPingTooLarge
	}
	if extra > 0 {
		body = append(body, fmt.Sprintf("\n[nightjar: body truncated, first %d bytes kept, %d more dropped]", limit, extra)...)
	}
	return body, nil
}

// pingMetrics takes metrics from ?m= and, failing that, from a JSON body.
func pingMetrics(q map[string][]string, body []byte) (map[string]float64, error) {
	if m := q["m"]; len(m) > 0 {
		parsed, err := metricrule.ParseQuery(strings.Join(m, ","))
		if err != nil {
			return nil, fmt.Errorf("m: %v", err)
		}
		return parsed, nil
	}
	parsed, err := metricrule.ParseJSON(body)
	if err != nil {
		return nil, fmt.Errorf("metrics in body: %v", err)
	}
	return parsed, nil
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// remoteAddr is the client's address: the connection's peer, or, when the
// peer is a trusted proxy, the nearest X-Forwarded-For entry that is not.
func (s *Server) remoteAddr(r *http.Request) string {
	return clientip.Resolver{Trusted: s.cfg.TrustedProxies}.Addr(r)
}
