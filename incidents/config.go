package incidents

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/oncall"
	"github.com/nightjar-dev/nightjar/store"
)

// Schedule is an on-call schedule of a project: a name and the
// definition the oncall package evaluates.
type Schedule struct {
	ID         string
	Name       string
	Definition oncall.Definition
}

// Validate returns a field error naming the first problem of the schedule.
func (s *Schedule) Validate() error {
	if err := requireName(s.Name); err != nil {
		return err
	}
	return s.Definition.Validate()
}

// Compile returns the schedule ready to answer who is on call.
func (s *Schedule) Compile() (*oncall.Schedule, error) { return oncall.New(s.Definition) }

// requireName refuses an empty or overlong name: the objects people
// configure are named, so that a configuration file can refer to them.
func requireName(name string) error {
	if name == "" {
		return nightjar.FieldError("name", "is required")
	}
	if !nightjar.ValidText(name) || len([]rune(name)) > incident.MaxNameLength {
		return nightjar.FieldError("name", "must be at most %d characters of valid text", incident.MaxNameLength)
	}
	return nil
}

// decode reads a JSON column back; what names it in errors.
func decode(s, what string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}

// matcherStrings is the stored form of matchers: each in the syntax
// ParseMatcher reads back.
func matcherStrings(ms incident.Matchers) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

func parseStoredMatchers(s string) (incident.Matchers, error) {
	var list []string
	if err := decode(s, "matchers", &list); err != nil {
		return nil, err
	}
	ms := make(incident.Matchers, 0, len(list))
	for _, m := range list {
		pm, err := incident.ParseMatcher(m)
		if err != nil {
			return nil, fmt.Errorf("stored matcher %q: %w", m, err)
		}
		ms = append(ms, pm)
	}
	return ms, nil
}

// Services.

var services = &table[incident.Service]{
	name: "incident_services", what: "service", order: "name",
	cols:     []string{"name", "team_id", "tier", "labels", "runbook_url", "description", "auto_resolve", "group_window"},
	id:       func(v *incident.Service) *string { return &v.ID },
	validate: (*incident.Service).Validate,
	values: func(v *incident.Service) []any {
		labels := v.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		return []any{v.Name, v.Team, v.Tier, store.JSON(labels), v.RunbookURL, v.Description, v.Config.AutoResolve, store.DurationMillis(v.Config.GroupWindow)}
	},
	scan: func(row store.Row) (*incident.Service, error) {
		var v incident.Service
		var labels string
		var window int64
		if err := row.Scan(&v.ID, &v.Name, &v.Team, &v.Tier, &labels, &v.RunbookURL, &v.Description, &v.Config.AutoResolve, &window); err != nil {
			return nil, err
		}
		v.Config.GroupWindow = store.Duration(window)
		return &v, decode(labels, "service labels", &v.Labels)
	},
	refs: func(ctx context.Context, tx *store.Tx, projectID string, v *incident.Service) error {
		if v.Team == "" {
			return nil
		}
		return exists(ctx, tx, "team", "team", `SELECT 1 FROM incident_teams WHERE id = $1 AND project_id = $2`, v.Team, projectID)
	},
}

// ServiceByName returns the project's service with the name an alert's
// service field holds; ENOTFOUND when there is none.
func (s *Store) ServiceByName(ctx context.Context, projectID, name string) (*incident.Service, error) {
	v, err := services.scan(s.read().QueryRow(ctx, services.selectSQL()+" WHERE project_id = $1 AND name = $2", projectID, name))
	if err := store.ScanError(err, "service"); err != nil {
		return nil, err
	}
	return v, nil
}

// Teams.

var teams = &table[incident.Team]{
	name: "incident_teams", what: "team", order: "name",
	cols:     []string{"name", "members", "policy_id"},
	id:       func(v *incident.Team) *string { return &v.ID },
	validate: (*incident.Team).Validate,
	values: func(v *incident.Team) []any {
		members := v.Members
		if members == nil {
			members = []string{}
		}
		return []any{v.Name, store.JSON(members), v.Policy}
	},
	scan: func(row store.Row) (*incident.Team, error) {
		var v incident.Team
		var members string
		if err := row.Scan(&v.ID, &v.Name, &members, &v.Policy); err != nil {
			return nil, err
		}
		return &v, decode(members, "team members", &v.Members)
	},
	refs: func(ctx context.Context, tx *store.Tx, projectID string, v *incident.Team) error {
		for i, m := range v.Members {
			if err := member(ctx, tx, fmt.Sprintf("members[%d]", i), projectID, m); err != nil {
				return err
			}
		}
		if v.Policy == "" {
			return nil
		}
		return exists(ctx, tx, "policy", "escalation policy", `SELECT 1 FROM escalation_policies WHERE id = $1 AND project_id = $2`, v.Policy, projectID)
	},
	inUse: func(ctx context.Context, tx *store.Tx, projectID, id string) error {
		return unused(ctx, tx, "team", "service", `SELECT 1 FROM incident_services WHERE project_id = $1 AND team_id = $2`, projectID, id)
	},
}

