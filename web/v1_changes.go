package web

import (
	"net/http"
	"strconv"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alertin"
)

// Changes made to services (deploys, configuration changes): PagerDuty's
// Change Events API with an integration key as routing_key, so a CI step
// written for PagerDuty only changes the URL; Nightjar's own API for
// deploy scripts holding an API key; and a service's recent changes. Each
// change is committed before the answer.

// maxChangeBody is the largest change body Nightjar's own API takes.
const maxChangeBody = 64 << 10

// v1EnqueueChange takes in one PagerDuty change event and answers as
// PagerDuty does: 202, or 400 {"status": "invalid event", "errors": [...]}
// naming the field at fault, an unknown routing_key included. The change
// belongs to the key's service.
func (s *Server) v1EnqueueChange(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		body, err := readBody(r, alertin.PagerDutyMaxBody+1)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		e, err := alertin.DecodePagerDutyChange(body, now)
		if err != nil {
			return err
		}
		k, err := s.integrations.Lookup(r.Context(), e.RoutingKey)
		if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
			return nightjar.FieldError("routing_key", "is not the key of an integration: create one with POST /api/v1/integration-keys")
		} else if err != nil {
			return err
		}
		e.Change.ProjectID, e.Change.Service = k.ProjectID, k.Service
		return s.incidents.RecordChange(r.Context(), &e.Change, now)
	}()
	switch {
	case err == nil:
		writeJSON(w, http.StatusAccepted, alertin.PagerDutyChangeAccepted)
	case nightjar.ErrorCode(err) == nightjar.EINVALID:
		writeJSON(w, http.StatusBadRequest, alertin.PagerDutyRejected(err))
	default:
		s.writeError(w, r, err)
	}
}

// v1RecordChange records a change sent with an API key that may write:
// {service, summary, at, source, links, details}.
func (s *Server) v1RecordChange(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	body, err := readBody(r, maxChangeBody)
	if err != nil {
		return "", err
	}
	now := s.clock.Now()
	c, err := alertin.DecodeChange(body, now)
	if err != nil {
		return "", err
	}
	c.ProjectID = k.ProjectID
	if err := s.incidents.RecordChange(r.Context(), c, now); err != nil {
		return "", err
	}
	writeJSON(w, http.StatusCreated, c)
	return "change " + c.ID + " to service " + c.Service, nil
}

// v1ServiceChanges lists a service's latest changes, newest first; limit
// (1 to 100, default 20) says how many.
func (s *Server) v1ServiceChanges(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	svc, err := serviceKind.Objects(s.incidents).Get(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return err
	}
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nightjar.FieldError("limit", "expected a whole number from 1 to 100")
		}
		limit = n
	}
	changes, err := s.incidents.Changes(r.Context(), k.ProjectID, svc.Name, limit)
	if err != nil {
		return err
	}
	if changes == nil {
		changes = []*nightjar.Change{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"changes": changes})
	return nil
}
