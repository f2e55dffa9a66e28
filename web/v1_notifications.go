package web

import (
	"net/http"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/outbox"
)

// v1Notification shows the delivery state of one notification, such as a
// channel's test send.
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