// member returns a field error unless user is a member of the project.
func member(ctx context.Context, tx *store.Tx, field, projectID, user string) error {
	return exists(ctx, tx, field, "member", `SELECT 1 FROM project_members WHERE project_id = $1 AND user_id = $2`, projectID, user)
}

// Escalation policies.

// storedPolicy is a policy's definition column.
type storedPolicy struct {
	Steps        []incident.Step   `json:"steps"`
	Repeat       int               `json:"repeat"`
	WorkingHours []incident.Window `json:"working_hours"`
}

var policies = &table[incident.Policy]{
	name: "escalation_policies", what: "escalation policy", order: "name",
	cols: []string{"name", "definition"},
	id:   func(v *incident.Policy) *string { return &v.ID },
	validate: func(v *incident.Policy) error {
		if err := requireName(v.Name); err != nil {
			return err
		}
		return v.Validate()
	},
	values: func(v *incident.Policy) []any {
		return []any{v.Name, store.JSON(storedPolicy{v.Steps, v.Repeat, v.WorkingHours})}
	},
	scan: func(row store.Row) (*incident.Policy, error) {
		var v incident.Policy
		var def string
		if err := row.Scan(&v.ID, &v.Name, &def); err != nil {
			return nil, err
		}
		var sp storedPolicy
		if err := decode(def, "policy", &sp); err != nil {
			return nil, err
		}
		v.Steps, v.Repeat, v.WorkingHours = sp.Steps, sp.Repeat, sp.WorkingHours
		return &v, nil
	},
	refs: func(ctx context.Context, tx *store.Tx, projectID string, v *incident.Policy) error {
		for i, st := range v.Steps {
			for j, t := range st.Targets {
				field := fmt.Sprintf("steps[%d].targets[%d].id", i, j)
				var err error
				switch t.Kind {
				case incident.TargetUser:
					err = member(ctx, tx, field, projectID, t.ID)
				case incident.TargetSchedule:
					err = exists(ctx, tx, field, "schedule", `SELECT 1 FROM oncall_schedules WHERE id = $1 AND project_id = $2`, t.ID, projectID)
				case incident.TargetChannel:
					err = exists(ctx, tx, field, "channel", `SELECT 1 FROM channels WHERE id = $1 AND project_id = $2`, t.ID, projectID)
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	},
	inUse: func(ctx context.Context, tx *store.Tx, projectID, id string) error {
		if err := unused(ctx, tx, "escalation policy", "team", `SELECT 1 FROM incident_teams WHERE project_id = $1 AND policy_id = $2`, projectID, id); err != nil {
			return err
		}
		return unused(ctx, tx, "escalation policy", "route", `SELECT 1 FROM incident_routes WHERE project_id = $1 AND policy_id = $2`, projectID, id)
	},
}

// Schedules.

var schedules = &table[Schedule]{
	name: "oncall_schedules", what: "schedule", order: "name",
	cols:     []string{"name", "definition"},
	id:       func(v *Schedule) *string { return &v.ID },
	validate: (*Schedule).Validate,
	values:   func(v *Schedule) []any { return []any{v.Name, store.JSON(v.Definition)} },
	scan: func(row store.Row) (*Schedule, error) {
		var v Schedule
		var def string
		if err := row.Scan(&v.ID, &v.Name, &def); err != nil {
			return nil, err
		}
		return &v, decode(def, "schedule", &v.Definition)
	},
	inUse: func(ctx context.Context, tx *store.Tx, projectID, id string) error {
		ps, err := policies.list(ctx, tx, projectID)
		if err != nil {
			return err
		}
		for _, p := range ps {
			for _, st := range p.Steps {
				for _, t := range st.Targets {
					if t.Kind == incident.TargetSchedule && t.ID == id {
						return nightjar.Errorf(nightjar.ECONFLICT, "the schedule is still paged by escalation policy %s", p.Name)
					}
				}
			}
		}
		return nil
	},
}

// Silences.

var silences = &table[incident.Silence]{
	name: "silences", what: "silence", order: "starts_at, id",
	cols:     []string{"matchers", "starts_at", "ends_at", "created_by", "comment"},
	id:       func(v *incident.Silence) *string { return &v.ID },
	validate: (*incident.Silence).Validate,
	values: func(v *incident.Silence) []any {
		return []any{store.JSON(matcherStrings(v.Matchers)), store.Millis(v.StartsAt), store.Millis(v.EndsAt), v.CreatedBy, v.Comment}
	},
	scan: func(row store.Row) (*incident.Silence, error) {
		var v incident.Silence
		var ms string
		var start, end int64
		if err := row.Scan(&v.ID, &ms, &start, &end, &v.CreatedBy, &v.Comment); err != nil {
			return nil, err
		}
		v.StartsAt, v.EndsAt = store.Time(start), store.Time(end)
		var err error
		v.Matchers, err = parseStoredMatchers(ms)
		return &v, err
	},
}

// Maintenance windows.

var maintenance = &table[incident.Maintenance]{
	name: "maintenance_windows", what: "maintenance window", order: "name, id",
	cols:     []string{"name", "matchers", "time_window"},
	id:       func(v *incident.Maintenance) *string { return &v.ID },
	validate: (*incident.Maintenance).Validate,
	values: func(v *incident.Maintenance) []any {
		return []any{v.Name, store.JSON(matcherStrings(v.Matchers)), store.JSON(v.Window)}
	},
	scan: func(row store.Row) (*incident.Maintenance, error) {
		var v incident.Maintenance
		var ms, w string
		if err := row.Scan(&v.ID, &v.Name, &ms, &w); err != nil {
			return nil, err
		}
		var err error
		if v.Matchers, err = parseStoredMatchers(ms); err != nil {
			return nil, err
		}
		return &v, decode(w, "maintenance window", &v.Window)
	},
}

// Routes.

// SetRoutes replaces a project's routing rules with routes, in order.
// Each route's policy must be one of the project's.
func (s *Store) SetRoutes(ctx context.Context, projectID string, routes []incident.Route) error {
	if err := incident.ValidateRoutes(routes); err != nil {
		return err
	}
	return s.write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM incident_routes WHERE project_id = $1`, projectID); err != nil {
			return fmt.Errorf("delete routes: %w", err)
		}
		for i, r := range routes {
			if r.Policy != "" {
				field := fmt.Sprintf("routes[%d].policy", i)
				if err := exists(ctx, tx, field, "escalation policy", `SELECT 1 FROM escalation_policies WHERE id = $1 AND project_id = $2`, r.Policy, projectID); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO incident_routes (project_id, position, matchers, policy_id, urgency) VALUES ($1, $2, $3, $4, $5)`,
				projectID, i, store.JSON(matcherStrings(r.Matchers)), r.Policy, string(r.Urgency)); err != nil {
				return fmt.Errorf("insert route: %w", err)
			}
		}
		return nil
	})
}

