package web

import (
	"encoding/json"
	"net/http"

	"github.com/nightjar-dev/nightjar"
)

// Channels over the API. Answers never carry a channel's secrets: the
// signing secret and header values are shown as "<redacted>" and the
// URL's tokens are masked (nightjar.Channel.Redacted), because API keys
// end up in scripts and CI logs. A secret is given once, when it is set.
//
// Creating and changing both go through nightjar.ChannelPatch, as the
// console's forms and configuration files do.

func (s *Server) v1ListChannels(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	chs, err := s.channels.List(r.Context(), k.ProjectID)
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

// v1ChannelKinds describes every kind of channel and its settings, as the
// console's form shows them, so a client can build a form of its own.
func (s *Server) v1ChannelKinds(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	writeJSON(w, http.StatusOK, map[string]any{"kinds": nightjar.ChannelKinds()})
	return nil
}

// v1ChannelInput is a channel create body: the channel's settings, as a
// patch of a new channel. A channel as the API shows it may be sent back
// to make a copy: the fields the server sets are taken and ignored.
type v1ChannelInput struct {
	nightjar.ChannelPatch
	ID        json.RawMessage `json:"id"`
	ProjectID json.RawMessage `json:"project_id"`
	CreatedAt json.RawMessage `json:"created_at"`
}

func (s *Server) v1CreateChannel(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	var in v1ChannelInput
	if err := decodeJSON(r, &in); err != nil {
		return "", err
	}
	ch := &nightjar.Channel{ProjectID: k.ProjectID}
	if err := ch.Apply(in.ChannelPatch); err != nil {
		return "", err
	}
	if err := s.channels.Create(r.Context(), ch, s.clock.Now()); err != nil {
		return "", err
	}
	writeJSON(w, http.StatusCreated, ch.Redacted())
	return channelTarget(ch), nil
}

// v1UpdateChannel changes the fields the body names. A new URL needs the
// secret and headers again (nightjar.Channel.Apply says why).
func (s *Server) v1UpdateChannel(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	var p nightjar.ChannelPatch
	if err := decodeJSON(r, &p); err != nil {
		return "", err
	}
	ch, err := s.channels.Edit(r.Context(), k.ProjectID, r.PathValue("id"), func(ch *nightjar.Channel) error { return ch.Apply(p) })
	if err != nil {
		return "", err
	}
	writeJSON(w, http.StatusOK, ch.Redacted())
	return channelTarget(ch), nil
}

func (s *Server) v1DeleteChannel(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	ch, err := s.channels.Get(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	if err := s.channels.Delete(r.Context(), k.ProjectID, ch.ID); err != nil {
		return "", err
	}
	w.WriteHeader(http.StatusNoContent)
	return channelTarget(ch), nil
}

func (s *Server) v1TestChannel(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	ch, err := s.channels.Get(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	id, err := s.channels.SendTest(r.Context(), ch, s.clock.Now())
	if err != nil {
		return "", err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"notification_id": id, "status_url": s.cfg.BaseURL + "/api/v1/notifications/" + id})
	return channelTarget(ch), nil
}
