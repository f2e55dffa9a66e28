package web

import (
	"net/http"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// Checks over /api/v1.

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

// toV1 shows a check as k may see it.
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
	limit, offset, err := pageParams(r)
	if err != nil {
		return err
	}
	f, err := checkFilter(r)
	if err != nil {
		return err
	}
	f.Status, f.Limit, f.Offset = status, limit+1, offset
	found, err := s.checks.List(r.Context(), k.ProjectID, f)
	if err != nil {
		return err
	}
	body := map[string]any{}
	found = nextPage(found, limit, offset, body)
	out := make([]v1Check, len(found))
	for i, c := range found {
		out[i] = s.toV1(c, k)
	}
	body["checks"] = out
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) v1GetCheck(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	c, err := s.findCheck(r.Context(), k, r.PathValue("id"))
	if err != nil {
		return err
	}
	s.writeV1Check(w, r, k, c, http.StatusOK)
	return nil
}

// writeV1Check is v1's checkView.
func (s *Server) writeV1Check(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey, c *nightjar.Check, status int) {
	writeJSON(w, status, s.toV1(c, k))
}

// noContent is v1's checkView of a deleted check: nothing.
func noContent(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey, c *nightjar.Check, status int) {
	w.WriteHeader(http.StatusNoContent)
}
