package web

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
)

// The Healthchecks v3 management API, so existing scripts and tools work
// against Nightjar unchanged.
func (s *Server) routesV3() {
	s.mux.HandleFunc("GET /api/v3/checks/{$}", s.read(s.v3ListChecks))
	s.mux.HandleFunc("POST /api/v3/checks/{$}", s.changeCheck(true, s.createCheckHandler(s.writeV3Check)))
	s.mux.HandleFunc("GET /api/v3/checks/{id}", s.read(s.v3GetCheck))
	s.mux.HandleFunc("POST /api/v3/checks/{id}", s.changeCheck(true, s.updateCheckHandler(s.writeV3Check)))
	s.mux.HandleFunc("DELETE /api/v3/checks/{id}", s.change(s.deleteCheckHandler(s.writeV3Check)))
	s.mux.HandleFunc("POST /api/v3/checks/{id}/pause", s.change(s.pauseHandler(s.writeV3Check, false)))
	s.mux.HandleFunc("POST /api/v3/checks/{id}/resume", s.change(s.pauseHandler(s.writeV3Check, true)))
	// Pings and integrations need a read-write key, as in Healthchecks.
	s.mux.HandleFunc("GET /api/v3/checks/{id}/pings/{$}", s.readRW(s.v3Pings))
	s.mux.HandleFunc("GET /api/v3/checks/{id}/pings/{n}/body", s.readRW(s.v3PingBody))
	s.mux.HandleFunc("GET /api/v3/checks/{id}/flips/{$}", s.read(s.v3Flips))
	s.mux.HandleFunc("GET /api/v3/channels/{$}", s.readRW(s.v3Channels))
}

// hcTime formats a time as Healthchecks does (ISO 8601 with +00:00), or
// null for none.
func hcTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	v := t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05-07:00")
	return &v
}

type v3Check struct {
	Name         string  `json:"name"`
	Slug         string  `json:"slug"`
	Tags         string  `json:"tags"`
	Desc         string  `json:"desc"`
	Grace        int64   `json:"grace"`
	NPings       int64   `json:"n_pings"`
	Status       string  `json:"status"`
	Started      bool    `json:"started"`
	LastPing     *string `json:"last_ping"`
	NextPing     *string `json:"next_ping"`
	ManualResume bool    `json:"manual_resume"`
	Methods      string  `json:"methods"`
	Subject      string  `json:"subject"`
	SubjectFail  string  `json:"subject_fail"`
	StartKw      string  `json:"start_kw"`
	SuccessKw    string  `json:"success_kw"`
	FailureKw    string  `json:"failure_kw"`
	FilterSubj   bool    `json:"filter_subject"`
	FilterBody   bool    `json:"filter_body"`
	FilterHTTP   bool    `json:"filter_http_body"`
	DefaultFail  bool    `json:"filter_default_fail"`
	BadgeURL     string  `json:"badge_url,omitempty"`
	// LastDuration is the last run's length in whole seconds, present
	// only when the last finish closed a run, as in Healthchecks.
	LastDuration *int64 `json:"last_duration,omitempty"`
	// The rest is left out for read-only keys, as Healthchecks does:
	// they get UniqueKey instead.
	UUID      string  `json:"uuid,omitempty"`
	UniqueKey string  `json:"unique_key,omitempty"`
	PingURL   string  `json:"ping_url,omitempty"`
	UpdateURL string  `json:"update_url,omitempty"`
	PauseURL  string  `json:"pause_url,omitempty"`
	ResumeURL string  `json:"resume_url,omitempty"`
	Channels  *string `json:"channels,omitempty"`
	Timeout   int64   `json:"timeout,omitempty"`
	Schedule  string  `json:"schedule,omitempty"`
	TZ        string  `json:"tz,omitempty"`
}

// uniqueKey is the stable stand-in for a check's UUID shown to read-only
// keys, computed as Healthchecks does: the SHA-1 of the first 16 hex
// digits of the UUID, so a check keeps its unique key when it moves.
func uniqueKey(id string) string {
	digits := strings.ReplaceAll(id, "-", "")
	sum := sha1.Sum([]byte(digits[:min(16, len(digits))]))
	return hex.EncodeToString(sum[:])
}

// v3Status maps Nightjar's statuses to Healthchecks' (new, up, grace, down,
// paused) plus its separate "started" flag.
func v3Status(c *nightjar.Check) (string, bool) {
	switch c.State.Status {
	case nightjar.StatusLate:
		return "grace", false
	case nightjar.StatusStarted:
		if c.State.LastPing.IsZero() || c.State.NPings <= 1 {
			return "new", true
		}
		return "up", true
	}
	return c.State.Status, !c.State.LastStart.IsZero() && c.State.Status != nightjar.StatusPaused
}

