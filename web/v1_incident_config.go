package web

import (
	"net/http"
	"time"

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
type configKind[T, S any] struct {
	// what names the kind in the audit log and list, its plural.
	what, plural string
	objects      func(*incidents.Store) incidents.Objects[T]
	// build makes the object a spec states; show is how an object is
	// written back; label names one for the audit log.
	build func(sp *S, resolve incident.Resolver, now time.Time) (*T, error)
	show  func(*T) S
	label func(*T) (name, id string)
	// setID puts the path's id into a spec.
	setID func(*S, string)
}

func (c configKind[T, S]) target(v *T) string {
	name, id := c.label(v)
	return c.what + " " + name + " (" + id + ")"
}

func (c configKind[T, S]) list(s *Server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
		vs, err := c.objects(s.incidents).List(r.Context(), k.ProjectID)
		if err != nil {
			return err
		}
		out := make([]S, len(vs))
		for i, v := range vs {
			out[i] = c.show(v)
		}
		writeJSON(w, http.StatusOK, map[string]any{c.plural: out})
		return nil
	}
}

func (c configKind[T, S]) get(s *Server) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
		v, err := c.objects(s.incidents).Get(r.Context(), k.ProjectID, r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, c.show(v))
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
		c.setID(&sp, id)
	}
	return c.build(&sp, s.incidents.Resolver(r.Context(), k.ProjectID), s.clock.Now())
}

func (c configKind[T, S]) create(s *Server) changeHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
		v, err := c.decode(s, r, k)
		if err != nil {
			return "", err
		}
		if err := c.objects(s.incidents).Create(r.Context(), k.ProjectID, v, s.clock.Now()); err != nil {
			return "", err
		}
		writeJSON(w, http.StatusCreated, c.show(v))
		return c.target(v), nil
	}
}

func (c configKind[T, S]) replace(s *Server) changeHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
		if _, err := c.objects(s.incidents).Get(r.Context(), k.ProjectID, r.PathValue("id")); err != nil {
			return "", err
		}
		v, err := c.decode(s, r, k)
		if err != nil {
			return "", err
		}
		if err := c.objects(s.incidents).Update(r.Context(), k.ProjectID, v); err != nil {
			return "", err
		}
		writeJSON(w, http.StatusOK, c.show(v))
		return c.target(v), nil
	}
}

func (c configKind[T, S]) remove(s *Server) changeHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
		o := c.objects(s.incidents)
		v, err := o.Get(r.Context(), k.ProjectID, r.PathValue("id"))
		if err != nil {
			return "", err
		}
		_, id := c.label(v)
		if err := o.Delete(r.Context(), k.ProjectID, id); err != nil {
			return "", err
		}
		w.WriteHeader(http.StatusNoContent)
		return c.target(v), nil
	}
}

var serviceKind = configKind[incident.Service, incident.ServiceSpec]{
	what: "service", plural: "services", objects: (*incidents.Store).Services,
	build: func(sp *incident.ServiceSpec, resolve incident.Resolver, _ time.Time) (*incident.Service, error) {
		return sp.Service(resolve)
	},
	show:  incident.ServiceSpecOf,
	label: func(v *incident.Service) (string, string) { return v.Name, v.ID },
	setID: func(sp *incident.ServiceSpec, id string) { sp.ID = id },
}

var teamKind = configKind[incident.Team, incident.TeamSpec]{
	what: "team", plural: "teams", objects: (*incidents.Store).Teams,
	build: func(sp *incident.TeamSpec, resolve incident.Resolver, _ time.Time) (*incident.Team, error) {
		return sp.Team(resolve)
	},
	show:  incident.TeamSpecOf,
	label: func(v *incident.Team) (string, string) { return v.Name, v.ID },
	setID: func(sp *incident.TeamSpec, id string) { sp.ID = id },
}

var policyKind = configKind[incident.Policy, incident.PolicySpec]{
	what: "escalation policy", plural: "escalation_policies", objects: (*incidents.Store).Policies,
	build: func(sp *incident.PolicySpec, resolve incident.Resolver, _ time.Time) (*incident.Policy, error) {
		return sp.Policy(resolve)
	},
	show:  incident.PolicySpecOf,
	label: func(v *incident.Policy) (string, string) { return v.Name, v.ID },
	setID: func(sp *incident.PolicySpec, id string) { sp.ID = id },
}

var scheduleKind = configKind[incidents.Schedule, incident.ScheduleSpec]{
	what: "schedule", plural: "schedules", objects: (*incidents.Store).Schedules,
	build: func(sp *incident.ScheduleSpec, resolve incident.Resolver, _ time.Time) (*incidents.Schedule, error) {
		name, def, err := sp.Resolved(resolve)
		if err != nil {
			return nil, err
		}
		return &incidents.Schedule{ID: sp.ID, Name: name, Definition: def}, nil
	},
	show: func(v *incidents.Schedule) incident.ScheduleSpec {
		return incident.ScheduleSpec{ID: v.ID, Name: v.Name, Definition: v.Definition}
	},
	label: func(v *incidents.Schedule) (string, string) { return v.Name, v.ID },
	setID: func(sp *incident.ScheduleSpec, id string) { sp.ID = id },
}

var silenceKind = configKind[incident.Silence, incident.SilenceSpec]{
	what: "silence", plural: "silences", objects: (*incidents.Store).Silences,
	build: func(sp *incident.SilenceSpec, _ incident.Resolver, now time.Time) (*incident.Silence, error) {
		if sp.StartsAt.IsZero() {
			sp.StartsAt = now // as in Alertmanager: a silence without a start starts now
		}
		return sp.Silence()
	},
	show:  incident.SilenceSpecOf,
	label: func(v *incident.Silence) (string, string) { return v.Matchers.String(), v.ID },
	setID: func(sp *incident.SilenceSpec, id string) { sp.ID = id },
}

var maintenanceKind = configKind[incident.Maintenance, incident.MaintenanceSpec]{
	what: "maintenance window", plural: "maintenance_windows", objects: (*incidents.Store).Maintenance,
	build: func(sp *incident.MaintenanceSpec, _ incident.Resolver, _ time.Time) (*incident.Maintenance, error) {
		return sp.Maintenance()
	},
	show:  incident.MaintenanceSpecOf,
	label: func(v *incident.Maintenance) (string, string) { return v.Name, v.ID },
	setID: func(sp *incident.MaintenanceSpec, id string) { sp.ID = id },
}
