package web

import (
	"errors"
	"net/http"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/otlpin"
)

// The event API: requests reported as JSON lines by services without
// tracing, counted like spans (see otlp.go). A batch is taken whole or
// refused whole with a 400 naming the line and the field.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	k, err := s.authenticateIngest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.ingestFull(w) {
		s.writeError(w, r, nightjar.Errorf(nightjar.ERATELIMIT, "ingest is at its memory limit; retry after the next flush"))
		return
	}
	body, err := s.ingestBody(r)
	if err != nil {
		if errors.Is(err, otlpin.ErrTooLarge) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "request body is larger than the ingest limit", "")
			return
		}
		s.writeError(w, r, err)
		return
	}
	service := r.URL.Query().Get("service")
	now := s.clock.Now()
	counted := 0
	n, err := otlpin.DecodeEvents(body, service, func(sp *otlpin.Span) {
		if s.ingest.Observe(k.ProjectID, &sp.Request, sp.User, sp.At, now) {
			counted++
		}
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"accepted": n, "counted": counted})
}