func (s *Server) toV3(c *nightjar.Check, channels []*nightjar.Channel, readOnly bool) v3Check {
	status, started := v3Status(c)
	out := v3Check{
		Name: c.Name, Slug: c.Slug, Tags: strings.Join(c.Tags, " "), Desc: c.Desc,
		Grace: int64(c.Grace.Seconds()), NPings: c.State.NPings, Status: status, Started: started,
		LastPing: hcTime(c.State.LastPing), NextPing: hcTime(c.State.ExpectedAt),
		ManualResume: c.ManualResume, Methods: c.Methods, FilterBody: c.FilterBody,
		StartKw: c.StartKeywords, SuccessKw: c.SuccessKeywords, FailureKw: c.FailureKeywords,
		FilterHTTP: c.FilterHTTPBody, DefaultFail: c.FilterDefaultFail, BadgeURL: s.badgeURL(c),
	}
	if d := c.State.LastDuration; d > 0 {
		secs := int64(d.Seconds())
		out.LastDuration = &secs
	}
	if c.Kind != nightjar.KindSimple {
		out.Schedule, out.TZ = c.Schedule, c.TZ
	} else {
		out.Timeout = int64(c.Timeout.Seconds())
	}
	if readOnly {
		out.UniqueKey = uniqueKey(c.ID)
		return out
	}
	ids := c.Channels
	if ids == nil {
		ids = make([]string, len(channels))
		for i, ch := range channels {
			ids[i] = ch.ID
		}
	}
	out.UUID = c.ID
	out.PingURL = s.cfg.BaseURL + "/ping/" + c.ID
	out.UpdateURL = s.cfg.BaseURL + "/api/v3/checks/" + c.ID
	out.PauseURL = out.UpdateURL + "/pause"
	out.ResumeURL = out.UpdateURL + "/resume"
	chans := strings.Join(ids, ",")
	out.Channels = &chans
	return out
}

func (s *Server) v3ListChecks(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	f, err := checkFilter(r)
	if err != nil {
		return err
	}
	found, err := s.checks.List(r.Context(), k.ProjectID, f)
	if err != nil {
		return err
	}
	channels, err := s.channels.List(r.Context(), k.ProjectID)
	if err != nil {
		return err
	}
	out := make([]v3Check, len(found))
	for i, c := range found {
		out[i] = s.toV3(c, channels, k.Scope != nightjar.ScopeReadWrite)
	}
	writeJSON(w, http.StatusOK, map[string]any{"checks": out})
	return nil
}

// findCheck loads a check of the key's project by UUID or, for read-only
// keys, by unique key.
func (s *Server) findCheck(ctx context.Context, k *nightjar.APIKey, id string) (*nightjar.Check, error) {
	if uuidRE.MatchString(id) {
		return s.checks.Get(ctx, k.ProjectID, id)
	}
	if len(id) == 40 {
		found, err := s.checks.List(ctx, k.ProjectID, checks.Filter{})
		if err != nil {
			return nil, err
		}
		for _, c := range found {
			if uniqueKey(c.ID) == id {
				return c, nil
			}
		}
	}
	return nil, nightjar.Errorf(nightjar.ENOTFOUND, "check not found")
}

