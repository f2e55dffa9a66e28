package web

import (
	"net/http"
	"strings"

	"github.com/nightjar-dev/nightjar"
)

// authenticate finds the API key of a request: the X-Api-Key header, or
// bodyKey (the api_key field of a JSON body, as Healthchecks accepts). A
// key must allow what the request does: reads need read-only or better,
// writes need read-write; ping-only keys open no API at all.
func (s *Server) authenticate(r *http.Request, bodyKey string, write bool) (*nightjar.APIKey, error) {
	secret := strings.TrimSpace(r.Header.Get("X-Api-Key"))
	if secret == "" {
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			secret = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
		}
	}
	if secret == "" {
		secret = bodyKey
	}
	if secret == "" {
		return nil, nightjar.Errorf(nightjar.EUNAUTHORIZED, "missing api key: send it in the X-Api-Key header")
	}
	k, err := s.projects.KeyBySecret(r.Context(), secret)
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		return nil, nightjar.Errorf(nightjar.EUNAUTHORIZED, "wrong api key")
	} else if err != nil {
		return nil, err
	}
	switch {
	case k.Scope == nightjar.ScopePingOnly:
		return nil, nightjar.Errorf(nightjar.EFORBIDDEN, "this api key may only send pings")
	case write && k.Scope != nightjar.ScopeReadWrite:
		return nil, nightjar.Errorf(nightjar.EFORBIDDEN, "this api key is read-only")
	}
	if err := s.projects.TouchKey(r.Context(), k, s.clock.Now()); err != nil {
		s.log.Warn("record api key use", "key_id", k.ID, "err", err)
	}
	return k, nil
}

// apiHandler is an API handler that runs with an authenticated key and
// returns its error for the one error writer to answer.
type apiHandler func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error

// read wraps h for endpoints any key but a ping-only one may call.
func (s *Server) read(h apiHandler) http.HandlerFunc { return s.withKey(false, h) }

// write wraps h for endpoints that need a read-write key.
func (s *Server) write(h apiHandler) http.HandlerFunc { return s.withKey(true, h) }

func (s *Server) withKey(write bool, h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serveAPI(w, r, "", write, h) }
}

// withCheckInput decodes a check create or update body, then authenticates
// with the X-Api-Key header or, as Healthchecks allows, the body's api_key.
func (s *Server) withCheckInput(h func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey, in *checkInput) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in checkInput
		if err := decodeJSON(r, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.serveAPI(w, r, in.APIKey, true, func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
			return h(w, r, k, &in)
		})
	}
}

// serveAPI runs h for an authenticated key, answers its error, and audits
// a write that succeeded. A path that is not valid text (an id such as
// %FF or %00) names nothing Nightjar stores, so it is not found, before
// the id reaches a query.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, bodyKey string, write bool, h apiHandler) {
	k, err := s.authenticate(r, bodyKey, write)
	if err == nil && !nightjar.ValidText(r.URL.Path) {
		err = nightjar.Errorf(nightjar.ENOTFOUND, "not found")
	}
	if err == nil {
		err = h(w, r, k)
	}
	if err != nil {
		s.writeError(w, r, err)
	} else if write {
		s.audit(r, k)
	}
}

// audit records a change made through the API in the project's audit log,
// naming the key that made it. A failure to record is logged, not shown.
func (s *Server) audit(r *http.Request, k *nightjar.APIKey) {
	target := r.PathValue("id")
	if target == "" {
		target = r.URL.Path
	}
	err := s.auditLog.Record(r.Context(), nightjar.AuditEntry{ProjectID: k.ProjectID, Actor: "api key " + k.Name + " (" + k.Prefix + "…)",
		Action: r.Method + " " + strings.TrimPrefix(r.Pattern, r.Method+" "), Target: target, CreatedAt: s.clock.Now()})
	if err != nil {
		s.log.Error("write audit log", "request_id", requestID(r.Context()), "err", err)
	}
}
