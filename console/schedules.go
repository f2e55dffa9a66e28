package console

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/oncall"
)

func (c *Console) scheduleRoutes() {
	c.mux.Handle("GET /schedules", c.page(nightjar.NeedRead, c.schedulesPage))
	c.mux.Handle("POST /schedules", c.page(nightjar.NeedWrite, c.createSchedule))
	c.mux.Handle("GET /schedules/{id}", c.page(nightjar.NeedRead, c.schedulePage))
	c.mux.Handle("POST /schedules/{id}/overrides", c.page(nightjar.NeedWrite, c.addOverride))
	c.mux.Handle("POST /schedules/{id}/overrides/{n}/delete", c.page(nightjar.NeedWrite, c.removeOverride))
	c.mux.Handle("POST /schedules/{id}/delete", c.page(nightjar.NeedWrite, c.deleteSchedule))
}

// scheduleRow is a schedule in the list, with who is on call now.
type scheduleRow struct {
	*incidents.Schedule
	OnCall string
}

type schedulesData struct {
	Schedules []scheduleRow
	People    *people
	Form      *form
	Zones     []string
}

// scheduleInputs are the create form's inputs, named as the domain names
// the fields of a one-layer schedule.
var scheduleInputs = []string{"name", "time_zone", "layers[0].participants", "layers[0].shift", "layers[0].start"}

func (c *Console) schedulesPage(w http.ResponseWriter, r *http.Request, v *view) {
	f := newForm()
	f.set("time_zone", "UTC")
	f.set("layers[0].shift", "weekly")
	f.set("layers[0].start", c.clock.Now().UTC().Truncate(24*time.Hour).Format(localInput))
	c.renderSchedules(w, r, v, http.StatusOK, f)
}

func (c *Console) renderSchedules(w http.ResponseWriter, r *http.Request, v *view, status int, f *form) {
	ppl, err := c.people(r, v)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rows, err := c.onCallNow(r, v, ppl)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Title, v.Data = "On-call schedules", schedulesData{Schedules: rows, People: ppl, Form: f, Zones: commonZones}
	c.render(w, r, status, "schedules", v)
}

// onCallNow lists the project's schedules with who is on call in each,
// as escalation would page them now.
func (c *Console) onCallNow(r *http.Request, v *view, ppl *people) ([]scheduleRow, error) {
	oncall, err := c.response.OnCallAt(r.Context(), v.Project.ID, c.clock.Now())
	if err != nil {
		return nil, err
	}
	rows := make([]scheduleRow, len(oncall))
	for i, o := range oncall {
		rows[i] = scheduleRow{Schedule: o.Schedule, OnCall: ppl.Names(o.Users)}
	}
	return rows, nil
}

func (c *Console) createSchedule(w http.ResponseWriter, r *http.Request, v *view) {
	f := postedForm(r)
	s := &incidents.Schedule{Name: f.V("name"), Definition: oncall.Definition{TimeZone: f.V("time_zone"),
		Layers: []oncall.Layer{{Participants: f.All("layers[0].participants"), Shift: f.V("layers[0].shift"), Start: f.V("layers[0].start")}}}}
	// Show every problem of the definition at once, each beside its input.
	if problems := s.Definition.Problems(); len(problems) > 0 {
		for _, p := range problems {
			f.invalid(p, v, scheduleInputs...)
		}
		c.renderSchedules(w, r, v, http.StatusBadRequest, f)
		return
	}
	if err := c.response.Schedules().Create(r.Context(), v.Project.ID, s, c.clock.Now()); f.invalid(err, v, scheduleInputs...) {
		c.renderSchedules(w, r, v, http.StatusBadRequest, f)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "schedule.create", s.Name, "")
	http.Redirect(w, r, "/schedules/"+s.ID, http.StatusSeeOther)
}

// calendarDay is one day of a schedule's week view.
type calendarDay struct {
	Date   time.Time
	Today  bool
	Shifts []calendarShift
}

// calendarShift is a stretch of one day with someone on call.
type calendarShift struct {
	Start, End string
	User       string
	// Override is set when an override put the person on call.
	Override bool
}

// overrideRow is one of a schedule's overrides as the page lists it.
type overrideRow struct {
	Index               int
	Start, End          string
	AddUser, RemoveUser string
}

type scheduleData struct {
	Schedule *incidents.Schedule
	// Layers describe the schedule's rotations in words.
	Layers    []string
	Zone      string
	OnCall    string
	Days      []calendarDay
	Handoffs  []handoffRow
	Overrides []overrideRow
	Prev      string
	Next      string
	People    *people
	Form      *form
}

type handoffRow struct {
	At            time.Time
	Before, After string
}

// overrideInputs are the add-override form's inputs.
var overrideInputs = []string{"override.start", "override.end", "override.add_user", "override.remove_user", "override"}

func (c *Console) loadSchedule(w http.ResponseWriter, r *http.Request, v *view) *incidents.Schedule {
	s, err := c.response.Schedules().Get(r.Context(), v.Project.ID, r.PathValue("id"))
	if !c.loaded(w, r, v, err) {
		return nil
	}
	return s
}

func (c *Console) schedulePage(w http.ResponseWriter, r *http.Request, v *view) {
	s := c.loadSchedule(w, r, v)
	if s == nil {
		return
	}
	c.renderSchedule(w, r, v, s, http.StatusOK, newForm())
}

