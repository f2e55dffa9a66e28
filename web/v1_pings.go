package web

import (
	"net/http"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// A check's history over /api/v1: its pings and its status changes. A
// ping's body is served by v3PingBody, at the path of each API.

func (s *Server) v1Pings(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	limit, err := intParam(r, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	c, err := s.findCheck(r.Context(), k, r.PathValue("id"))
	if err != nil {
		return err
	}
	pings, err := s.checks.Pings(r.Context(), c.ID, limit)
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
	flips, err := s.checks.Flips(r.Context(), c.ID, time.Time{}, 1000)
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
