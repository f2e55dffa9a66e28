package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alertin"
)

// Alerts sent by other monitoring systems, authenticated by an integration
// key rather than an API key: Alertmanager's webhook, with the key in the
// URL (Alertmanager's webhook config takes just a URL), and PagerDuty's
// Events API v2, with the key as the event's routing_key, so a sender
// configured for PagerDuty only changes the URL. Both answer only once
// what they took in is committed.

// maxAlertmanagerBody is the largest Alertmanager payload taken: a group
// of a few thousand alerts with long annotations.
const maxAlertmanagerBody = 8 << 20

// readBody reads a request body of at most limit bytes; a longer one is
// an EINVALID error.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, nightjar.Errorf(nightjar.EINVALID, "request body is larger than %d bytes", limit)
	} else if err != nil {
		return nil, nightjar.Errorf(nightjar.EINVALID, "request body could not be read: %v", err)
	}
	return b, nil
}

// v1AlertmanagerWebhook takes in one Alertmanager notification. An unknown
// or revoked key is 404, as an unknown URL is; a bad payload is 400 naming
// the field; accepted alerts are 200 with how many, which Alertmanager
// ignores (any 2xx is success to it).
func (s *Server) v1AlertmanagerWebhook(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		key := r.PathValue("key")
		if !nightjar.ValidText(key) {
			return nightjar.Errorf(nightjar.ENOTFOUND, "no integration has this key")
		}
		body, err := readBody(r, maxAlertmanagerBody)
		if err != nil {
			return err
		}
		b, err := s.integrations.Alertmanager(r.Context(), key, body, s.clock.Now())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "success", "alerts": len(b.Alerts)})
		return nil
	}()
	if err != nil {
		s.writeError(w, r, err)
	}
}

// v1EnqueueEvent takes in one PagerDuty Events API v2 event and answers as
// PagerDuty does: 202 with the dedup key, or 400 {"status": "invalid
// event", "errors": [...]} naming the field at fault, an unknown
// routing_key included.
func (s *Server) v1EnqueueEvent(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r, alertin.PagerDutyMaxBody+1)
	var e *alertin.PagerDutyEvent
	if err == nil {
		e, err = s.integrations.PagerDuty(r.Context(), body, s.clock.Now())
	}
	switch {
	case err == nil:
		writeJSON(w, http.StatusAccepted, alertin.PagerDutyAccepted(e.DedupKey))
	case nightjar.ErrorCode(err) == nightjar.EINVALID:
		writeJSON(w, http.StatusBadRequest, alertin.PagerDutyRejected(err))
	default:
		s.writeError(w, r, err)
	}
}
