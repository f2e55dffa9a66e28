package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/requestid"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
)

// The SLO form covers the fields most objectives set; what it does not
// show (error rules, attributes, Prometheus queries, custom alert rules)
// an edit keeps as it was. Its inputs are named by the definition's own
// field paths, so each problem slo.Definition.Problems reports lands
// beside its input.

func (c *Console) sloFormRoutes() {
	c.mux.Handle("GET /slos/new", c.page(nightjar.NeedWrite, c.newSLOPage))
	c.mux.Handle("POST /slos/new", c.page(nightjar.NeedWrite, c.createSLO))
	c.mux.Handle("GET /slos/{id}/edit", c.page(nightjar.NeedWrite, c.editSLOPage))
	c.mux.Handle("POST /slos/{id}/edit", c.page(nightjar.NeedWrite, c.updateSLO))
}

// sloForm is the form's fields as typed.
type sloForm struct {
	Service, Name, Description string
	Kind, Threshold            string
	SpanName, Route, Operation string
	Objective                  string
	Rolling, Calendar, TZ      string
	MinEvents                  string
}

func formFromDefinition(d slo.Definition) sloForm {
	f := sloForm{Service: d.Service, Name: d.Name, Description: d.Description, Kind: d.Indicator.Kind, Threshold: d.Indicator.Threshold,
		SpanName: d.Indicator.Selector.SpanName, Route: d.Indicator.Selector.Route, Operation: d.Indicator.Selector.Operation,
		Rolling: d.Window.Rolling, Calendar: d.Window.Calendar, TZ: d.Window.TimeZone}
	if d.Objective != 0 {
		f.Objective = strconv.FormatFloat(d.Objective, 'f', -1, 64)
	}
	if d.Alerting.MinEvents != 0 {
		f.MinEvents = strconv.FormatInt(d.Alerting.MinEvents, 10)
	}
	return f
}

func readSLOForm(r *http.Request) sloForm {
	g := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return sloForm{Service: g("service"), Name: g("name"), Description: g("description"), Kind: g("indicator.kind"),
		Threshold: g("indicator.threshold"), SpanName: g("indicator.selector.span_name"), Route: g("indicator.selector.route"),
		Operation: g("indicator.selector.operation"), Objective: g("objective"), Rolling: g("window.rolling"),
		Calendar: g("window.calendar"), TZ: g("window.time_zone"), MinEvents: g("alerting.min_events")}
}

// fill writes the form's fields into d and returns every problem: a
// number that is not one, and what slo.Definition.Problems finds.
func (f sloForm) fill(d *slo.Definition) []*nightjar.Error {
	var problems []*nightjar.Error
	d.Service, d.Name, d.Description = f.Service, f.Name, f.Description
	d.Indicator.Kind, d.Indicator.Threshold = f.Kind, f.Threshold
	d.Indicator.Selector.SpanName, d.Indicator.Selector.Route, d.Indicator.Selector.Operation = f.SpanName, f.Route, f.Operation
	d.Window = slo.Window{Rolling: f.Rolling, Calendar: f.Calendar, TimeZone: f.TZ}
	d.Objective = 0
	if f.Objective != "" {
		n, err := strconv.ParseFloat(strings.TrimSuffix(f.Objective, "%"), 64)
		if err != nil {
			problems = append(problems, &nightjar.Error{Code: nightjar.EINVALID, Field: "objective", Message: "must be a per cent such as 99.9"})
		}
		d.Objective = n
	}
	d.Alerting.MinEvents = 0
	if f.MinEvents != "" {
		n, err := strconv.ParseInt(f.MinEvents, 10, 64)
		if err != nil {
			problems = append(problems, &nightjar.Error{Code: nightjar.EINVALID, Field: "alerting.min_events", Message: "must be a whole number"})
		}
		d.Alerting.MinEvents = n
	}
	return append(problems, d.Problems()...)
}

// sloFormData is the form's page: the fields as typed, the objective
// being edited (nil for a new one), and the problems by field.
type sloFormData struct {
	Form sloForm
	SLO  *slos.SLO
	// Problems are the messages by the field they are about; Other are
	// those about fields the form does not show.
	Problems map[string]string
	Other    []string
}

// For is the error to show beside field, if there is one.
func (d sloFormData) For(field string) fieldError {
	return fieldError{Field: strings.ReplaceAll(field, ".", "-"), Message: d.Problems[field]}
}

// sloFieldLabels name the form's fields in the words of its labels, for
// the errors shown beside them.
var sloFieldLabels = map[string]string{"service": "The service", "name": "The name", "description": "The description",
	"indicator.kind": "The kind", "indicator.threshold": "The slowest good request", "indicator.selector.span_name": "The span name",
	"indicator.selector.route": "The route", "indicator.selector.operation": "The operation", "objective": "The target",
	"window": "The window", "window.rolling": "The rolling window", "window.calendar": "The calendar window",
	"window.time_zone": "The time zone", "alerting.min_events": "The fewest requests"}

