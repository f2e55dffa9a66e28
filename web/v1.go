package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/schedule"
	"github.com/nightjar-dev/nightjar/store"
)

// Nightjar's own API: every setting and state field, durations in seconds,
// times in RFC 3339. Described in /api/openapi.json.
func (s *Server) routesV1() {
	s.mux.HandleFunc("GET /api/v1/checks", s.read(s.v1ListChecks))
	s.mux.HandleFunc("POST /api/v1/checks", s.withCheckInput(s.v1CreateCheck))
	s.mux.HandleFunc("GET /api/v1/checks/{id}", s.read(s.v1GetCheck))
	s.mux.HandleFunc("PATCH /api/v1/checks/{id}", s.withCheckInput(s.v1UpdateCheck))
	s.mux.HandleFunc("DELETE /api/v1/checks/{id}", s.write(s.v1DeleteCheck))
	s.mux.HandleFunc("POST /api/v1/checks/{id}/pause", s.write(s.v1Transition(false)))
	s.mux.HandleFunc("POST /api/v1/checks/{id}/resume", s.write(s.v1Transition(true)))
	s.mux.HandleFunc("GET /api/v1/checks/{id}/pings", s.read(s.v1Pings))
	s.mux.HandleFunc("GET /api/v1/checks/{id}/pings/{n}/body", s.read(s.v3PingBody))
	s.mux.HandleFunc("GET /api/v1/checks/{id}/flips", s.read(s.v1Flips))
	s.mux.HandleFunc("GET /api/v1/schedule/preview", s.v1SchedulePreview)
	s.mux.HandleFunc("GET /api/v1/channels", s.write(s.v1ListChannels))
	s.mux.HandleFunc("POST /api/v1/channels", s.write(s.v1CreateChannel))
	s.mux.HandleFunc("PATCH /api/v1/channels/{id}", s.write(s.v1UpdateChannel))
	s.mux.HandleFunc("DELETE /api/v1/channels/{id}", s.write(s.v1DeleteChannel))
	s.mux.HandleFunc("POST /api/v1/channels/{id}/test", s.write(s.v1TestChannel))
	s.mux.HandleFunc("GET /api/v1/notifications/{id}", s.read(s.v1Notification))
	s.mux.HandleFunc("GET /api/v1/alerts", s.read(s.v1Alerts))
}

