package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/oncall"
)

// The questions an on-call schedule answers, over the API: who is on call
// at an instant, the shifts of a range, the next handoffs. Overrides are
// added and removed one at a time, the schedule's other settings are
// replaced whole with PUT (v1_incident_config.go).

// compiledSchedule loads the key's project's schedule named by the path.
func (s *Server) compiledSchedule(r *http.Request, k *nightjar.APIKey) (*incidents.Schedule, *oncall.Schedule, error) {
	sc, err := s.incidents.Schedules().Get(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return nil, nil, err
	}
	c, err := sc.Compile()
	return sc, c, err
}

// timeParam reads an RFC 3339 query parameter, def when it is absent.
func timeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, nightjar.FieldError(name, "must be an RFC 3339 time such as 2024-03-04T09:00:00Z")
	}
	return t, nil
}

func (s *Server) v1OnCall(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	at, err := timeParam(r, "at", s.clock.Now())
	if err != nil {
		return err
	}
	_, c, err := s.compiledSchedule(r, k)
	if err != nil {
		return err
	}
	users := c.OnCallAt(at)
	if users == nil {
		users = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"at": at.In(c.Location()), "users": users})
	return nil
}

func (s *Server) v1Shifts(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	now := s.clock.Now()
	from, err := timeParam(r, "from", now)
	if err != nil {
		return err
	}
	to, err := timeParam(r, "to", from.Add(7*24*time.Hour))
	if err != nil {
		return err
	}
	if !to.After(from) {
		return nightjar.FieldError("to", "must be after from")
	}
	if to.Sub(from) > oncall.MaxRange {
		return nightjar.FieldError("to", "must be at most %d days after from", int(oncall.MaxRange.Hours()/24))
	}
	_, c, err := s.compiledSchedule(r, k)
	if err != nil {
		return err
	}
	shifts, err := c.Shifts(from, to)
	if err != nil {
		return err
	}
	if shifts == nil {
		shifts = []oncall.Shift{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "shifts": shifts})
	return nil
}

func (s *Server) v1Handoffs(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	at, err := timeParam(r, "at", s.clock.Now())
	if err != nil {
		return err
	}
	n, err := intParam(r, "n", 5, 1, 100)
	if err != nil {
		return err
	}
	_, c, err := s.compiledSchedule(r, k)
	if err != nil {
		return err
	}
	hs := c.NextHandoffs(at, n)
	if hs == nil {
		hs = []oncall.Handoff{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"handoffs": hs})
	return nil
}

// editSchedule changes the key's project's schedule named by the path
// with fn, then validates and stores it as PUT would, and answers with it.
func (s *Server) editSchedule(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey, status int, fn func(d *oncall.Definition) error) (string, error) {
	sc, err := s.incidents.Schedules().Get(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	if err := fn(&sc.Definition); err != nil {
		return "", err
	}
	if err := s.incidents.Schedules().Update(r.Context(), k.ProjectID, sc); err != nil {
		return "", err
	}
	writeJSON(w, status, scheduleKind.Show(sc))
	return scheduleKind.target(sc), nil
}

// v1AddOverride appends an override: its users are references to the
// project's members, resolved as a schedule's are.
func (s *Server) v1AddOverride(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	var o oncall.Override
	if err := decodeJSON(r, &o); err != nil {
		return "", err
	}
	return s.editSchedule(w, r, k, http.StatusCreated, func(d *oncall.Definition) error {
		d.Overrides = append(d.Overrides, o)
		sp := scheduleKind.Show(&incidents.Schedule{Name: "-", Definition: *d})
		_, resolved, err := sp.Resolved(s.incidents.Resolver(r.Context(), k.ProjectID))
		*d = resolved
		return err
	})
}

// v1RemoveOverride removes the override at index n (from 0, as listed).
func (s *Server) v1RemoveOverride(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	return s.editSchedule(w, r, k, http.StatusOK, func(d *oncall.Definition) error {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < 0 || n >= len(d.Overrides) {
			return nightjar.Errorf(nightjar.ENOTFOUND, "the schedule has no override %s", r.PathValue("n"))
		}
		d.Overrides = append(d.Overrides[:n:n], d.Overrides[n+1:]...)
		return nil
	})
}