// Routes returns a project's routing rules in order.
func (s *Store) Routes(ctx context.Context, projectID string) ([]incident.Route, error) {
	return store.QueryAll(ctx, s.read(), "list routes", `SELECT matchers, policy_id, urgency FROM incident_routes WHERE project_id = $1 ORDER BY position`,
		func(row store.Row) (incident.Route, error) {
			var r incident.Route
			var ms, urgency string
			if err := row.Scan(&ms, &r.Policy, &urgency); err != nil {
				return r, err
			}
			r.Urgency = nightjar.Severity(urgency)
			var err error
			r.Matchers, err = parseStoredMatchers(ms)
			return r, err
		}, projectID)
}

// OnCall is who is on call for one schedule at an instant.
type OnCall struct {
	Schedule *Schedule
	// Users are user ids, in order of precedence.
	Users []string
}

// OnCallAt answers who is on call at t for each of a project's schedules,
// in the schedules' order: what the overview shows, and what escalation
// pages. A schedule that no longer compiles has nobody.
func (s *Store) OnCallAt(ctx context.Context, projectID string, t time.Time) ([]OnCall, error) {
	list, err := s.Schedules().List(ctx, projectID)
	if err != nil {
		return nil, err
	}
	out := make([]OnCall, 0, len(list))
	for _, sch := range list {
		oc := OnCall{Schedule: sch, Users: []string{}}
		if c, err := sch.Compile(); err == nil {
			oc.Users = c.OnCallAt(t)
		}
		out = append(out, oc)
	}
	return out, nil
}
