package web

import (
	"net/http"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/schedule"
)

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
