package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
)

// A project's routing rules are one ordered list: the first rule whose
// matchers all hold decides. The API reads and replaces the whole list,
// as a configuration file states it, so an order is never half-changed.

func (s *Server) v1Routes(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	routes, err := s.incidents.Routes(r.Context(), k.ProjectID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"routes": incident.RouteSpecsOf(routes)})
	return nil
}

type v1RoutesInput struct {
	Routes []incident.RouteSpec `json:"routes"`
}

func (s *Server) v1SetRoutes(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	var in v1RoutesInput
	if err := decodeJSON(r, &in); err != nil {
		return "", err
	}
	routes, err := incident.Routes(in.Routes, s.incidents.Resolver(r.Context(), k.ProjectID))
	if err != nil {
		return "", err
	}
	if err := s.incidents.SetRoutes(r.Context(), k.ProjectID, routes); err != nil {
		return "", err
	}
	writeJSON(w, http.StatusOK, map[string]any{"routes": incident.RouteSpecsOf(routes)})
	return "routes", nil
}

// v1ExpireSilence ends a silence now, as Alertmanager's expire does; the
// silence is kept, so the record shows it. An expired one stays as it is.
func (s *Server) v1ExpireSilence(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	o := s.incidents.Silences()
	sl, err := o.Get(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	now := s.clock.Now()
	if sl.EndsAt.After(now) {
		sl.EndsAt = now
		if !sl.StartsAt.Before(now) {
			// A silence that has not begun ends as it begins.
			sl.StartsAt = now.Add(-time.Millisecond)
		}
		if err := o.Update(r.Context(), k.ProjectID, sl); err != nil {
			return "", err
		}
	}
	writeJSON(w, http.StatusOK, incident.SilenceSpecOf(sl))
	return silenceKind.target(sl), nil
}

// v1TeamMemberInput names a user to add to a team, by id or email.
type v1TeamMemberInput struct {
	User string `json:"user"`
}

func (s *Server) editTeam(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey, fn func(t *incident.TeamSpec) error) (string, error) {
	t, err := s.incidents.Teams().Get(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	sp := incident.TeamSpecOf(t)
	if err := fn(&sp); err != nil {
		return "", err
	}
	t, err = sp.Team(s.incidents.Resolver(r.Context(), k.ProjectID))
	if err != nil {
		return "", err
	}
	if err := s.incidents.Teams().Update(r.Context(), k.ProjectID, t); err != nil {
		return "", err
	}
	writeJSON(w, http.StatusOK, incident.TeamSpecOf(t))
	return teamKind.target(t), nil
}

// v1AddTeamMember adds a member of the project to a team; one already
// in it stays once.
func (s *Server) v1AddTeamMember(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	var in v1TeamMemberInput
	if err := decodeJSON(r, &in); err != nil {
		return "", err
	}
	return s.editTeam(w, r, k, func(t *incident.TeamSpec) error {
		id, err := s.incidents.Resolver(r.Context(), k.ProjectID)(incident.RefUser, "user", in.User)
		if err != nil {
			return err
		}
		if !slices.Contains(t.Members, id) {
			t.Members = append(t.Members, id)
		}
		return nil
	})
}

// v1RemoveTeamMember takes a user (by id or email) off a team.
func (s *Server) v1RemoveTeamMember(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	return s.editTeam(w, r, k, func(t *incident.TeamSpec) error {
		ref := r.PathValue("user")
		i := slices.Index(t.Members, ref)
		if id, err := s.incidents.Resolver(r.Context(), k.ProjectID)(incident.RefUser, "user", ref); i < 0 && err == nil {
			i = slices.Index(t.Members, id)
		}
		if i < 0 {
			return nightjar.Errorf(nightjar.ENOTFOUND, "the team has no member %s", ref)
		}
		t.Members = slices.Delete(t.Members, i, i+1)
		return nil
	})
}
