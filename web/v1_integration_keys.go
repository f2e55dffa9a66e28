package web

import (
	"net/http"

	"github.com/nightjar-dev/nightjar"
)

// Integration keys over the API. A key's secret is in the answer to its
// creation only, with the URLs that use it; lists show its prefix. Listing
// needs a read-write key, since a read-only one must not learn anything
// that lets it send alerts.

func (s *Server) v1ListIntegrationKeys(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	keys, err := s.integrations.List(r.Context(), k.ProjectID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"integration_keys": keys})
	return nil
}

// v1IntegrationKeyInput is an integration key create body.
type v1IntegrationKeyInput struct {
	Name    string `json:"name"`
	Service string `json:"service"`
}

// v1NewIntegrationKey is the answer to a key's creation: the key, its
// secret, and where senders send alerts with it.
type v1NewIntegrationKey struct {
	*nightjar.IntegrationKey
	Key             string `json:"key"`
	AlertmanagerURL string `json:"alertmanager_url"`
	EventsURL       string `json:"events_url"`
}

func (s *Server) v1CreateIntegrationKey(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	var in v1IntegrationKeyInput
	if err := decodeJSON(r, &in); err != nil {
		return "", err
	}
	ik := &nightjar.IntegrationKey{ProjectID: k.ProjectID, Name: in.Name, Service: in.Service}
	secret, err := s.integrations.Create(r.Context(), ik, s.clock.Now())
	if err != nil {
		return "", err
	}
	writeJSON(w, http.StatusCreated, v1NewIntegrationKey{IntegrationKey: ik, Key: secret,
		AlertmanagerURL: s.cfg.BaseURL + "/api/v1/integrations/" + secret + "/alertmanager",
		EventsURL:       s.cfg.BaseURL + "/api/v1/events/v2/enqueue"})
	return integrationKeyTarget(ik), nil
}

func (s *Server) v1RevokeIntegrationKey(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	ik, err := s.integrations.Get(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	if err := s.integrations.Revoke(r.Context(), k.ProjectID, ik.ID, s.clock.Now()); err != nil {
		return "", err
	}
	w.WriteHeader(http.StatusNoContent)
	return integrationKeyTarget(ik), nil
}

// integrationKeyTarget names an integration key in the audit log.
func integrationKeyTarget(k *nightjar.IntegrationKey) string {
	return "integration key " + k.Name + " for service " + k.Service + " (" + k.ID + ")"
}