func (c *Console) renderSLOForm(w http.ResponseWriter, r *http.Request, v *view, status int, f sloForm, o *slos.SLO, problems []*nightjar.Error) {
	d := sloFormData{Form: f, SLO: o, Problems: map[string]string{}}
	for _, p := range problems {
		msg := strings.TrimPrefix(p.Message, p.Field+": ")
		label, shown := sloFieldLabels[p.Field]
		switch {
		case d.Problems[p.Field] != "":
		case shown:
			d.Problems[p.Field] = label + " " + msg
		default:
			d.Other = append(d.Other, p.Message)
		}
	}
	v.Data = d
	c.render(w, r, status, "sloform", v)
}

// saveFailed answers a failed save: the form again for a definition the
// store refuses (a conflict is about the name), the error page otherwise.
func (c *Console) saveFailed(w http.ResponseWriter, r *http.Request, v *view, f sloForm, o *slos.SLO, err error) {
	switch nightjar.ErrorCode(err) {
	case nightjar.ECONFLICT:
		c.renderSLOForm(w, r, v, http.StatusConflict, f, o, []*nightjar.Error{{Field: "name", Message: "is taken: " + nightjar.ErrorMessage(err)}})
	case nightjar.EINVALID:
		c.renderSLOForm(w, r, v, http.StatusBadRequest, f, o, []*nightjar.Error{{Field: nightjar.ErrorField(err), Message: nightjar.ErrorMessage(err)}})
	default:
		c.fail(w, r, err)
	}
}

func (c *Console) newSLOPage(w http.ResponseWriter, r *http.Request, v *view) {
	v.Title = "New SLO"
	c.renderSLOForm(w, r, v, http.StatusOK, sloForm{Kind: slo.KindAvailability, Objective: "99.9", Rolling: "30d"}, nil, nil)
}

func (c *Console) createSLO(w http.ResponseWriter, r *http.Request, v *view) {
	v.Title = "New SLO"
	f := readSLOForm(r)
	o := &slos.SLO{ProjectID: v.Project.ID}
	if problems := f.fill(&o.Definition); len(problems) > 0 {
		c.renderSLOForm(w, r, v, http.StatusBadRequest, f, nil, problems)
		return
	}
	if err := c.slos.Create(r.Context(), o, c.clock.Now()); err != nil {
		c.saveFailed(w, r, v, f, nil, err)
		return
	}
	c.audit(r, v, "slo.create", o.Name(), "")
	c.refreshIngest(r)
	http.Redirect(w, r, "/slos/"+o.ID, http.StatusSeeOther)
}

// loadSLO finds an objective of the view's project, answering 404 (and
// returning nil) otherwise.
func (c *Console) loadSLO(w http.ResponseWriter, r *http.Request, v *view) *slos.SLO {
	if c.slos == nil {
		c.notFound(w, r, v)
		return nil
	}
	o, err := c.slos.Get(r.Context(), v.Project.ID, r.PathValue("id"))
	if err != nil {
		c.lookupFailed(w, r, v, err)
		return nil
	}
	return o
}

func (c *Console) editSLOPage(w http.ResponseWriter, r *http.Request, v *view) {
	o := c.loadSLO(w, r, v)
	if o == nil {
		return
	}
	v.Title = "Edit " + o.Definition.Name
	c.renderSLOForm(w, r, v, http.StatusOK, formFromDefinition(o.Definition), o, nil)
}

func (c *Console) updateSLO(w http.ResponseWriter, r *http.Request, v *view) {
	o := c.loadSLO(w, r, v)
	if o == nil {
		return
	}
	v.Title = "Edit " + o.Definition.Name
	f := readSLOForm(r)
	def := o.Definition
	if problems := f.fill(&def); len(problems) > 0 {
		c.renderSLOForm(w, r, v, http.StatusBadRequest, f, o, problems)
		return
	}
	saved, err := c.slos.Edit(r.Context(), v.Project.ID, o.ID, c.clock.Now(), func(d *slo.Definition) error {
		if problems := f.fill(d); len(problems) > 0 {
			return nightjar.Problems(problems).Err()
		}
		return nil
	})
	if err != nil {
		c.saveFailed(w, r, v, f, o, err)
		return
	}
	c.audit(r, v, "slo.update", saved.Name(), "")
	c.refreshIngest(r)
	http.Redirect(w, r, "/slos/"+o.ID, http.StatusSeeOther)
}

// refreshIngest makes ingest count by the objectives as they are now. A
// failure is logged: the next flush loads them again.
func (c *Console) refreshIngest(r *http.Request) {
	if c.refresh == nil {
		return
	}
	if err := c.refresh(r.Context()); err != nil {
		c.log.Warn("refresh ingest objectives", "request_id", requestid.From(r.Context()), "err", err)
	}
}
