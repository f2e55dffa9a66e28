package console

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
)

func (c *Console) incidentRoutes() {
	c.mux.Handle("GET /incidents", c.page(nightjar.NeedRead, c.incidentsPage))
	c.mux.Handle("GET /incidents/{n}", c.page(nightjar.NeedRead, c.incidentPage))
	c.mux.Handle("POST /incidents/{n}/{action}", c.page(nightjar.NeedWrite, c.incidentAction))
	c.mux.Handle("GET /incidents/{n}/postmortem", c.page(nightjar.NeedRead, c.postmortemPage))
	c.mux.Handle("GET /incidents/{n}/postmortem.md", c.page(nightjar.NeedRead, c.postmortemDownload))
}

// incidentRow is an incident as the list shows it.
type incidentRow struct {
	*incident.Incident
	Age      string
	Assignee string
}

type incidentsData struct {
	Incidents []incidentRow
	// All is set when resolved incidents are listed too.
	All bool
}

func (c *Console) incidentsPage(w http.ResponseWriter, r *http.Request, v *view) {
	all := r.URL.Query().Get("status") == "all"
	incs, err := c.response.Incidents(r.Context(), v.Project.ID, incidents.IncidentFilter{Open: !all, Limit: 200})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ppl, err := c.people(r, v)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := incidentsData{All: all}
	now := c.clock.Now()
	for _, inc := range incs {
		row := incidentRow{Incident: inc, Age: ago(now, inc.CreatedAt)}
		if inc.Assignee != "" {
			row.Assignee = ppl.Name(inc.Assignee)
		}
		d.Incidents = append(d.Incidents, row)
	}
	v.Title, v.Data = "Incidents", d
	c.render(w, r, http.StatusOK, "incidents", v)
}

// timelineRow is a timeline entry as the incident page shows it: who did
// it by name, and ids in the text replaced by names.
type timelineRow struct {
	incidents.TimelineEntry
	Ago   string
	Who   string
	Text  string
	Reach string
}

type incidentData struct {
	Incident  *incident.Incident
	Age       string
	Policy    string
	Assignee  string
	Commander string
	Timeline  []timelineRow
	// Origin is the latest evidence of where the failures start (adaptive
	// paging), a line each: the decision, the shares, example traces.
	Origin []string
	// Changes are the service's last changes made in the day before the
	// incident opened, newest first, as its notifications list them.
	Changes []*nightjar.Change
	People  *people
	Form    *form
}

// loadIncident finds the incident the path numbers.
func (c *Console) loadIncident(w http.ResponseWriter, r *http.Request, v *view) *incident.Incident {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil {
		c.notFound(w, r, v)
		return nil
	}
	inc, err := c.response.IncidentByNumber(r.Context(), v.Project.ID, n)
	if !c.loaded(w, r, v, err) {
		return nil
	}
	return inc
}

func (c *Console) incidentPage(w http.ResponseWriter, r *http.Request, v *view) {
	if inc := c.loadIncident(w, r, v); inc != nil {
		c.renderIncident(w, r, v, inc, http.StatusOK, newForm())
	}
}

