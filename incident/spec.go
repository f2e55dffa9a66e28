package incident

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/oncall"
)

// The objects people configure around incidents come in through three
// front doors: the API's JSON, the YAML of `nightjar apply` and the
// console's forms. Each decodes into the specs below, which carry the
// wire names of every field (the same in JSON and YAML), and each spec
// builds its domain object and validates it in one place, so a field
// means the same and is refused with the same error whichever way it
// came in. Specs state an object whole: a field left out is its default.
//
// Where a spec names another object (a service's team, a step's targets,
// a route's policy, a schedule's participants) it holds a reference that
// a Resolver turns into the object's id: the API shows ids and accepts
// ids or names, a configuration file uses names (and people's email
// addresses), since it cannot know the ids Nightjar makes up.

// RefKind is what kind of object a reference names.
type RefKind string

// Reference kinds.
const (
	RefTeam     RefKind = "team"
	RefPolicy   RefKind = "escalation policy"
	RefSchedule RefKind = "schedule"
	RefChannel  RefKind = "channel"
	RefUser     RefKind = "user"
)

// Resolver returns the id of the project's object of kind that ref names
// (by id or by name; a user by id or email address), or a field error
// naming field when there is none.
type Resolver func(kind RefKind, field, ref string) (string, error)

// Duration is a span of time on the wire: a number of seconds, or a
// string in Go's notation such as "90s" or "1h30m", in JSON and YAML
// alike. It is written back as whole seconds.
type Duration time.Duration

// UnmarshalJSON implements json.Unmarshaler. Its errors are JSON type
// errors, which the decoder tells the field of.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	err := json.Unmarshal(b, &s)
	if err == nil {
		err = d.UnmarshalText([]byte(s))
	} else {
		var secs float64
		if err = json.Unmarshal(b, &secs); err == nil {
			err = d.fromSeconds(secs)
		}
	}
	if err != nil {
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[time.Duration](), Offset: 0}
	}
	return nil
}

// UnmarshalText implements encoding.TextUnmarshaler, which YAML uses.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		return d.fromSeconds(secs)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a number of seconds or a duration such as 90s or 1h", s)
	}
	*d = Duration(v)
	return nil
}

func (d *Duration) fromSeconds(secs float64) error {
	if math.IsNaN(secs) || math.Abs(secs) > float64(math.MaxInt64/int64(time.Second)) {
		return fmt.Errorf("%v seconds is out of range", secs)
	}
	*d = Duration(time.Duration(secs * float64(time.Second)))
	return nil
}

// MarshalJSON writes the duration as seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).Seconds())
}

// MarshalText writes the duration in Go's notation, for YAML.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func optRef(resolve Resolver, kind RefKind, field, ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	return resolve(kind, field, ref)
}

// ServiceSpec is a service on the wire.
type ServiceSpec struct {
	ID   string `json:"id,omitempty" yaml:"id,omitempty"`
	Name string `json:"name" yaml:"name"`
	// Team references the owning team.
	Team        string            `json:"team,omitempty" yaml:"team,omitempty"`
	Tier        string            `json:"tier,omitempty" yaml:"tier,omitempty"`
	Labels      map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	RunbookURL  string            `json:"runbook_url,omitempty" yaml:"runbook_url,omitempty"`
	Description string            `json:"description,omitempty" yaml:"description,omitempty"`
	// AutoResolve and GroupWindow default to DefaultServiceConfig's.
	AutoResolve *bool     `json:"auto_resolve,omitempty" yaml:"auto_resolve,omitempty"`
	GroupWindow *Duration `json:"group_window,omitempty" yaml:"group_window,omitempty"`
}

