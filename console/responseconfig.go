package console

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
)

// objectPages are the list, create, edit and delete pages of one kind of
// incident response configuration (services, teams, policies, silences,
// maintenance windows): they differ only in their form.
type objectPages[T any] struct {
	// path is the pages' URL and template name, such as "services";
	// title heads the list.
	path, title string
	objects     func(*incidents.Store) incidents.Objects[T]
	// inputs are the form's inputs, named as the domain names the fields.
	inputs []string
	// blank is the new-object form's starting values.
	blank func(now time.Time) *form
	// toForm fills the form from a stored object.
	toForm func(*T) *form
	// fromForm reads the form into v, which holds the stored object
	// when editing; errors it returns name the input.
	fromForm func(f *form, v *T, who *view, now time.Time) error
	id, name func(*T) string
	// expire, when set, ends an object now (a silence, a maintenance
	// window), telling whether it is to be kept or, never having begun,
	// deleted.
	expire func(v *T, now time.Time) bool
}

// objectsData is what an object page's template receives.
type objectsData[T any] struct {
	Items []*T
	// Editing is the object the form changes; nil for a new one.
	Editing *T
	Form    *form
	Options *responseOptions
	Now     time.Time
}

// responseOptions are what the response forms offer to choose from, with
// the names to show for ids.
type responseOptions struct {
	*people
	Teams     []*incident.Team
	Policies  []*incident.Policy
	Schedules []*incidents.Schedule
	Channels  []*nightjar.Channel
}

// TeamName, PolicyName, ScheduleName and ChannelName show a referenced
// object by its name.
func (o *responseOptions) TeamName(id string) string {
	return nameOf(o.Teams, id, func(t *incident.Team) (string, string) { return t.ID, t.Name })
}

func (o *responseOptions) PolicyName(id string) string {
	return nameOf(o.Policies, id, func(p *incident.Policy) (string, string) { return p.ID, p.Name })
}

// Target shows an escalation step's target.
func (o *responseOptions) Target(t incident.Target) string {
	switch t.Kind {
	case incident.TargetUser:
		return o.Name(t.ID)
	case incident.TargetSchedule:
		return "on call in " + nameOf(o.Schedules, t.ID, func(s *incidents.Schedule) (string, string) { return s.ID, s.Name })
	}
	return "channel " + nameOf(o.Channels, t.ID, func(c *nightjar.Channel) (string, string) { return c.ID, c.Name })
}

func nameOf[T any](list []T, id string, key func(T) (string, string)) string {
	if id == "" {
		return "—"
	}
	for _, v := range list {
		if k, n := key(v); k == id {
			return n
		}
	}
	return id
}

func (c *Console) responseOptions(r *http.Request, v *view) (*responseOptions, error) {
	ctx, pid := r.Context(), v.Project.ID
	ppl, err := c.people(r, v)
	if err != nil {
		return nil, err
	}
	o := &responseOptions{people: ppl}
	if o.Teams, err = c.response.Teams().List(ctx, pid); err != nil {
		return nil, err
	}
	if o.Policies, err = c.response.Policies().List(ctx, pid); err != nil {
		return nil, err
	}
	if o.Schedules, err = c.response.Schedules().List(ctx, pid); err != nil {
		return nil, err
	}
	o.Channels, err = c.channels.List(ctx, pid)
	return o, err
}