func (c *Console) renderIncident(w http.ResponseWriter, r *http.Request, v *view, inc *incident.Incident, status int, f *form) {
	ctx := r.Context()
	tl, err := c.response.Timeline(ctx, v.Project.ID, inc.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	opts, err := c.responseOptions(r, v)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	changes, err := c.response.RecentChanges(ctx, v.Project.ID, inc.Service, inc.CreatedAt)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	now := c.clock.Now()
	names := opts.replacer()
	d := incidentData{Incident: inc, Age: ago(now, inc.CreatedAt), Policy: opts.PolicyName(inc.Policy), Assignee: opts.Name(inc.Assignee),
		Commander: opts.Name(inc.Commander), Changes: changes, People: opts.people, Form: f}
	for _, e := range tl {
		row := timelineRow{TimelineEntry: e, Ago: ago(now, e.At), Text: names.Replace(e.Text)}
		if e.Kind == incidents.EntryOrigin {
			d.Origin = strings.Split(e.Text, "\n")
		}
		if id, ok := strings.CutPrefix(e.Actor, incidents.SenderActorPrefix); ok {
			row.Who = "integration " + id
		} else if e.Actor != "" {
			row.Who = opts.Name(e.Actor)
		}
		// Who an entry reached, unless its text says so already.
		var reach []string
		for _, u := range e.Users {
			if name := opts.Name(u); !strings.Contains(row.Text, name) {
				reach = append(reach, name)
			}
		}
		for _, ch := range e.Channels {
			if name := opts.Target(incident.Target{Kind: incident.TargetChannel, ID: ch}); !strings.Contains(row.Text, strings.TrimPrefix(name, "channel ")) {
				reach = append(reach, name)
			}
		}
		row.Reach = strings.Join(reach, ", ")
		d.Timeline = append(d.Timeline, row)
	}
	v.Title, v.Data = fmt.Sprintf("#%d %s", inc.Number, inc.Title), d
	c.render(w, r, status, "incident", v)
}

// replacer turns the ids that timeline texts carry into names.
func (o *responseOptions) replacer() *strings.Replacer {
	var pairs []string
	for _, m := range o.Members {
		pairs = append(pairs, m.UserID, m.Email)
	}
	for _, ch := range o.Channels {
		pairs = append(pairs, ch.ID, ch.Name)
	}
	for _, s := range o.Schedules {
		pairs = append(pairs, s.ID, s.Name)
	}
	for _, p := range o.Policies {
		pairs = append(pairs, p.ID, p.Name)
	}
	return strings.NewReplacer(pairs...)
}

// incidentAction acknowledges, resolves, escalates, assigns, sets the
// commander, adds a note or saves the postmortem, as the viewer.
func (c *Console) incidentAction(w http.ResponseWriter, r *http.Request, v *view) {
	inc := c.loadIncident(w, r, v)
	if inc == nil {
		return
	}
	f := postedForm(r)
	ctx, pid, actor, now := r.Context(), v.Project.ID, v.User.ID, c.clock.Now()
	to := fmt.Sprintf("/incidents/%d", inc.Number)
	var err error
	switch action := r.PathValue("action"); action {
	case "ack":
		_, err = c.response.Acknowledge(ctx, pid, inc.ID, actor, now)
	case "resolve":
		_, err = c.response.Resolve(ctx, pid, inc.ID, actor, now)
	case "escalate":
		_, err = c.response.Escalate(ctx, pid, inc.ID, actor, now)
	case "assign":
		_, err = c.response.Reassign(ctx, pid, inc.ID, f.V("user"), actor, now)
	case "commander":
		_, err = c.response.SetCommander(ctx, pid, inc.ID, f.V("commander"), actor, now)
	case "note":
		err = c.response.AddNote(ctx, pid, inc.ID, actor, f.V("text"), now)
		to += "#timeline"
	case "postmortem":
		if err = c.response.SavePostmortem(ctx, pid, inc.ID, actor, r.PostFormValue("text"), now); f.invalid(err, v, "text") {
			c.renderPostmortem(w, r, v, inc, http.StatusBadRequest, f)
			return
		}
		to += "/postmortem?saved=1"
	default:
		c.notFound(w, r, v)
		return
	}
	if f.invalid(err, v, "user", "commander", "text") {
		// Someone else acted first: show the incident as it is now.
		status := http.StatusBadRequest
		if nightjar.ErrorCode(err) == nightjar.ECONFLICT {
			status = http.StatusConflict
			if fresh, ferr := c.response.Incident(ctx, pid, inc.ID); ferr == nil {
				inc = fresh
			}
		}
		c.renderIncident(w, r, v, inc, status, f)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "incident."+r.PathValue("action"), fmt.Sprintf("#%d", inc.Number), "")
	http.Redirect(w, r, to, http.StatusSeeOther)
}

type postmortemData struct {
	Incident   *incident.Incident
	Postmortem *incidents.Postmortem
	UpdatedBy  string
	Form       *form
}

func (c *Console) postmortemPage(w http.ResponseWriter, r *http.Request, v *view) {
	if inc := c.loadIncident(w, r, v); inc != nil {
		c.renderPostmortem(w, r, v, inc, http.StatusOK, nil)
	}
}

// renderPostmortem shows the postmortem for editing: the saved text, a
// fresh draft from the timeline, or the text just submitted (f) with its
// problem.
func (c *Console) renderPostmortem(w http.ResponseWriter, r *http.Request, v *view, inc *incident.Incident, status int, f *form) {
	pm, err := c.response.Postmortem(r.Context(), v.Project.ID, inc.ID, time.UTC, c.clock.Now())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if f == nil {
		f = newForm()
		f.set("text", pm.Text)
	}
	ppl, err := c.people(r, v)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := postmortemData{Incident: inc, Postmortem: pm, Form: f}
	if r.URL.Query().Get("saved") != "" && status == http.StatusOK {
		v.Flash = "Postmortem saved."
	}
	if pm.UpdatedBy != "" {
		d.UpdatedBy = ppl.Name(pm.UpdatedBy)
	}
	v.Title, v.Data = fmt.Sprintf("Postmortem of #%d", inc.Number), d
	c.render(w, r, status, "postmortem", v)
}

// postmortemDownload sends the postmortem as a Markdown file.
func (c *Console) postmortemDownload(w http.ResponseWriter, r *http.Request, v *view) {
	inc := c.loadIncident(w, r, v)
	if inc == nil {
		return
	}
	pm, err := c.response.Postmortem(r.Context(), v.Project.ID, inc.ID, time.UTC, c.clock.Now())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="incident-%d-postmortem.md"`, inc.Number))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(pm.Text))
}

// responseSummary is the overview's first block: the open incidents and
// who is on call now in each schedule. It is nil for a project that has
// neither, so that the overview of a project without incident response
// looks as it always did.
type responseSummary struct {
	Open   []incidentRow
	OnCall []scheduleRow
}

func (c *Console) responseSummary(r *http.Request, v *view) (*responseSummary, error) {
	incs, err := c.response.Incidents(r.Context(), v.Project.ID, incidents.IncidentFilter{Open: true, Limit: 20})
	if err != nil {
		return nil, err
	}
	ppl, err := c.people(r, v)
	if err != nil {
		return nil, err
	}
	s := &responseSummary{}
	if s.OnCall, err = c.onCallNow(r, v, ppl); err != nil || len(incs)+len(s.OnCall) == 0 {
		return nil, err
	}
	now := c.clock.Now()
	for _, inc := range incs {
		s.Open = append(s.Open, incidentRow{Incident: inc, Age: ago(now, inc.CreatedAt), Assignee: ppl.Name(inc.Assignee)})
	}
	return s, nil
}
