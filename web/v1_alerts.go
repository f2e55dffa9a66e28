package web

import (
	"net/http"
	"strings"

	"github.com/nightjar-dev/nightjar"
)

// v1Alerts lists the project's alerts.
func (s *Server) v1Alerts(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	alerts, err := s.alerts.List(r.Context(), k.ProjectID)
	if err != nil {
		return err
	}
	if k.ReadOnly() {
		for _, a := range alerts {
			hideCheckID(a)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": alerts})
	return nil
}

// hideCheckID replaces the UUID of the check behind an alert, wherever the
// alert carries it (dedup key, source id, a summary of an unnamed check),
// with the check's unique key, for keys that must not learn ping URLs.
func hideCheckID(a *nightjar.Alert) {
	if a.Source != "check" || a.SourceID == "" {
		return
	}
	id, key := a.SourceID, uniqueKey(a.SourceID)
	a.SourceID = key
	a.DedupKey = strings.ReplaceAll(a.DedupKey, id, key)
	a.Summary = strings.ReplaceAll(a.Summary, id, key)
	for name, v := range a.Details {
		a.Details[name] = strings.ReplaceAll(v, id, key)
	}
}
