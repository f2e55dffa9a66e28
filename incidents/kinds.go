package incidents

import (
	"time"

	"github.com/nightjar-dev/nightjar/incident"
)

// Kind is one kind of configuration object as every front door (the API,
// `nightjar apply`, the console) handles it: how a spec from the incident
// package is built into the object, with its references resolved, and how
// an object is shown again, so that they all read and write the same.
type Kind[T, S any] struct {
	// What names one object, Plural the list (as the API's list key).
	What, Plural string
	Objects      func(*Store) Objects[T]
	// Build makes and validates the object a spec states, as of now.
	Build func(sp *S, resolve incident.Resolver, now time.Time) (*T, error)
	// Show is the spec of an object, references as ids.
	Show func(*T) S
	// Label is an object's name and id, for audit logs and diffs.
	Label func(*T) (name, id string)
	// SetID gives a spec the id of the object it replaces.
	SetID func(*S, string)
}

// ServiceKind is how the front doors handle services.
var ServiceKind = Kind[incident.Service, incident.ServiceSpec]{
	What: "service", Plural: "services", Objects: (*Store).Services,
	Build: func(sp *incident.ServiceSpec, resolve incident.Resolver, _ time.Time) (*incident.Service, error) {
		return sp.Service(resolve)
	},
	Show:  incident.ServiceSpecOf,
	Label: func(v *incident.Service) (string, string) { return v.Name, v.ID },
	SetID: func(sp *incident.ServiceSpec, id string) { sp.ID = id },
}

// TeamKind is how the front doors handle teams.
var TeamKind = Kind[incident.Team, incident.TeamSpec]{
	What: "team", Plural: "teams", Objects: (*Store).Teams,
	Build: func(sp *incident.TeamSpec, resolve incident.Resolver, _ time.Time) (*incident.Team, error) {
		return sp.Team(resolve)
	},
	Show:  incident.TeamSpecOf,
	Label: func(v *incident.Team) (string, string) { return v.Name, v.ID },
	SetID: func(sp *incident.TeamSpec, id string) { sp.ID = id },
}

// PolicyKind is how the front doors handle escalation policies.
var PolicyKind = Kind[incident.Policy, incident.PolicySpec]{
	What: "escalation policy", Plural: "escalation_policies", Objects: (*Store).Policies,
	Build: func(sp *incident.PolicySpec, resolve incident.Resolver, _ time.Time) (*incident.Policy, error) {
		return sp.Policy(resolve)
	},
	Show:  incident.PolicySpecOf,
	Label: func(v *incident.Policy) (string, string) { return v.Name, v.ID },
	SetID: func(sp *incident.PolicySpec, id string) { sp.ID = id },
}

// ScheduleKind is how the front doors handle on-call schedules.
var ScheduleKind = Kind[Schedule, incident.ScheduleSpec]{
	What: "schedule", Plural: "schedules", Objects: (*Store).Schedules,
	Build: func(sp *incident.ScheduleSpec, resolve incident.Resolver, _ time.Time) (*Schedule, error) {
		name, def, err := sp.Resolved(resolve)
		if err != nil {
			return nil, err
		}
		return &Schedule{ID: sp.ID, Name: name, Definition: def}, nil
	},
	Show: func(v *Schedule) incident.ScheduleSpec {
		return incident.ScheduleSpec{ID: v.ID, Name: v.Name, Definition: v.Definition}
	},
	Label: func(v *Schedule) (string, string) { return v.Name, v.ID },
	SetID: func(sp *incident.ScheduleSpec, id string) { sp.ID = id },
}

// SilenceKind is how the front doors handle silences; one without a start starts at now, as in Alertmanager.
var SilenceKind = Kind[incident.Silence, incident.SilenceSpec]{
	What: "silence", Plural: "silences", Objects: (*Store).Silences,
	Build: func(sp *incident.SilenceSpec, _ incident.Resolver, now time.Time) (*incident.Silence, error) {
		if sp.StartsAt.IsZero() {
			sp.StartsAt = now // as in Alertmanager: a silence without a start starts now
		}
		return sp.Silence()
	},
	Show:  incident.SilenceSpecOf,
	Label: func(v *incident.Silence) (string, string) { return v.Matchers.String(), v.ID },
	SetID: func(sp *incident.SilenceSpec, id string) { sp.ID = id },
}

// MaintenanceKind is how the front doors handle maintenance windows.
var MaintenanceKind = Kind[incident.Maintenance, incident.MaintenanceSpec]{
	What: "maintenance window", Plural: "maintenance_windows", Objects: (*Store).Maintenance,
	Build: func(sp *incident.MaintenanceSpec, _ incident.Resolver, _ time.Time) (*incident.Maintenance, error) {
		return sp.Maintenance()
	},
	Show:  incident.MaintenanceSpecOf,
	Label: func(v *incident.Maintenance) (string, string) { return v.Name, v.ID },
	SetID: func(sp *incident.MaintenanceSpec, id string) { sp.ID = id },
}
