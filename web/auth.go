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
	k, err := s.db.APIKeyBySecret(r.Context(), secret)
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
	if err := s.db.TouchAPIKey(r.Context(), k, s.clock.Now()); err != nil {
		s.log.Warn("record api key use", "key_id", k.ID, "err", err)
	}
	return k, nil
}