func (p *objectPages[T]) register(c *Console) {
	c.mux.Handle("GET /"+p.path, c.page(nightjar.NeedRead, func(w http.ResponseWriter, r *http.Request, v *view) {
		p.render(c, w, r, v, http.StatusOK, nil, p.blank(c.clock.Now()))
	}))
	c.mux.Handle("POST /"+p.path, c.page(nightjar.NeedWrite, func(w http.ResponseWriter, r *http.Request, v *view) {
		p.save(c, w, r, v, nil)
	}))
	c.mux.Handle("GET /"+p.path+"/{id}", c.page(nightjar.NeedRead, func(w http.ResponseWriter, r *http.Request, v *view) {
		if obj := p.load(c, w, r, v); obj != nil {
			p.render(c, w, r, v, http.StatusOK, obj, p.toForm(obj))
		}
	}))
	c.mux.Handle("POST /"+p.path+"/{id}", c.page(nightjar.NeedWrite, func(w http.ResponseWriter, r *http.Request, v *view) {
		if obj := p.load(c, w, r, v); obj != nil {
			p.save(c, w, r, v, obj)
		}
	}))
	c.mux.Handle("POST /"+p.path+"/{id}/delete", c.page(nightjar.NeedWrite, func(w http.ResponseWriter, r *http.Request, v *view) {
		obj := p.load(c, w, r, v)
		if obj == nil {
			return
		}
		err := p.objects(c.response).Delete(r.Context(), v.Project.ID, p.id(obj))
		if nightjar.ErrorCode(err) == nightjar.ECONFLICT {
			v.Error = nightjar.ErrorMessage(err)
			p.render(c, w, r, v, http.StatusConflict, obj, p.toForm(obj))
			return
		} else if err != nil {
			c.fail(w, r, err)
			return
		}
		c.audit(r, v, strings.TrimSuffix(p.path, "s")+".delete", p.name(obj), "")
		http.Redirect(w, r, "/"+p.path, http.StatusSeeOther)
	}))
	if p.expire != nil {
		c.mux.Handle("POST /"+p.path+"/{id}/expire", c.page(nightjar.NeedWrite, func(w http.ResponseWriter, r *http.Request, v *view) {
			p.expireNow(c, w, r, v)
		}))
	}
}

// expireNow ends an object now, or deletes one that has not begun.
func (p *objectPages[T]) expireNow(c *Console, w http.ResponseWriter, r *http.Request, v *view) {
	obj := p.load(c, w, r, v)
	if obj == nil {
		return
	}
	var err error
	if p.expire(obj, c.clock.Now()) {
		err = p.objects(c.response).Update(r.Context(), v.Project.ID, obj)
	} else {
		err = p.objects(c.response).Delete(r.Context(), v.Project.ID, p.id(obj))
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, strings.TrimSuffix(p.path, "s")+".expire", p.name(obj), "")
	http.Redirect(w, r, "/"+p.path, http.StatusSeeOther)
}

func (p *objectPages[T]) load(c *Console, w http.ResponseWriter, r *http.Request, v *view) *T {
	obj, err := p.objects(c.response).Get(r.Context(), v.Project.ID, r.PathValue("id"))
	if !c.loaded(w, r, v, err) {
		return nil
	}
	return obj
}