// Service builds and validates the service the spec states.
func (sp *ServiceSpec) Service(resolve Resolver) (*Service, error) {
	s := &Service{ID: sp.ID, Name: sp.Name, Tier: sp.Tier, Labels: sp.Labels, RunbookURL: sp.RunbookURL,
		Description: sp.Description, Config: DefaultServiceConfig()}
	if sp.AutoResolve != nil {
		s.Config.AutoResolve = *sp.AutoResolve
	}
	if sp.GroupWindow != nil {
		s.Config.GroupWindow = time.Duration(*sp.GroupWindow)
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var err error
	if s.Team, err = optRef(resolve, RefTeam, "team", sp.Team); err != nil {
		return nil, err
	}
	return s, nil
}

// ServiceSpecOf is how a service is shown: references as ids.
func ServiceSpecOf(s *Service) ServiceSpec {
	w := Duration(s.Config.GroupWindow)
	return ServiceSpec{ID: s.ID, Name: s.Name, Team: s.Team, Tier: s.Tier, Labels: s.Labels, RunbookURL: s.RunbookURL,
		Description: s.Description, AutoResolve: &s.Config.AutoResolve, GroupWindow: &w}
}

// TeamSpec is a team on the wire.
type TeamSpec struct {
	ID   string `json:"id,omitempty" yaml:"id,omitempty"`
	Name string `json:"name" yaml:"name"`
	// Members reference users; Policy the default escalation policy.
	Members []string `json:"members" yaml:"members"`
	Policy  string   `json:"policy,omitempty" yaml:"policy,omitempty"`
}

// Team builds and validates the team the spec states.
func (sp *TeamSpec) Team(resolve Resolver) (*Team, error) {
	t := &Team{ID: sp.ID, Name: sp.Name, Members: append([]string{}, sp.Members...), Policy: sp.Policy}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	for i, m := range t.Members {
		id, err := resolve(RefUser, fmt.Sprintf("members[%d]", i), m)
		if err != nil {
			return nil, err
		}
		t.Members[i] = id
	}
	var err error
	if t.Policy, err = optRef(resolve, RefPolicy, "policy", sp.Policy); err != nil {
		return nil, err
	}
	// Two references may name one person.
	return t, t.Validate()
}

// TeamSpecOf is how a team is shown.
func TeamSpecOf(t *Team) TeamSpec {
	return TeamSpec{ID: t.ID, Name: t.Name, Members: nonNil(t.Members), Policy: t.Policy}
}

// WindowSpec is a window of time on the wire (see Window).
type WindowSpec struct {
	Start    *time.Time `json:"start,omitempty" yaml:"start,omitempty"`
	End      *time.Time `json:"end,omitempty" yaml:"end,omitempty"`
	Schedule string     `json:"schedule,omitempty" yaml:"schedule,omitempty"`
	Zone     string     `json:"zone,omitempty" yaml:"zone,omitempty"`
	Duration Duration   `json:"duration,omitempty" yaml:"duration,omitempty"`
}

// Window is the window the spec states, not yet validated.
func (sp WindowSpec) Window() Window {
	w := Window{Schedule: sp.Schedule, Zone: sp.Zone, Duration: time.Duration(sp.Duration)}
	if sp.Start != nil {
		w.Start = *sp.Start
	}
	if sp.End != nil {
		w.End = *sp.End
	}
	return w
}

// WindowSpecOf is how a window is shown.
func WindowSpecOf(w Window) WindowSpec {
	sp := WindowSpec{Schedule: w.Schedule, Zone: w.Zone, Duration: Duration(w.Duration)}
	if !w.Start.IsZero() {
		sp.Start = &w.Start
	}
	if !w.End.IsZero() {
		sp.End = &w.End
	}
	return sp
}

// TargetSpec is a step's target on the wire; ID references the user,
// schedule or channel.
type TargetSpec struct {
	Kind TargetKind `json:"kind" yaml:"kind"`
	ID   string     `json:"id" yaml:"id"`
}

// StepSpec is a policy's step on the wire.
type StepSpec struct {
	Delay   Duration     `json:"delay" yaml:"delay"`
	Targets []TargetSpec `json:"targets" yaml:"targets"`
}

// PolicySpec is an escalation policy on the wire.
type PolicySpec struct {
	ID           string       `json:"id,omitempty" yaml:"id,omitempty"`
	Name         string       `json:"name" yaml:"name"`
	Steps        []StepSpec   `json:"steps" yaml:"steps"`
	Repeat       int          `json:"repeat" yaml:"repeat"`
	WorkingHours []WindowSpec `json:"working_hours,omitempty" yaml:"working_hours,omitempty"`
}

var targetRefs = map[TargetKind]RefKind{TargetUser: RefUser, TargetSchedule: RefSchedule, TargetChannel: RefChannel}

// Policy builds and validates the policy the spec states. A policy
// configured by people has a name.
func (sp *PolicySpec) Policy(resolve Resolver) (*Policy, error) {
	p := &Policy{ID: sp.ID, Name: sp.Name, Repeat: sp.Repeat}
	if err := checkText("name", p.Name, MaxNameLength, true); err != nil {
		return nil, err
	}
	for _, st := range sp.Steps {
		step := Step{Delay: time.Duration(st.Delay)}
		for _, t := range st.Targets {
			step.Targets = append(step.Targets, Target{Kind: t.Kind, ID: t.ID})
		}
		p.Steps = append(p.Steps, step)
	}
	for _, w := range sp.WorkingHours {
		p.WorkingHours = append(p.WorkingHours, w.Window())
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	for i := range p.Steps {
		for j := range p.Steps[i].Targets {
			t := &p.Steps[i].Targets[j]
			id, err := resolve(targetRefs[t.Kind], fmt.Sprintf("steps[%d].targets[%d].id", i, j), t.ID)
			if err != nil {
				return nil, err
			}
			t.ID = id
		}
	}
	return p, nil
}

// PolicySpecOf is how a policy is shown.
func PolicySpecOf(p *Policy) PolicySpec {
	sp := PolicySpec{ID: p.ID, Name: p.Name, Repeat: p.Repeat, Steps: []StepSpec{}}
	for _, st := range p.Steps {
		s := StepSpec{Delay: Duration(st.Delay), Targets: []TargetSpec{}}
		for _, t := range st.Targets {
			s.Targets = append(s.Targets, TargetSpec{Kind: t.Kind, ID: t.ID})
		}
		sp.Steps = append(sp.Steps, s)
	}
	for _, w := range p.WorkingHours {
		sp.WorkingHours = append(sp.WorkingHours, WindowSpecOf(w))
	}
	return sp
}

// RouteSpec is a routing rule on the wire: matchers in Alertmanager's
// syntax, one per item.
type RouteSpec struct {
	Matchers []string `json:"matchers" yaml:"matchers"`
	// Policy references the escalation policy; empty keeps the service
	// owner's.
	Policy  string `json:"policy,omitempty" yaml:"policy,omitempty"`
	Urgency string `json:"urgency,omitempty" yaml:"urgency,omitempty"`
}

// Routes builds and validates the ordered routing rules the specs state,
// naming fields as routes[i].field.
func Routes(specs []RouteSpec, resolve Resolver) ([]Route, error) {
	routes := make([]Route, len(specs))
	for i, sp := range specs {
		field := fmt.Sprintf("routes[%d]", i)
		ms, err := ParseMatcherList(field+".matchers", sp.Matchers)
		if err != nil {
			return nil, err
		}
		routes[i] = Route{Matchers: ms, Policy: sp.Policy, Urgency: nightjar.Severity(sp.Urgency)}
	}
	if err := ValidateRoutes(routes); err != nil {
		return nil, err
	}
	for i := range routes {
		var err error
		if routes[i].Policy, err = optRef(resolve, RefPolicy, fmt.Sprintf("routes[%d].policy", i), routes[i].Policy); err != nil {
			return nil, err
		}
	}
	return routes, nil
}

// RouteSpecsOf is how routing rules are shown.
func RouteSpecsOf(routes []Route) []RouteSpec {
	out := make([]RouteSpec, len(routes))
	for i, r := range routes {
		out[i] = RouteSpec{Matchers: matcherStrings(r.Matchers), Policy: r.Policy, Urgency: string(r.Urgency)}
	}
	return out
}

func matcherStrings(ms Matchers) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

// SilenceSpec is a silence on the wire, named as in Alertmanager's API.
type SilenceSpec struct {
	ID        string    `json:"id,omitempty" yaml:"id,omitempty"`
	Matchers  []string  `json:"matchers" yaml:"matchers"`
	StartsAt  time.Time `json:"starts_at" yaml:"starts_at"`
	EndsAt    time.Time `json:"ends_at" yaml:"ends_at"`
	CreatedBy string    `json:"created_by" yaml:"created_by"`
	Comment   string    `json:"comment" yaml:"comment"`
}

// Silence builds and validates the silence the spec states. Times are
// kept to the millisecond, as they are stored.
func (sp *SilenceSpec) Silence() (*Silence, error) {
	ms, err := ParseMatcherList("matchers", sp.Matchers)
	if err != nil {
		return nil, err
	}
	s := &Silence{ID: sp.ID, Matchers: ms, StartsAt: sp.StartsAt.Truncate(time.Millisecond), EndsAt: sp.EndsAt.Truncate(time.Millisecond),
		CreatedBy: sp.CreatedBy, Comment: sp.Comment}
	return s, s.Validate()
}

// SilenceSpecOf is how a silence is shown.
func SilenceSpecOf(s *Silence) SilenceSpec {
	return SilenceSpec{ID: s.ID, Matchers: matcherStrings(s.Matchers), StartsAt: s.StartsAt, EndsAt: s.EndsAt, CreatedBy: s.CreatedBy, Comment: s.Comment}
}

// MaintenanceSpec is a maintenance window on the wire.
type MaintenanceSpec struct {
	ID       string     `json:"id,omitempty" yaml:"id,omitempty"`
	Name     string     `json:"name" yaml:"name"`
	Matchers []string   `json:"matchers" yaml:"matchers"`
	Window   WindowSpec `json:"window" yaml:"window"`
}

// Maintenance builds and validates the maintenance window the spec
// states. One configured by people has a name.
func (sp *MaintenanceSpec) Maintenance() (*Maintenance, error) {
	if err := checkText("name", sp.Name, MaxNameLength, true); err != nil {
		return nil, err
	}
	ms, err := ParseMatcherList("matchers", sp.Matchers)
	if err != nil {
		return nil, err
	}
	m := &Maintenance{ID: sp.ID, Name: sp.Name, Matchers: ms, Window: sp.Window.Window()}
	return m, m.Validate()
}

// MaintenanceSpecOf is how a maintenance window is shown.
func MaintenanceSpecOf(m *Maintenance) MaintenanceSpec {
	return MaintenanceSpec{ID: m.ID, Name: m.Name, Matchers: matcherStrings(m.Matchers), Window: WindowSpecOf(m.Window)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ScheduleSpec is an on-call schedule on the wire: a name and the
// definition oncall evaluates, whose participants and override users
// are references to people.
type ScheduleSpec struct {
	ID                string `json:"id,omitempty" yaml:"id,omitempty"`
	Name              string `json:"name" yaml:"name"`
	oncall.Definition `yaml:",inline"`
}

// Resolved validates the spec and returns its name and definition with
// every person's reference made a user id.
func (sp *ScheduleSpec) Resolved(resolve Resolver) (string, oncall.Definition, error) {
	d := sp.Definition
	if err := checkText("name", sp.Name, MaxNameLength, true); err != nil {
		return "", d, err
	}
	if err := d.Validate(); err != nil {
		return "", d, err
	}
	d.Layers = append([]oncall.Layer{}, d.Layers...)
	d.Overrides = append([]oncall.Override(nil), d.Overrides...)
	user := func(field string, ref *string) error {
		if *ref == "" {
			return nil
		}
		id, err := resolve(RefUser, field, *ref)
		*ref = id
		return err
	}
	for i := range d.Layers {
		l := &d.Layers[i]
		l.Participants = append([]string{}, l.Participants...)
		for j := range l.Participants {
			if err := user(fmt.Sprintf("layers[%d].participants[%d]", i, j), &l.Participants[j]); err != nil {
				return "", d, err
			}
		}
	}
	for i := range d.Overrides {
		o := &d.Overrides[i]
		if err := user(fmt.Sprintf("overrides[%d].add_user", i), &o.AddUser); err != nil {
			return "", d, err
		}
		if err := user(fmt.Sprintf("overrides[%d].remove_user", i), &o.RemoveUser); err != nil {
			return "", d, err
		}
	}
	return sp.Name, d, d.Validate()
}

// ContactMethodSpec is one of a person's contact methods on the wire.
// Verified is shown, never taken: only the code sent to the method
// verifies it.
type ContactMethodSpec struct {
	ID       string      `json:"id,omitempty" yaml:"id,omitempty"`
	Kind     ContactKind `json:"kind" yaml:"kind"`
	Name     string      `json:"name,omitempty" yaml:"name,omitempty"`
	Value    string      `json:"value" yaml:"value"`
	Verified bool        `json:"verified" yaml:"-"`
}

// ContactMethod builds and validates user's contact method the spec
// states.
func (sp *ContactMethodSpec) ContactMethod(user string) (*ContactMethod, error) {
	m := &ContactMethod{ID: sp.ID, UserID: user, Kind: sp.Kind, Name: sp.Name, Value: sp.Value}
	return m, m.Validate()
}

// ContactMethodSpecOf is how a contact method is shown.
func ContactMethodSpecOf(m *ContactMethod) ContactMethodSpec {
	return ContactMethodSpec{ID: m.ID, Kind: m.Kind, Name: m.Name, Value: m.Value, Verified: m.Verified}
}

// NotificationRuleSpec is one of a person's notification rules on the
// wire: which of their contact methods (by id) hears of a page, and how
// long after it.
type NotificationRuleSpec struct {
	ID     string   `json:"id,omitempty" yaml:"id,omitempty"`
	Method string   `json:"method" yaml:"method"`
	Delay  Duration `json:"delay" yaml:"delay"`
}

// NotificationRule builds and validates user's rule the spec states.
func (sp *NotificationRuleSpec) NotificationRule(user string) (*NotificationRule, error) {
	r := &NotificationRule{ID: sp.ID, UserID: user, Method: sp.Method, Delay: time.Duration(sp.Delay)}
	return r, r.Validate()
}

// NotificationRuleSpecOf is how a notification rule is shown.
func NotificationRuleSpecOf(r *NotificationRule) NotificationRuleSpec {
	return NotificationRuleSpec{ID: r.ID, Method: r.Method, Delay: Duration(r.Delay)}
}