func (s *Server) v3GetCheck(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	c, err := s.findCheck(r.Context(), k, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeV3Check(w, r, k, c, http.StatusOK)
	return nil
}

func (s *Server) writeV3Check(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey, c *nightjar.Check, status int) {
	channels, err := s.channels.List(r.Context(), k.ProjectID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, status, s.toV3(c, channels, k.Scope != nightjar.ScopeReadWrite))
}

type v3Ping struct {
	Type       string   `json:"type"`
	Date       *string  `json:"date"`
	N          int64    `json:"n"`
	Scheme     string   `json:"scheme"`
	RemoteAddr string   `json:"remote_addr"`
	Method     string   `json:"method"`
	UA         string   `json:"ua"`
	RID        *string  `json:"rid"`
	Duration   *float64 `json:"duration,omitempty"`
	ExitStatus *int     `json:"exitstatus,omitempty"`
	BodyURL    *string  `json:"body_url"`
	Note       string   `json:"note,omitempty"`
}

func (s *Server) v3Pings(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	c, err := s.checks.Get(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return err
	}
	pings, err := s.checks.Pings(r.Context(), c.ID, 1000)
	if err != nil {
		return err
	}
	out := make([]v3Ping, len(pings))
	for i, p := range pings {
		v := v3Ping{Type: p.Kind, Date: hcTime(p.CreatedAt), N: p.N, Scheme: p.Scheme, RemoteAddr: p.RemoteAddr,
			Method: p.Method, UA: p.UA, ExitStatus: p.ExitStatus, Note: p.Note}
		if p.CreatedAt.Nanosecond() != 0 {
			d := p.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000-07:00")
			v.Date = &d
		}
		if p.RID != "" {
			v.RID = &p.RID
		}
		if p.Duration > 0 {
			d := p.Duration.Seconds()
			v.Duration = &d
		}
		if p.BodySize > 0 {
			u := s.cfg.BaseURL + "/api/v3/checks/" + c.ID + "/pings/" + strconv.FormatInt(p.N, 10) + "/body"
			v.BodyURL = &u
		}
		out[i] = v
	}
	writeJSON(w, http.StatusOK, map[string]any{"pings": out})
	return nil
}

func (s *Server) v3PingBody(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < 1 {
		return nightjar.FieldError("n", "must be a positive ping number")
	}
	c, err := s.findCheck(r.Context(), k, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := s.checks.PingWithBody(r.Context(), c.ID, n)
	if err != nil {
		return err
	}
	if len(p.Body) == 0 {
		return nightjar.Errorf(nightjar.ENOTFOUND, "ping %d has no body", n)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(p.Body)
	return nil
}

func (s *Server) v3Flips(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	c, err := s.findCheck(r.Context(), k, r.PathValue("id"))
	if err != nil {
		return err
	}
	since, until, err := flipWindow(r.URL.Query(), s.clock.Now())
	if err != nil {
		return err
	}
	flips, err := s.checks.Flips(r.Context(), c.ID, since, 1000)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"flips": v3Flips(flips, until)})
	return nil
}

// maxFlipTimestamp bounds the start and end filters as Healthchecks does
// (10,000,000,000 is in the year 2286).
const maxFlipTimestamp = 10_000_000_000

// flipWindow reads Healthchecks' flip filters: start (inclusive) and end
// (exclusive) as Unix times, and seconds back from now. Every filter given
// applies; zero times mean no bound.
func flipWindow(q url.Values, now time.Time) (since, until time.Time, err error) {
	for _, f := range []struct {
		name string
		max  int64
		msg  string
	}{
		{"start", maxFlipTimestamp, "must be a Unix timestamp in seconds from 0 to 10000000000"},
		{"end", maxFlipTimestamp, "must be a Unix timestamp in seconds from 0 to 10000000000"},
		{"seconds", 365 * 86400, "must be a whole number of seconds from 0 to 31536000"},
	} {
		v := q.Get(f.name)
		if v == "" {
			continue
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 0 || n > f.max {
			return since, until, nightjar.FieldError(f.name, "%s", f.msg)
		}
		if n == 0 {
			continue // Healthchecks treats 0 as no filter
		}
		var t time.Time
		switch f.name {
		case "start":
			t = time.Unix(n, 0)
		case "end":
			until = time.Unix(n, 0)
			continue
		case "seconds":
			t = now.Add(-nightjar.Seconds(n))
		}
		if t.After(since) {
			since = t
		}
	}
	return since, until, nil
}

// v3Flip is a status change as Healthchecks reports it.
type v3Flip struct {
	Timestamp *string `json:"timestamp"`
	Up        int     `json:"up"`
}

// v3Flips turns Nightjar's flips (newest first) into Healthchecks' before
// until (exclusive; zero for no bound). Healthchecks' statuses are new,
// up, down and paused: late is its grace period, which is up, and a run
// in progress counts as up. Only changes between those statuses are
// reported, each with up 1 when the new status is up and 0 otherwise
// (down, paused, and new after a resume).
func v3Flips(flips []*nightjar.Flip, until time.Time) []v3Flip {
	out := []v3Flip{}
	if len(flips) == 0 {
		return out
	}
	status := hcFlipStatus(flips[len(flips)-1].From)
	var emitted []v3Flip
	for i := len(flips) - 1; i >= 0; i-- {
		f := flips[i]
		to := hcFlipStatus(f.To)
		if to == status {
			continue
		}
		status = to
		if !until.IsZero() && !f.CreatedAt.Before(until) {
			continue
		}
		up := 0
		if to == nightjar.StatusUp {
			up = 1
		}
		emitted = append(emitted, v3Flip{Timestamp: hcTime(f.CreatedAt), Up: up})
	}
	for i := len(emitted) - 1; i >= 0; i-- {
		out = append(out, emitted[i])
	}
	return out
}

// hcFlipStatus maps a Nightjar status to the Healthchecks status it is.
func hcFlipStatus(status string) string {
	switch status {
	case nightjar.StatusLate, nightjar.StatusStarted:
		return nightjar.StatusUp
	}
	return status
}

// healthchecksKinds are the kinds of channel Healthchecks names otherwise,
// as its v3 API lists them; the others have the same name in both.
var healthchecksKinds = map[string]string{
	nightjar.ChannelPagerDuty: "pd",
	nightjar.ChannelPushover:  "po",
	nightjar.ChannelTeams:     "msteams",
}

func (s *Server) v3Channels(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	channels, err := s.channels.List(r.Context(), k.ProjectID)
	if err != nil {
		return err
	}
	type v3Channel struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Kind string `json:"kind"`
	}
	out := make([]v3Channel, len(channels))
	for i, ch := range channels {
		kind := ch.Kind
		if hc, ok := healthchecksKinds[kind]; ok {
			kind = hc
		}
		out[i] = v3Channel{ID: ch.ID, Name: ch.Name, Kind: kind}
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": out})
	return nil
}
