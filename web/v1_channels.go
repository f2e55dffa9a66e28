package web

import (
	"net/http"

	"github.com/nightjar-dev/nightjar"
)

// Channels over the API. Answers never carry a channel's secrets: the
// signing secret and header values are shown as "<redacted>" and the
// URL's tokens are masked (nightjar.Channel.Redacted), because API keys
// end up in scripts and CI logs. A secret is given once, when it is set.

func (s *Server) v1ListChannels(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	chs, err := s.db.Channels(r.Context(), k.ProjectID)
	if err != nil {
		return err
	}
	out := make([]nightjar.Channel, len(chs))
	for i, ch := range chs {
		out[i] = ch.Redacted()
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": out})
	return nil
}

func (s *Server) v1CreateChannel(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	var ch nightjar.Channel
	if err := decodeJSON(r, &ch); err != nil {
		return err
	}
	ch.ID, ch.ProjectID = "", k.ProjectID
	if err := s.db.CreateChannel(r.Context(), &ch, s.clock.Now()); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ch.Redacted())
	return nil
}

// v1UpdateChannel changes the fields the body names. A new URL needs the
// secret and headers again (nightjar.Channel.Apply says why).
func (s *Server) v1UpdateChannel(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	var u nightjar.ChannelUpdate
	if err := decodeJSON(r, &u); err != nil {
		return err
	}
	ch, err := s.db.EditChannel(r.Context(), k.ProjectID, r.PathValue("id"), func(ch *nightjar.Channel) error { return ch.Apply(u) })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ch.Redacted())
	return nil
}

func (s *Server) v1DeleteChannel(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	if err := s.db.DeleteChannel(r.Context(), k.ProjectID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) v1TestChannel(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	ch, err := s.db.Channel(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return err
	}
	id, err := s.db.EnqueueTest(r.Context(), ch, s.clock.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"notification_id": id, "status_url": s.cfg.BaseURL + "/api/v1/notifications/" + id})
	return nil
}