// renderSchedule shows a week of the schedule, Monday to Sunday in its
// zone: the week of ?week=YYYY-MM-DD, or this week.
func (c *Console) renderSchedule(w http.ResponseWriter, r *http.Request, v *view, s *incidents.Schedule, status int, f *form) {
	compiled, err := s.Compile()
	if err != nil {
		c.fail(w, r, fmt.Errorf("compile schedule %s: %w", s.ID, err))
		return
	}
	ppl, err := c.people(r, v)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	loc, now := compiled.Location(), c.clock.Now()
	today := now.In(loc)
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	if wk := r.URL.Query().Get("week"); wk != "" {
		if t, err := time.ParseInLocation("2006-01-02", wk, loc); err == nil {
			day = t
		}
	}
	monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	d := scheduleData{Schedule: s, Zone: loc.String(), OnCall: ppl.Names(compiled.OnCallAt(now)), People: ppl, Form: f,
		Prev: monday.AddDate(0, 0, -7).Format("2006-01-02"), Next: monday.AddDate(0, 0, 7).Format("2006-01-02")}
	for i := range 7 {
		start, end := monday.AddDate(0, 0, i), monday.AddDate(0, 0, i+1)
		shifts, err := compiled.Shifts(start, end)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		cd := calendarDay{Date: start, Today: start.Equal(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc))}
		for _, sh := range shifts {
			endText := sh.End.In(loc).Format("15:04")
			if sh.End.Equal(end) {
				endText = "24:00"
			}
			cd.Shifts = append(cd.Shifts, calendarShift{Start: sh.Start.In(loc).Format("15:04"), End: endText, User: ppl.Name(sh.UserID), Override: sh.Override >= 0})
		}
		d.Days = append(d.Days, cd)
	}
	for _, l := range s.Definition.Layers {
		text := fmt.Sprintf("%s, %s from %s", ppl.Names(l.Participants), l.Shift, strings.Replace(l.Start, "T", " ", 1))
		if l.Name != "" {
			text = l.Name + ": " + text
		}
		if len(l.Restrictions) > 0 {
			text += fmt.Sprintf(" (%d restrictions)", len(l.Restrictions))
		}
		d.Layers = append(d.Layers, text)
	}
	for _, h := range compiled.NextHandoffs(now, 5) {
		d.Handoffs = append(d.Handoffs, handoffRow{At: h.At, Before: ppl.Names(h.Before), After: ppl.Names(h.After)})
	}
	for i, o := range s.Definition.Overrides {
		d.Overrides = append(d.Overrides, overrideRow{Index: i, Start: strings.Replace(o.Start, "T", " ", 1), End: strings.Replace(o.End, "T", " ", 1),
			AddUser: nameOrEmpty(ppl, o.AddUser), RemoveUser: nameOrEmpty(ppl, o.RemoveUser)})
	}
	v.Title, v.Data = s.Name, d
	c.render(w, r, status, "schedule", v)
}

func nameOrEmpty(p *people, id string) string {
	if id == "" {
		return ""
	}
	return p.Name(id)
}

func (c *Console) addOverride(w http.ResponseWriter, r *http.Request, v *view) {
	s := c.loadSchedule(w, r, v)
	if s == nil {
		return
	}
	f := postedForm(r)
	n := len(s.Definition.Overrides)
	s.Definition.Overrides = append(s.Definition.Overrides, oncall.Override{Start: f.V("override.start"), End: f.V("override.end"),
		AddUser: f.V("override.add_user"), RemoveUser: f.V("override.remove_user")})
	err := c.response.Schedules().Update(r.Context(), v.Project.ID, s)
	if f.invalid(renameField(err, fmt.Sprintf("overrides[%d]", n), "override"), v, overrideInputs...) {
		s.Definition.Overrides = s.Definition.Overrides[:n]
		c.renderSchedule(w, r, v, s, http.StatusBadRequest, f)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "schedule.override", s.Name, f.V("override.start")+" – "+f.V("override.end"))
	http.Redirect(w, r, "/schedules/"+s.ID, http.StatusSeeOther)
}

// renameField gives a domain error about an item of a list the name of
// the form's input for it: "overrides[3].start" is "override.start".
func renameField(err error, from, to string) error {
	field := nightjar.ErrorField(err)
	if !strings.HasPrefix(field, from) {
		return err
	}
	renamed := to + strings.TrimPrefix(field, from)
	return &nightjar.Error{Code: nightjar.ErrorCode(err), Field: renamed, Message: strings.Replace(nightjar.ErrorMessage(err), field, renamed, 1)}
}

func (c *Console) removeOverride(w http.ResponseWriter, r *http.Request, v *view) {
	s := c.loadSchedule(w, r, v)
	if s == nil {
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 || n >= len(s.Definition.Overrides) {
		c.notFound(w, r, v)
		return
	}
	s.Definition.Overrides = append(s.Definition.Overrides[:n], s.Definition.Overrides[n+1:]...)
	if err := c.response.Schedules().Update(r.Context(), v.Project.ID, s); err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "schedule.override.remove", s.Name, "")
	http.Redirect(w, r, "/schedules/"+s.ID, http.StatusSeeOther)
}

func (c *Console) deleteSchedule(w http.ResponseWriter, r *http.Request, v *view) {
	s := c.loadSchedule(w, r, v)
	if s == nil {
		return
	}
	err := c.response.Schedules().Delete(r.Context(), v.Project.ID, s.ID)
	if nightjar.ErrorCode(err) == nightjar.ECONFLICT {
		v.Error = nightjar.ErrorMessage(err)
		c.renderSchedule(w, r, v, s, http.StatusConflict, newForm())
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "schedule.delete", s.Name, "")
	http.Redirect(w, r, "/schedules", http.StatusSeeOther)
}
