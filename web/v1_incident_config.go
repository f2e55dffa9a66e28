package web

import (
	"net/http"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
)

// The objects people configure for incident response (services, teams,
// escalation policies, on-call schedules, silences, maintenance windows)
// are created, read, replaced and deleted alike: a body is decoded into
// the object's spec from the incident package, which builds and validates
// the object (the one place that decides, shared with `nightjar apply`
// and the console), references by id or name are resolved within the
// key's project, and the incidents area stores it. A PUT states the
// object whole, as a configuration file does. Objects of other projects
// are not found.

// configKind is one kind of configuration object over the API.
type configKind[T, S any] struct{ incidents.Kind[T, S] }

// routes serves the kind's list and create at path, and get, replace and
// delete at path/{id}.
func (k configKind[T, S]) routes(s *Server, path string) {
	s.mux.HandleFunc("GET "+path, s.read(k.list(s)))
	s.mux.HandleFunc("POST "+path, s.change(k.create(s)))
	s.mux.HandleFunc("GET "+path+"/{id}", s.read(k.get(s)))
	s.mux.HandleFunc("PUT "+path+"/{id}", s.change(k.replace(s)))
	s.mux.HandleFunc("DELETE "+path+"/{id}", s.change(k.remove(s)))
}

func (c configKind[T, S]) target(v *T) string {
	name, id := c.Label(v)
	return c.What + " " + name + " (" + id + ")"
}

func (c configKind[T, S]) list(s *Server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
		vs, err := c.Objects(s.incidents).List(r.Context(), k.ProjectID)
		if err != nil {
			return err
		}
		out := make([]S, len(vs))
		for i, v := range vs {
			out[i] = c.Show(v)
		}
		writeJSON(w, http.StatusOK, map[string]any{c.Plural: out})
		return nil
	}
}

func (c configKind[T, S]) get(s *Server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
		v, err := c.Objects(s.incidents).Get(r.Context(), k.ProjectID, r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, c.Show(v))
		return nil
	}
}

// decode reads a spec and builds its object; id, when set, is the path's
// and wins over the body's.
func (c configKind[T, S]) decode(s *Server, r *http.Request, k *nightjar.APIKey) (*T, error) {
	var sp S
	if err := decodeJSON(r, &sp); err != nil {
		return nil, err
	}
	if id := r.PathValue("id"); id != "" {
		c.SetID(&sp, id)
	}
	return c.Build(&sp, s.incidents.Resolver(r.Context(), k.ProjectID), s.clock.Now())
}

func (c configKind[T, S]) create(s *Server) changeHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
		v, err := c.decode(s, r, k)
		if err != nil {
			return "", err
		}
		if err := c.Objects(s.incidents).Create(r.Context(), k.ProjectID, v, s.clock.Now()); err != nil {
			return "", err
		}
		writeJSON(w, http.StatusCreated, c.Show(v))
		return c.target(v), nil
	}
}

func (c configKind[T, S]) replace(s *Server) changeHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
		if _, err := c.Objects(s.incidents).Get(r.Context(), k.ProjectID, r.PathValue("id")); err != nil {
			return "", err
		}
		v, err := c.decode(s, r, k)
		if err != nil {
			return "", err
		}
		if err := c.Objects(s.incidents).Update(r.Context(), k.ProjectID, v); err != nil {
			return "", err
		}
		writeJSON(w, http.StatusOK, c.Show(v))
		return c.target(v), nil
	}
}

func (c configKind[T, S]) remove(s *Server) changeHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
		o := c.Objects(s.incidents)
		v, err := o.Get(r.Context(), k.ProjectID, r.PathValue("id"))
		if err != nil {
			return "", err
		}
		_, id := c.Label(v)
		if err := o.Delete(r.Context(), k.ProjectID, id); err != nil {
			return "", err
		}
		w.WriteHeader(http.StatusNoContent)
		return c.target(v), nil
	}
}

var (
	serviceKind     = configKind[incident.Service, incident.ServiceSpec]{incidents.ServiceKind}
	teamKind        = configKind[incident.Team, incident.TeamSpec]{incidents.TeamKind}
	policyKind      = configKind[incident.Policy, incident.PolicySpec]{incidents.PolicyKind}
	scheduleKind    = configKind[incidents.Schedule, incident.ScheduleSpec]{incidents.ScheduleKind}
	silenceKind     = configKind[incident.Silence, incident.SilenceSpec]{incidents.SilenceKind}
	maintenanceKind = configKind[incident.Maintenance, incident.MaintenanceSpec]{incidents.MaintenanceKind}
)
