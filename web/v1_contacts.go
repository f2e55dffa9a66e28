package web

import (
	"net/http"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
)

// Contact methods and notification rules belong to a person, not to a
// project. The API reaches them through a project the person is a member
// of: /api/v1/users/{user}/… with {user} a member of the key's project,
// by id or email address; anyone else is not found. Because an address or
// a webhook URL is personal, even reading them needs a read-write key.
// A new or changed method is unverified until the code sent to it through
// the outbox (send-code) comes back (verify); only verified methods are
// paged.

// member resolves the path's user among the key's project's members.
func (s *Server) member(r *http.Request, k *nightjar.APIKey) (string, error) {
	id, err := s.incidents.Resolver(r.Context(), k.ProjectID)(incident.RefUser, "user", r.PathValue("user"))
	if nightjar.ErrorCode(err) == nightjar.EINVALID {
		return "", nightjar.Errorf(nightjar.ENOTFOUND, "the project has no member %s", r.PathValue("user"))
	}
	return id, err
}

func methodTarget(user string, m *incident.ContactMethod) string {
	return "contact method " + string(m.Kind) + " " + m.Value + " (" + m.ID + ") of user " + user
}

func (s *Server) v1ContactMethods(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	user, err := s.member(r, k)
	if err != nil {
		return err
	}
	ms, err := s.incidents.ContactMethods(r.Context(), user)
	if err != nil {
		return err
	}
	out := make([]incident.ContactMethodSpec, len(ms))
	for i, m := range ms {
		out[i] = incident.ContactMethodSpecOf(m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"contact_methods": out})
	return nil
}

// decodeMethod reads a contact method body for the path's user.
func (s *Server) decodeMethod(r *http.Request, k *nightjar.APIKey) (string, *incident.ContactMethod, error) {
	user, err := s.member(r, k)
	if err != nil {
		return "", nil, err
	}
	var sp incident.ContactMethodSpec
	if err := decodeJSON(r, &sp); err != nil {
		return "", nil, err
	}
	if id := r.PathValue("id"); id != "" {
		sp.ID = id
	}
	m, err := sp.ContactMethod(user)
	return user, m, err
}

func (s *Server) v1CreateContactMethod(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	user, m, err := s.decodeMethod(r, k)
	if err != nil {
		return "", err
	}
	if err := s.incidents.CreateContactMethod(r.Context(), m, s.clock.Now()); err != nil {
		return "", err
	}
	writeJSON(w, http.StatusCreated, incident.ContactMethodSpecOf(m))
	return methodTarget(user, m), nil
}

func (s *Server) v1UpdateContactMethod(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	user, m, err := s.decodeMethod(r, k)
	if err != nil {
		return "", err
	}
	if err := s.incidents.UpdateContactMethod(r.Context(), m); err != nil {
		return "", err
	}
	writeJSON(w, http.StatusOK, incident.ContactMethodSpecOf(m))
	return methodTarget(user, m), nil
}

// contactMethodOf loads the path's user's method named by the path.
func (s *Server) contactMethodOf(r *http.Request, k *nightjar.APIKey) (string, *incident.ContactMethod, error) {
	user, err := s.member(r, k)
	if err != nil {
		return "", nil, err
	}
	m, err := s.incidents.ContactMethod(r.Context(), user, r.PathValue("id"))
	return user, m, err
}

func (s *Server) v1DeleteContactMethod(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	user, m, err := s.contactMethodOf(r, k)
	if err != nil {
		return "", err
	}
	if err := s.incidents.DeleteContactMethod(r.Context(), user, m.ID); err != nil {
		return "", err
	}
	w.WriteHeader(http.StatusNoContent)
	return methodTarget(user, m), nil
}

// v1SendCode sends the method a new verification code through the
// key's project's outbox.
func (s *Server) v1SendCode(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	user, m, err := s.contactMethodOf(r, k)
	if err != nil {
		return "", err
	}
	if err := s.incidents.SendVerificationCode(r.Context(), k.ProjectID, user, m.ID, s.clock.Now()); err != nil {
		return "", err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"sent": true})
	return methodTarget(user, m), nil
}

type v1VerifyInput struct {
	Code string `json:"code"`
}

func (s *Server) v1VerifyContactMethod(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	user, m, err := s.contactMethodOf(r, k)
	if err != nil {
		return "", err
	}
	var in v1VerifyInput
	if err := decodeJSON(r, &in); err != nil {
		return "", err
	}
	if err := s.incidents.Verify(r.Context(), user, m.ID, in.Code, s.clock.Now()); err != nil {
		return "", err
	}
	m.Verified = true
	writeJSON(w, http.StatusOK, incident.ContactMethodSpecOf(m))
	return methodTarget(user, m), nil
}

func (s *Server) v1NotificationRules(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	user, err := s.member(r, k)
	if err != nil {
		return err
	}
	rules, err := s.incidents.NotificationRules(r.Context(), user)
	if err != nil {
		return err
	}
	out := make([]incident.NotificationRuleSpec, len(rules))
	for i, rule := range rules {
		out[i] = incident.NotificationRuleSpecOf(rule)
	}
	writeJSON(w, http.StatusOK, map[string]any{"notification_rules": out})
	return nil
}

func (s *Server) v1CreateNotificationRule(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	user, err := s.member(r, k)
	if err != nil {
		return "", err
	}
	var sp incident.NotificationRuleSpec
	if err := decodeJSON(r, &sp); err != nil {
		return "", err
	}
	rule, err := sp.NotificationRule(user)
	if err != nil {
		return "", err
	}
	if err := s.incidents.CreateNotificationRule(r.Context(), rule, s.clock.Now()); err != nil {
		return "", err
	}
	writeJSON(w, http.StatusCreated, incident.NotificationRuleSpecOf(rule))
	return "notification rule " + rule.ID + " of user " + user, nil
}

func (s *Server) v1DeleteNotificationRule(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	user, err := s.member(r, k)
	if err != nil {
		return "", err
	}
	if err := s.incidents.DeleteNotificationRule(r.Context(), user, r.PathValue("id")); err != nil {
		return "", err
	}
	w.WriteHeader(http.StatusNoContent)
	return "notification rule " + r.PathValue("id") + " of user " + user, nil
}