// save creates an object from the form, or changes stored when it is set.
func (p *objectPages[T]) save(c *Console, w http.ResponseWriter, r *http.Request, v *view, stored *T) {
	f := postedForm(r)
	now := c.clock.Now()
	obj := new(T)
	if stored != nil {
		copied := *stored
		obj = &copied
	}
	err := p.fromForm(f, obj, v, now)
	if err == nil && stored == nil {
		err = p.objects(c.response).Create(r.Context(), v.Project.ID, obj, now)
	} else if err == nil {
		err = p.objects(c.response).Update(r.Context(), v.Project.ID, obj)
	}
	if f.invalid(err, v, p.inputs...) {
		p.render(c, w, r, v, http.StatusBadRequest, stored, f)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	action := ".create"
	if stored != nil {
		action = ".update"
	}
	c.audit(r, v, strings.TrimSuffix(p.path, "s")+action, p.name(obj), "")
	http.Redirect(w, r, "/"+p.path, http.StatusSeeOther)
}

func (p *objectPages[T]) render(c *Console, w http.ResponseWriter, r *http.Request, v *view, status int, editing *T, f *form) {
	items, err := p.objects(c.response).List(r.Context(), v.Project.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	opts, err := c.responseOptions(r, v)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Title = p.title
	if editing != nil {
		v.Title = "Edit " + p.name(editing)
	}
	v.Data = objectsData[T]{Items: items, Editing: editing, Form: f, Options: opts, Now: c.clock.Now()}
	c.render(w, r, status, p.path, v)
}

func (c *Console) serviceRoutes() {
	services.register(c)
	teams.register(c)
	policies.register(c)
	c.routeRoutes()
}

var services = &objectPages[incident.Service]{
	path: "services", title: "Services",
	objects: (*incidents.Store).Services,
	inputs:  []string{"name", "team", "tier", "labels", "runbook_url", "description", "group_window", "auto_resolve"},
	blank: func(time.Time) *form {
		f := newForm()
		d := incident.DefaultServiceConfig()
		f.set("group_window", d.GroupWindow.String())
		if d.AutoResolve {
			f.set("auto_resolve", "1")
		}
		return f
	},
	toForm: func(s *incident.Service) *form {
		f := newForm()
		f.set("name", s.Name)
		f.set("team", s.Team)
		f.set("tier", s.Tier)
		f.set("runbook_url", s.RunbookURL)
		f.set("description", s.Description)
		f.set("group_window", s.Config.GroupWindow.String())
		if s.Config.AutoResolve {
			f.set("auto_resolve", "1")
		}
		var labels []string
		for k, val := range s.Labels {
			labels = append(labels, k+"="+val)
		}
		sort.Strings(labels)
		f.set("labels", strings.Join(labels, "\n"))
		return f
	},
	fromForm: func(f *form, s *incident.Service, _ *view, _ time.Time) error {
		s.Name, s.Team, s.Tier, s.RunbookURL, s.Description = f.V("name"), f.V("team"), f.V("tier"), f.V("runbook_url"), f.V("description")
		s.Config.AutoResolve = f.V("auto_resolve") != ""
		var err error
		if s.Config.GroupWindow, err = parseDelay("group_window", f.V("group_window")); err != nil {
			return err
		}
		s.Labels = map[string]string{}
		for _, line := range strings.Split(f.V("labels"), "\n") {
			if line = strings.TrimSpace(line); line == "" {
				continue
			}
			k, val, ok := strings.Cut(line, "=")
			if !ok {
				return nightjar.FieldError("labels", "write one label a line as name=value")
			}
			s.Labels[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
		return nil
	},
	id:   func(s *incident.Service) string { return s.ID },
	name: func(s *incident.Service) string { return s.Name },
}

var teams = &objectPages[incident.Team]{
	path: "teams", title: "Teams",
	objects: (*incidents.Store).Teams,
	inputs:  []string{"name", "members", "policy"},
	blank:   func(time.Time) *form { return newForm() },
	toForm: func(t *incident.Team) *form {
		f := newForm()
		f.set("name", t.Name)
		f.set("members", t.Members...)
		f.set("policy", t.Policy)
		return f
	},
	fromForm: func(f *form, t *incident.Team, _ *view, _ time.Time) error {
		t.Name, t.Members, t.Policy = f.V("name"), f.All("members"), f.V("policy")
		return nil
	},
	id:   func(t *incident.Team) string { return t.ID },
	name: func(t *incident.Team) string { return t.Name },
}

// policyFormSteps is how many step rows the policy form offers at least;
// it offers one more than the policy has, up to incident.MaxSteps.
const policyFormSteps = 4

// policyStep is one step row of the policy form.
type policyStep struct {
	N, Delay, Targets string
	Form              *form
	Options           *responseOptions
}

// PolicySteps are the policy form's step rows: the steps entered and one
// empty row to add a step (open), then the other empty rows (more).
func (o *responseOptions) PolicySteps(f *form, more bool) []policyStep {
	n, last := policyFormSteps, -1
	for i := range incident.MaxSteps {
		if len(f.All(stepInput(i, "targets"))) > 0 {
			n, last = max(n, min(i+2, incident.MaxSteps)), i
		}
	}
	open := min(max(last+2, 2), n)
	from, to := 0, open
	if more {
		from, to = open, n
	}
	var out []policyStep
	for i := from; i < to; i++ {
		out = append(out, policyStep{N: fmt.Sprint(i + 1), Delay: stepInput(i, "delay"), Targets: stepInput(i, "targets"), Form: f, Options: o})
	}
	return out
}

// stepInput names an input of the policy form's step row i, as the domain
// names the field: "steps[1].delay".
func stepInput(i int, field string) string { return fmt.Sprintf("steps[%d].%s", i, field) }

// hoursInput names an input of the policy form's working-hours row i:
// "working_hours[0].zone".
func hoursInput(i int, field string) string { return fmt.Sprintf("working_hours[%d].%s", i, field) }

var policyInputs = func() []string {
	in := []string{"name", "repeat", "steps", "working_hours"}
	for i := range incident.MaxSteps {
		in = append(in, stepInput(i, "delay"), stepInput(i, "targets"))
	}
	for i := range incident.MaxWorkingHours {
		in = append(in, hoursInput(i, "schedule"), hoursInput(i, "zone"), hoursInput(i, "duration"))
	}
	return in
}()

// hoursRow is one working-hours row of the policy form.
type hoursRow struct {
	N, Schedule, Zone, Duration string
	Form                        *form
}

// PolicyHours are the policy form's working-hours rows: those entered and
// one empty row to add another, up to incident.MaxWorkingHours.
func (o *responseOptions) PolicyHours(f *form) []hoursRow {
	n := 0
	for i := range incident.MaxWorkingHours {
		if f.V(hoursInput(i, "schedule")) != "" || f.V(hoursInput(i, "duration")) != "" {
			n = i + 1
		}
	}
	var out []hoursRow
	for i := range min(n+1, incident.MaxWorkingHours) {
		out = append(out, hoursRow{N: fmt.Sprint(i + 1), Schedule: hoursInput(i, "schedule"), Zone: hoursInput(i, "zone"),
			Duration: hoursInput(i, "duration"), Form: f})
	}
	return out
}

var policies = &objectPages[incident.Policy]{
	path: "policies", title: "Escalation policies",
	objects: (*incidents.Store).Policies,
	inputs:  policyInputs,
	blank: func(time.Time) *form {
		f := newForm()
		f.set("repeat", "0")
		for i := range policyFormSteps {
			f.set(stepInput(i, "delay"), "5m")
		}
		return f
	},
	toForm: func(p *incident.Policy) *form {
		f := newForm()
		f.set("name", p.Name)
		f.set("repeat", fmt.Sprint(p.Repeat))
		for i, s := range p.Steps {
			f.set(stepInput(i, "delay"), s.Delay.String())
			var ts []string
			for _, t := range s.Targets {
				ts = append(ts, string(t.Kind)+":"+t.ID)
			}
			f.set(stepInput(i, "targets"), ts...)
		}
		for i, w := range p.WorkingHours {
			f.set(hoursInput(i, "schedule"), w.Schedule)
			f.set(hoursInput(i, "zone"), w.Zone)
			f.set(hoursInput(i, "duration"), w.Duration.String())
		}
		return f
	},
	fromForm: func(f *form, p *incident.Policy, _ *view, _ time.Time) error {
		p.Name = f.V("name")
		if _, err := fmt.Sscan(f.V("repeat"), &p.Repeat); err != nil {
			return nightjar.FieldError("repeat", "must be a whole number")
		}
		p.Steps = nil
		for i := range incident.MaxSteps {
			targets := f.All(stepInput(i, "targets"))
			if len(targets) == 0 {
				continue // an empty row adds no step
			}
			d, err := parseDelay(stepInput(i, "delay"), f.V(stepInput(i, "delay")))
			if err != nil {
				return err
			}
			step := incident.Step{Delay: d}
			for _, t := range targets {
				kind, id, _ := strings.Cut(t, ":")
				step.Targets = append(step.Targets, incident.Target{Kind: incident.TargetKind(kind), ID: id})
			}
			p.Steps = append(p.Steps, step)
		}
		p.WorkingHours = nil
		for i := range incident.MaxWorkingHours {
			sched, dur := f.V(hoursInput(i, "schedule")), f.V(hoursInput(i, "duration"))
			if sched == "" && dur == "" {
				continue // an empty row adds no window
			}
			w := incident.Window{Schedule: sched, Zone: cmp.Or(f.V(hoursInput(i, "zone")), "UTC")}
			var err error
			if w.Duration, err = parseDelay(hoursInput(i, "duration"), dur); err != nil {
				return err
			}
			p.WorkingHours = append(p.WorkingHours, w)
		}
		return nil
	},
	id:   func(p *incident.Policy) string { return p.ID },
	name: func(p *incident.Policy) string { return p.Name },
}

// The routes page: the project's routing rules, in order. Each change
// stores the whole list again, as the API and apply do.
func (c *Console) routeRoutes() {
	c.mux.Handle("GET /routes", c.page(nightjar.NeedRead, func(w http.ResponseWriter, r *http.Request, v *view) {
		f := newForm()
		f.set("urgency", "")
		c.renderRoutes(w, r, v, http.StatusOK, f)
	}))
	c.mux.Handle("POST /routes", c.page(nightjar.NeedWrite, c.addRoute))
	c.mux.Handle("POST /routes/{n}/{action}", c.page(nightjar.NeedWrite, c.changeRoute))
}

type routesData struct {
	Routes  []incident.Route
	Form    *form
	Options *responseOptions
}

func (c *Console) renderRoutes(w http.ResponseWriter, r *http.Request, v *view, status int, f *form) {
	routes, err := c.response.Routes(r.Context(), v.Project.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	opts, err := c.responseOptions(r, v)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Title, v.Data = "Routes", routesData{Routes: routes, Form: f, Options: opts}
	c.render(w, r, status, "routes", v)
}

func (c *Console) addRoute(w http.ResponseWriter, r *http.Request, v *view) {
	f := postedForm(r)
	routes, err := c.response.Routes(r.Context(), v.Project.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	route := incident.Route{Policy: f.V("policy"), Urgency: nightjar.Severity(f.V("urgency"))}
	route.Matchers, err = parseMatchers("matchers", f.V("matchers"))
	if err == nil {
		err = renameField(c.response.SetRoutes(r.Context(), v.Project.ID, append(routes, route)), fmt.Sprintf("routes[%d]", len(routes)), "route")
		err = renameField(err, "route.", "")
	}
	if f.invalid(err, v, "matchers", "policy", "urgency") {
		c.renderRoutes(w, r, v, http.StatusBadRequest, f)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "route.create", route.Matchers.String(), "")
	http.Redirect(w, r, "/routes", http.StatusSeeOther)
}

// changeRoute moves a route up or down, or deletes it.
func (c *Console) changeRoute(w http.ResponseWriter, r *http.Request, v *view) {
	routes, err := c.response.Routes(r.Context(), v.Project.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var n int
	if _, err := fmt.Sscan(r.PathValue("n"), &n); err != nil || n < 0 || n >= len(routes) {
		c.notFound(w, r, v)
		return
	}
	switch r.PathValue("action") {
	case "up":
		if n > 0 {
			routes[n-1], routes[n] = routes[n], routes[n-1]
		}
	case "down":
		if n < len(routes)-1 {
			routes[n+1], routes[n] = routes[n], routes[n+1]
		}
	case "delete":
		routes = slices.Delete(routes, n, n+1)
	default:
		c.notFound(w, r, v)
		return
	}
	if err := c.response.SetRoutes(r.Context(), v.Project.ID, routes); err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "route."+r.PathValue("action"), fmt.Sprint(n+1), "")
	http.Redirect(w, r, "/routes", http.StatusSeeOther)
}