// v1Check is a check as /api/v1 shows it. A read-only key gets UniqueKey
// instead of ID and no PingURL: the UUID is the ping URL's secret.
type v1Check struct {
	ID               string             `json:"id,omitempty"`
	UniqueKey        string             `json:"unique_key,omitempty"`
	Name             string             `json:"name"`
	Slug             string             `json:"slug"`
	Tags             []string           `json:"tags"`
	Desc             string             `json:"desc"`
	Service          string             `json:"service"`
	Kind             string             `json:"kind"`
	Timeout          int64              `json:"timeout"`
	Grace            int64              `json:"grace"`
	Schedule         string             `json:"schedule"`
	TZ               string             `json:"tz"`
	EarlyTolerance   int64              `json:"early_tolerance"`
	MaxRuntime       int64              `json:"max_runtime"`
	MinRuntime       int64              `json:"min_runtime"`
	FailureThreshold int                `json:"failure_threshold"`
	RealertInterval  int64              `json:"realert_interval"`
	Methods          string             `json:"methods"`
	ManualResume     bool               `json:"manual_resume"`
	MetricRules      []string           `json:"metric_rules"`
	Channels         []string           `json:"channels"`
	FilterBody       bool               `json:"filter_body"`
	FilterHTTPBody   bool               `json:"filter_http_body"`
	FilterDefault    bool               `json:"filter_default_fail"`
	StartKw          string             `json:"start_kw"`
	SuccessKw        string             `json:"success_kw"`
	FailureKw        string             `json:"failure_kw"`
	Status           string             `json:"status"`
	NPings           int64              `json:"n_pings"`
	LastPing         *time.Time         `json:"last_ping"`
	NextPing         *time.Time         `json:"next_ping"`
	LastStart        *time.Time         `json:"last_start"`
	LastDuration     float64            `json:"last_duration"`
	FailuresInARow   int                `json:"consecutive_failures"`
	LastMetrics      map[string]float64 `json:"last_metrics,omitempty"`
	PingURL          string             `json:"ping_url,omitempty"`
	BadgeURL         string             `json:"badge_url,omitempty"`
	CreatedAt        time.Time          `json:"created_at"`
	UpdatedAt        time.Time          `json:"updated_at"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) toV1(c *nightjar.Check, k *nightjar.APIKey) v1Check {
	out := v1Check{
		ID: c.ID, Name: c.Name, Slug: c.Slug, Tags: c.Tags, Desc: c.Desc, Service: c.Service, Kind: c.Kind,
		Timeout: int64(c.Timeout.Seconds()), Grace: int64(c.Grace.Seconds()), Schedule: c.Schedule, TZ: c.TZ,
		EarlyTolerance: int64(c.EarlyTolerance.Seconds()), MaxRuntime: int64(c.MaxRuntime.Seconds()),
		MinRuntime: int64(c.MinRuntime.Seconds()), FailureThreshold: c.FailureThreshold,
		RealertInterval: int64(c.RealertInterval.Seconds()), Methods: c.Methods, ManualResume: c.ManualResume,
		MetricRules: c.MetricRules, Channels: c.Channels, FilterBody: c.FilterBody, StartKw: c.StartKeywords,
		FilterHTTPBody: c.FilterHTTPBody, FilterDefault: c.FilterDefaultFail, BadgeURL: s.badgeURL(c),
		SuccessKw: c.SuccessKeywords, FailureKw: c.FailureKeywords, Status: c.State.Status, NPings: c.State.NPings,
		LastPing: timePtr(c.State.LastPing), NextPing: timePtr(c.State.ExpectedAt), LastStart: timePtr(c.State.LastStart),
		LastDuration: c.State.LastDuration.Seconds(), FailuresInARow: c.State.ConsecutiveFailures,
		LastMetrics: c.State.LastMetrics, PingURL: s.cfg.BaseURL + "/ping/" + c.ID,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if k.ReadOnly() {
		out.ID, out.PingURL, out.UniqueKey = "", "", uniqueKey(c.ID)
	}
	return out
}

func (s *Server) v1ListChecks(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	q := r.URL.Query()
	status := q.Get("status")
	switch status {
	case "", nightjar.StatusNew, nightjar.StatusUp, nightjar.StatusStarted, nightjar.StatusLate, nightjar.StatusDown, nightjar.StatusPaused:
	default:
		return nightjar.FieldError("status", "must be one of new, up, started, late, down, paused")
	}
	limit, err := intParam(r, "limit", 500, 1, 1000)
	if err != nil {
		return err
	}
	offset, err := intParam(r, "offset", 0, 0, 1<<30)
	if err != nil {
		return err
	}
	f, err := checkFilter(r)
	if err != nil {
		return err
	}
	f.Status, f.Limit, f.Offset = status, limit+1, offset
	checks, err := s.db.Checks(r.Context(), k.ProjectID, f)
	if err != nil {
		return err
	}
	body := map[string]any{}
	if len(checks) > limit {
		checks = checks[:limit]
		body["next_offset"] = offset + limit
	}
	out := make([]v1Check, len(checks))
	for i, c := range checks {
		out[i] = s.toV1(c, k)
	}
	body["checks"] = out
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) v1CreateCheck(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey, in *checkInput) error {
	c, created, err := s.upsertCheck(r.Context(), k.ProjectID, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, s.toV1(c, k))
	return nil
}

func (s *Server) v1GetCheck(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	c, err := s.findCheck(r.Context(), k, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toV1(c, k))
	return nil
}

func (s *Server) v1UpdateCheck(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey, in *checkInput) error {
	c, err := s.updateCheck(r, k, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toV1(c, k))
	return nil
}

func (s *Server) v1DeleteCheck(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	if err := s.db.DeleteCheck(r.Context(), k.ProjectID, r.PathValue("id"), s.clock.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) v1Transition(resume bool) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
		c, err := s.db.SetPaused(r.Context(), k.ProjectID, r.PathValue("id"), !resume, s.clock.Now())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, s.toV1(c, k))
		return nil
	}
}

func (s *Server) v1Pings(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	limit, err := intParam(r, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	c, err := s.findCheck(r.Context(), k, r.PathValue("id"))
	if err != nil {
		return err
	}
	pings, err := s.db.Pings(r.Context(), c.ID, limit)
	if err != nil {
		return err
	}
	type v1Ping struct {
		*nightjar.Ping
		CheckID  string  `json:"check_id,omitempty"`
		Duration float64 `json:"duration"`
		BodySize int64   `json:"body_size"`
	}
	out := make([]v1Ping, len(pings))
	for i, p := range pings {
		out[i] = v1Ping{Ping: p, CheckID: checkIDFor(k, p.CheckID), Duration: p.Duration.Seconds(), BodySize: p.BodySize}
	}
	writeJSON(w, http.StatusOK, map[string]any{"pings": out})
	return nil
}

func (s *Server) v1Flips(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	c, err := s.findCheck(r.Context(), k, r.PathValue("id"))
	if err != nil {
		return err
	}
	flips, err := s.db.Flips(r.Context(), c.ID, time.Time{}, 1000)
	if err != nil {
		return err
	}
	type v1Flip struct {
		*nightjar.Flip
		CheckID string `json:"check_id,omitempty"`
	}
	out := make([]v1Flip, len(flips))
	for i, f := range flips {
		out[i] = v1Flip{Flip: f, CheckID: checkIDFor(k, f.CheckID)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"flips": out})
	return nil
}

// checkFilter reads the tag and slug filters that both APIs' check lists
// take. A filter that is not valid text could match nothing, and says so.
func checkFilter(r *http.Request) (store.CheckFilter, error) {
	q := r.URL.Query()
	f := store.CheckFilter{Tags: q["tag"], Slug: q.Get("slug")}
	if !nightjar.ValidText(f.Slug) {
		return f, nightjar.TextFieldError("slug")
	}
	for _, t := range f.Tags {
		if !nightjar.ValidText(t) {
			return f, nightjar.TextFieldError("tag")
		}
	}
	return f, nil
}

// checkIDFor is how a check's id is shown to k: as is to read-write keys,
// left out for read-only ones, which address checks by unique key.
func checkIDFor(k *nightjar.APIKey, id string) string {
	if k.ReadOnly() {
		return ""
	}
	return id
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, nightjar.FieldError(name, "must be a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

// v1SchedulePreview answers "when would this schedule (cron or OnCalendar)
// run next?", for the console and for scripts. It needs no API key: it
// reads nothing.
func (s *Server) v1SchedulePreview(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	expr := q.Get("schedule")
	if expr == "" {
		s.writeError(w, r, nightjar.FieldError("schedule", "is required, e.g. schedule=0 2 * * *"))
		return
	}
	cr, err := schedule.Parse(expr)
	if err != nil {
		s.writeError(w, r, nightjar.FieldError("schedule", "%v", err))
		return
	}
	tz := q.Get("tz")
	if tz == "" {
		tz = "UTC"
	}
	loc, err := nightjar.LoadLocation(tz)
	if err != nil {
		s.writeError(w, r, nightjar.FieldError("tz", "must be an IANA time zone name such as Europe/Berlin"))
		return
	}
	after := s.clock.Now()
	if v := q.Get("after"); v != "" {
		if after, err = time.Parse(time.RFC3339, v); err != nil {
			s.writeError(w, r, nightjar.FieldError("after", "must be an RFC 3339 time such as 2026-03-29T00:00:00Z"))
			return
		}
	}
	n, err := intParam(r, "n", 5, 1, 100)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	desc, _ := schedule.Describe(expr)
	times := []string{}
	t := after
	for i := 0; i < n; i++ {
		t = cr.Next(t, loc)
		if t.IsZero() {
			break
		}
		times = append(times, t.In(loc).Format(time.RFC3339))
	}
	writeJSON(w, http.StatusOK, map[string]any{"schedule": expr, "tz": tz, "description": desc, "next": times})
}

func (s *Server) v1Notification(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	it, err := s.outbox.Entry(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := map[string]any{
		"id": it.ID, "event": it.Event, "status": it.Status, "attempts": it.Attempts,
		"last_error": it.LastError, "created_at": it.CreatedAt, "sent_at": timePtr(it.SentAt), "next_attempt_at": timePtr(it.NextAttemptAt),
	}
	if it.To.Kind == outbox.ToChannel {
		out["channel_id"] = it.To.ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) v1Alerts(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	alerts, err := s.db.Alerts(r.Context(), k.ProjectID)
	if err != nil {
		return err
	}
	if k.ReadOnly() {
		for _, a := range alerts {
			hideCheckID(a)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": alerts})
	return nil
}

// hideCheckID replaces the UUID of the check behind an alert, wherever the
// alert carries it (dedup key, source id, a summary of an unnamed check),
// with the check's unique key, for keys that must not learn ping URLs.
func hideCheckID(a *nightjar.Alert) {
	if a.Source != "check" || a.SourceID == "" {
		return
	}
	id, key := a.SourceID, uniqueKey(a.SourceID)
	a.SourceID = key
	a.DedupKey = strings.ReplaceAll(a.DedupKey, id, key)
	a.Summary = strings.ReplaceAll(a.Summary, id, key)
	for name, v := range a.Details {
		a.Details[name] = strings.ReplaceAll(v, id, key)
	}
}
