package console

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
)

// The incident response pages: incidents, and what decides who is paged
// for them (services, teams, escalation policies, on-call schedules,
// routes, silences and maintenance windows), and each person's own
// contact methods. Every form goes through the incidents area, which asks
// the domain what is valid, so the console accepts exactly what the API
// and the configuration file accept.

// responsePaths are the URL patterns of the incident response pages.
var responsePaths = []string{"/incidents", "/incidents/", "/services", "/services/", "/teams", "/teams/", "/policies", "/policies/",
	"/schedules", "/schedules/", "/routes", "/routes/", "/silences", "/silences/", "/maintenance", "/maintenance/", "/contacts", "/contacts/"}

func (c *Console) responseRoutes() {
	c.incidentRoutes()
	c.scheduleRoutes()
	c.serviceRoutes()
	c.suppressionRoutes()
	c.contactRoutes()
}

// form is a submitted form as a page shows it again: what was entered,
// and the problem with each field, by the input's name. Inputs are named
// as the domain names its fields ("layers[0].shift"), so the field of a
// domain error is the input to show it beside.
type form struct {
	Values map[string][]string
	Errors map[string]string
}

func newForm() *form { return &form{Values: map[string][]string{}, Errors: map[string]string{}} }

// postedForm is the posted form.
func postedForm(r *http.Request) *form {
	f := newForm()
	_ = r.ParseForm()
	for k, vs := range r.PostForm {
		if k == "csrf" {
			continue
		}
		for _, s := range vs {
			f.Values[k] = append(f.Values[k], strings.TrimSpace(s))
		}
	}
	return f
}

// V is the value entered in the field name.
func (f *form) V(name string) string {
	if vs := f.Values[name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// All are the values chosen in a multiple choice.
func (f *form) All(name string) []string {
	var out []string
	for _, s := range f.Values[name] {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Has tells whether value is among the choices of name.
func (f *form) Has(name, value string) bool { return slices.Contains(f.Values[name], value) }

// E is the problem with the field name, "" when it has none.
func (f *form) E(name string) string { return f.Errors[name] }

// fieldProblem is a field's problem as the page shows it beside the input.
type fieldProblem struct{ Name, Message string }

// Err is the problem with the field name for the "field-error" template,
// nil when it has none.
func (f *form) Err(name string) *fieldProblem {
	if m, ok := f.Errors[name]; ok {
		return &fieldProblem{Name: name, Message: m}
	}
	return nil
}

func (f *form) set(name string, values ...string) { f.Values[name] = values }

// invalid tells whether err is the user's mistake, and puts it where the
// page shows it: beside its input when the page has one named by the
// error's field, else at the top.
func (f *form) invalid(err error, v *view, inputs ...string) bool {
	code := nightjar.ErrorCode(err)
	if code != nightjar.EINVALID && code != nightjar.ECONFLICT {
		return false
	}
	field, input := nightjar.ErrorField(err), ""
	for _, in := range inputs {
		if (field == in || strings.HasPrefix(field, in+"[") || strings.HasPrefix(field, in+".")) && len(in) > len(input) {
			input = in
		}
	}
	if input != "" {
		// Beside its input the message needs no field name: the label
		// says which field it is.
		f.Errors[input] = strings.TrimPrefix(nightjar.ErrorMessage(err), field+": ")
		v.Error = "Please correct the field marked below."
		return true
	}
	v.Error = nightjar.ErrorMessage(err)
	return true
}

// people are the members of a project by user id, for showing and
// choosing who is on call, paged or assigned.
type people struct {
	Members []*nightjar.Membership
	byID    map[string]string
}

func (c *Console) people(r *http.Request, v *view) (*people, error) {
	ms, err := c.accounts.Members(r.Context(), v.Project.ID)
	if err != nil {
		return nil, err
	}
	p := &people{Members: ms, byID: map[string]string{}}
	for _, m := range ms {
		p.byID[m.UserID] = m.Email
	}
	return p, nil
}

// Name is how a user id is shown: their email, or the id of someone who
// left the project.
func (p *people) Name(id string) string {
	if id == "" {
		return "nobody"
	}
	if e, ok := p.byID[id]; ok {
		return e
	}
	return "former member " + id
}

// Names are several users' names.
func (p *people) Names(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = p.Name(id)
	}
	if len(out) == 0 {
		return "nobody"
	}
	return strings.Join(out, ", ")
}

// localInput is the format of an <input type="datetime-local">.
const localInput = "2006-01-02T15:04"

// parseLocal reads a datetime-local input in loc; field names it in the
// error.
func parseLocal(field, s string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(localInput, s, loc)
	if err != nil {
		return time.Time{}, nightjar.FieldError(field, "must be a date and time such as 2026-03-04T09:00")
	}
	return t, nil
}

// parseDelay reads a delay or a length such as "5m", "90s" or "1h30m".
func parseDelay(field, s string) (time.Duration, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, nightjar.FieldError(field, "must be a duration such as 90s, 5m or 1h30m")
	}
	return d, nil
}

// zone reads a time zone field; "" is UTC.
func zone(field, name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, nightjar.FieldError(field, "must be an IANA time zone such as Europe/Berlin")
	}
	return loc, nil
}

// parseMatchers reads matchers written one per line or separated by
// commas, as Alertmanager writes them: service="api", severity=~"crit.*".
func parseMatchers(field, s string) (incident.Matchers, error) {
	return incident.ParseMatcherList(field, strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }))
}

// loaded answers a missing object with the not found page and other
// errors with the error page; it tells whether the handler may go on.
func (c *Console) loaded(w http.ResponseWriter, r *http.Request, v *view, err error) bool {
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		c.notFound(w, r, v)
		return false
	} else if err != nil {
		c.fail(w, r, err)
		return false
	}
	return true
}
