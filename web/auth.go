package web

import (
	"net/http"
	"strings"

	"github.com/nightjar-dev/nightjar"
)

// authenticate finds the API key of a request: the X-Api-Key header, or
// bodyKey (the api_key field of a JSON body, as Healthchecks accepts). A
// key must allow what the request does: reads need read-only or better,
// writes need read-write; ping-only and ingest keys open no API at all.
func (s *Server) authenticate(r *http.Request, bodyKey string, write bool) (*nightjar.APIKey, error) {
	k, err := s.keyOf(r, bodyKey)
	if err != nil {
		return nil, err
	}
	switch {
	case k.Scope == nightjar.ScopePingOnly:
		return nil, nightjar.Errorf(nightjar.EFORBIDDEN, "this api key may only send pings")
	case k.Scope == nightjar.ScopeIngest:
		return nil, nightjar.Errorf(nightjar.EFORBIDDEN, "this api key may only send spans and events")
	case write && k.Scope != nightjar.ScopeReadWrite:
		return nil, nightjar.Errorf(nightjar.EFORBIDDEN, "this api key is read-only")
	}
	s.touchKey(r, k)
	return k, nil
}

// authenticateIngest finds the API key of a span or event export: an
// ingest key, or a read-write one, in the X-Api-Key header or as a bearer
// token (which OpenTelemetry exporters send with their headers setting).
func (s *Server) authenticateIngest(r *http.Request) (*nightjar.APIKey, error) {
	k, err := s.keyOf(r, "")
	if err != nil {
		return nil, err
	}
	if k.Scope != nightjar.ScopeIngest && k.Scope != nightjar.ScopeReadWrite {
		return nil, nightjar.Errorf(nightjar.EFORBIDDEN, "this api key may not send spans or events; use an ingest or read-write key")
	}
	s.touchKey(r, k)
	return k, nil
}

// keyOf looks up the key a request carries, of any scope.
func (s *Server) keyOf(r *http.Request, bodyKey string) (*nightjar.APIKey, error) {
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
	return k, nil
}

// touchKey records that a key was used; a failure is logged, not shown.
func (s *Server) touchKey(r *http.Request, k *nightjar.APIKey) {
	if err := s.projects.TouchKey(r.Context(), k, s.clock.Now()); err != nil {
		s.log.Warn("record api key use", "key_id", k.ID, "err", err)
	}
}

// apiHandler is an API handler that runs with an authenticated key and
// returns its error for the one error writer to answer.
type apiHandler func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error

// changeHandler is an API handler that changes something. It returns the
// object it changed, named for people reading the audit log ("check
// backup (5f9a…)"), or its error.
type changeHandler func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (changed string, err error)

// Which key a request needs and whether it is audited are two separate
// questions: every change needs a read-write key and is audited, but some
// reads need a read-write key too (what they show could be used to send
// pings, as in Healthchecks), and no read is ever audited, or reading the
// audit log would grow it.

// read wraps h for reads any key but a ping-only one may make.
func (s *Server) read(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serveAPI(w, r, "", false, h) }
}

// readRW wraps h for reads that need a read-write key.
func (s *Server) readRW(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serveAPI(w, r, "", true, h) }
}

// change wraps h for changes: they need a read-write key, and one that
// succeeds is written to the project's audit log with what it changed.
func (s *Server) change(h changeHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serveChange(w, r, "", h) }
}

// checkHandler changes a check as a request body's patch says, and
// returns the check it changed, named for the audit log.
type checkHandler func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey, p *nightjar.CheckPatch) (changed string, err error)

// changeCheck decodes a check create or update body, in v3's format
// (which also takes the fields Healthchecks shows but ignores on input)
// or v1's, then authenticates with the X-Api-Key header or, as
// Healthchecks allows, the body's api_key, and runs h with the body
// translated into a patch.
func (s *Server) changeCheck(v3 bool, h checkHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in v3CheckInput
		var err error
		if v3 {
			err = decodeJSON(r, &in)
		} else {
			err = decodeJSON(r, &in.checkInput)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.serveChange(w, r, in.APIKey, func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
			p, err := in.patch()
			if err != nil {
				return "", err
			}
			return h(w, r, k, p)
		})
	}
}

// serveChange runs h as serveAPI does, with a read-write key, and audits
// the change when it succeeded.
func (s *Server) serveChange(w http.ResponseWriter, r *http.Request, bodyKey string, h changeHandler) {
	s.serveAPI(w, r, bodyKey, true, func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
		changed, err := h(w, r, k)
		if err == nil {
			s.audit(r, k, changed)
		}
		return err
	})
}

// serveAPI runs h for an authenticated key (a read-write one when rw) and
// answers its error. A path that is not valid text (an id such as %FF or
// %00) names nothing Nightjar stores, so it is not found, before the id
// reaches a query.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, bodyKey string, rw bool, h apiHandler) {
	k, err := s.authenticate(r, bodyKey, rw)
	if err == nil && !nightjar.ValidText(r.URL.Path) {
		err = nightjar.Errorf(nightjar.ENOTFOUND, "not found")
	}
	if err == nil {
		err = h(w, r, k)
	}
	if err != nil {
		s.writeError(w, r, err)
	}
}

// audit records a change made through the API in the project's audit log:
// the key that made it, the call (method and route) and the object it
// changed. A failure to record is logged, not shown: the change is made.
func (s *Server) audit(r *http.Request, k *nightjar.APIKey, changed string) {
	err := s.auditLog.Record(r.Context(), nightjar.AuditEntry{ProjectID: k.ProjectID, Actor: "api key " + k.Name + " (" + k.Prefix + "…)",
		Action: r.Method + " " + strings.TrimPrefix(r.Pattern, r.Method+" "), Target: changed, CreatedAt: s.clock.Now()})
	if err != nil {
		s.log.Error("write audit log", "request_id", requestID(r.Context()), "err", err)
	}
}

// channelTarget names a channel in the audit log.
func channelTarget(ch *nightjar.Channel) string { return "channel " + ch.Name + " (" + ch.ID + ")" }
