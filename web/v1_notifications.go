package web

import (
	"net/http"

	"github.com/nightjar-dev/nightjar"
)

// v1Notification shows the delivery state of one notification, such as a
// channel's test send.
func (s *Server) v1Notification(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	it, err := s.db.OutboxEntry(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": it.ID, "channel_id": it.Channel.ID, "event": it.Event, "status": it.Status, "attempts": it.Attempts,
		"last_error": it.LastError, "created_at": it.CreatedAt, "sent_at": timePtr(it.SentAt), "next_attempt_at": timePtr(it.NextAttemptAt),
	})
	return nil
}
