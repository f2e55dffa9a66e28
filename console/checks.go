package console

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/schedule"
)

func (c *Console) checkRoutes() {
	c.mux.Handle("GET /checks", c.page(nightjar.NeedRead, c.checksPage))
	c.mux.Handle("GET /checks/rows", c.page(nightjar.NeedRead, c.checkRows))
	c.mux.Handle("POST /checks/bulk", c.page(nightjar.NeedWrite, c.bulk))
	c.mux.Handle("GET /checks/new", c.page(nightjar.NeedWrite, c.newCheckPage))
	c.mux.Handle("POST /checks/new", c.page(nightjar.NeedWrite, c.createCheck))
	c.mux.Handle("GET /checks/{id}", c.page(nightjar.NeedRead, c.checkPage))
	c.mux.Handle("GET /checks/{id}/edit", c.page(nightjar.NeedWrite, c.editCheckPage))
	c.mux.Handle("POST /checks/{id}/edit", c.page(nightjar.NeedWrite, c.updateCheck))
	c.mux.Handle("POST /checks/{id}/pause", c.page(nightjar.NeedWrite, c.pauseResume(false)))
	c.mux.Handle("POST /checks/{id}/resume", c.page(nightjar.NeedWrite, c.pauseResume(true)))
	c.mux.Handle("POST /checks/{id}/delete", c.page(nightjar.NeedWrite, c.deleteCheck))
	c.mux.Handle("GET /checks/{id}/pings/{n}", c.page(nightjar.NeedRead, c.pingBody))
}

// statuses are the statuses in the order that needs attention first.
var statuses = []string{nightjar.StatusDown, nightjar.StatusLate, nightjar.StatusStarted, nightjar.StatusUp, nightjar.StatusNew, nightjar.StatusPaused}

// checkRow is a check as the lists show it: its status with the reason
// beside it, and its ping URL.
type checkRow struct {
	*nightjar.Check
	Reason  template.HTML
	PingURL string
	// Overdue is whether the next expected ping is in the past.
	Overdue bool
}

// row makes the list view of ch at now.
func (c *Console) row(ch *nightjar.Check, now time.Time) checkRow {
	s := &ch.State
	r := checkRow{Check: ch, PingURL: c.cfg.BaseURL + "/ping/" + ch.ID,
		Overdue: !s.ExpectedAt.IsZero() && s.ExpectedAt.Before(now) && ch.State.Status != nightjar.StatusPaused}
	r.Reason = stateReason(ch, now)
	return r
}

// stateReason says in words why a check is in its status: the failure
// that made it down, how long a late one has been silent, how long a run
// has been going and when it must finish.
func stateReason(ch *nightjar.Check, now time.Time) template.HTML {
	s := &ch.State
	lastPing := template.HTML("it has never pinged")
	if !s.LastPing.IsZero() {
		lastPing = "no ping since " + relTime(now, s.LastPing)
	}
	switch s.Status {
	case nightjar.StatusDown:
		if strings.HasPrefix(s.Reason, "no ping since") {
			return lastPing + "; the grace period of " + template.HTML(nightjar.HumanDuration(ch.Grace)) + " ran out"
		}
		return prose(now, s.Reason)
	case nightjar.StatusLate:
		return lastPing + "; one was expected " + relTime(now, s.ExpectedAt)
	case nightjar.StatusStarted:
		out := "running for " + template.HTML(roughDuration(now.Sub(s.LastStart)))
		if !s.NextDeadline.IsZero() {
			out += ", must finish by " + clockTime(s.NextDeadline)
		}
		return out
	case nightjar.StatusNew:
		return "waiting for its first ping"
	case nightjar.StatusPaused:
		return "paused " + relTime(now, s.Since)
	}
	return ""
}

// clockTime is a time of day ("03:30 UTC") for a deadline in the next
// hours; the script shows it in the viewer's zone.
func clockTime(t time.Time) template.HTML {
	return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s" data-clock>%s</time>`,
		t.UTC().Format(time.RFC3339), exact(t), t.UTC().Format("15:04 UTC")))
}

// attentionLimit is how many checks of one status the overview lists.
const attentionLimit = 50

// attention is one status's checks on the overview: the first few, and
// how many there are in all.
type attention struct {
	Status string
	Count  int64
	Rows   []checkRow
}

type overviewData struct {
	Counts   map[string]int64
	Total    int64
	Trouble  []attention
	Flips    []*checks.ProjectFlip
	PingKey  string
	Statuses []string

	// Response is the open incidents and who is on call, shown first.
	Response *responseSummary
	// BadTime is the customers having a bad time now, per service and
	// per SLO; nil when the project has no SLOs.
	BadTime *badTimeBlock
}

// Troubled is how many checks need attention.
func (d overviewData) Troubled() int64 {
	var n int64
	for _, a := range d.Trouble {
		n += a.Count
	}
	return n
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, v *view) {
	ctx := r.Context()
	counts, err := c.checks.CountInProject(ctx, v.Project.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := overviewData{Counts: counts, PingKey: v.Project.PingKey, Statuses: statuses}
	if d.Response, err = c.responseSummary(r, v); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.BadTime, err = c.badTimeNow(ctx, v.Project.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	for _, n := range counts {
		d.Total += n
	}
	now := c.clock.Now()
	for _, st := range []string{nightjar.StatusDown, nightjar.StatusLate, nightjar.StatusStarted} {
		if counts[st] == 0 {
			continue
		}
		found, err := c.checks.List(ctx, v.Project.ID, checks.Filter{Status: st, Sort: checks.SortSince, Limit: attentionLimit})
		if err != nil {
			c.fail(w, r, err)
			return
		}
		a := attention{Status: st, Count: counts[st]}
		for _, ch := range found {
			a.Rows = append(a.Rows, c.row(ch, now))
		}
		d.Trouble = append(d.Trouble, a)
	}
	if d.Flips, err = c.checks.RecentFlips(ctx, v.Project.ID, 15); err != nil {
		c.fail(w, r, err)
		return
	}
	v.Title, v.Data = "Overview", d
	c.render(w, r, http.StatusOK, "overview", v)
}

// loadCheck finds a check of the view's project, answering 404 (and
// returning nil) otherwise — also for checks of other projects.
func (c *Console) loadCheck(w http.ResponseWriter, r *http.Request, v *view) *nightjar.Check {
	ch, err := c.checks.Get(r.Context(), v.Project.ID, r.PathValue("id"))
	if err != nil {
		c.lookupFailed(w, r, v, err)
		return nil
	}
	return ch
}

type checkData struct {
	Check       *nightjar.Check
	Row         checkRow
	PingURL     string
	SlugURL     string
	RunLine     string
	CronLine    string
	Pings       []*nightjar.Ping
	Flips       []*nightjar.Flip
	Description string
	Durations   template.HTML
	Metrics     []metricChart
	Uptime      template.HTML
}

// cronSteps are the intervals a crontab line can keep exactly, with the
// line for each, largest first.
var cronSteps = []struct {
	every time.Duration
	line  string
}{
	{7 * 24 * time.Hour, "0 3 * * 1"}, {24 * time.Hour, "0 3 * * *"}, {12 * time.Hour, "0 */12 * * *"},
	{8 * time.Hour, "0 */8 * * *"}, {6 * time.Hour, "0 */6 * * *"}, {4 * time.Hour, "0 */4 * * *"},
	{3 * time.Hour, "0 */3 * * *"}, {2 * time.Hour, "0 */2 * * *"}, {time.Hour, "0 * * * *"},
	{30 * time.Minute, "*/30 * * * *"}, {20 * time.Minute, "*/20 * * * *"}, {15 * time.Minute, "*/15 * * * *"},
	{10 * time.Minute, "*/10 * * * *"}, {5 * time.Minute, "*/5 * * * *"}, {4 * time.Minute, "*/4 * * * *"},
	{3 * time.Minute, "*/3 * * * *"}, {2 * time.Minute, "*/2 * * * *"},
}

// cronFor suggests the crontab schedule for a period check: the longest
// interval cron keeps exactly that is no longer than the period, so the
// job pings at least as often as the check expects (every 5 minutes for a
// 5-minute period, hourly for 90 minutes).
func cronFor(period time.Duration) string {
	for _, s := range cronSteps {
		if s.every <= period {
			return s.line
		}
	}
	return "* * * * *"
}

func (c *Console) checkPage(w http.ResponseWriter, r *http.Request, v *view) {
	ch := c.loadCheck(w, r, v)
	if ch == nil {
		return
	}
	d := checkData{Check: ch, PingURL: c.cfg.BaseURL + "/ping/" + ch.ID}
	if ch.Slug != "" {
		d.SlugURL = c.cfg.BaseURL + "/ping/" + v.Project.PingKey + "/" + ch.Slug
	}
	when := cronFor(ch.Timeout)
	if ch.Kind == nightjar.KindCron {
		when = ch.Schedule
	}
	d.Row = c.row(ch, c.clock.Now())
	if ch.Kind != nightjar.KindSimple {
		d.Description, _ = schedule.Describe(ch.Schedule)
	}
	d.CronLine = when + " /path/to/job.sh && curl -fsS -m 10 --retry 5 -o /dev/null " + d.PingURL
	d.RunLine = when + " nightjar run --url " + c.cfg.BaseURL + "/ping --check " + ch.ID + " -- /path/to/job.sh"
	var err error
	if d.Pings, err = c.checks.Pings(r.Context(), ch.ID, 100); err != nil {
		c.fail(w, r, err)
		return
	}
	now := c.clock.Now()
	flips, err := c.checks.Flips(r.Context(), ch.ID, now.AddDate(0, 0, -91), 1000)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Flips = flips[:min(len(flips), 50)]
	d.Durations = durationChart(d.Pings)
	d.Metrics = metricCharts(d.Pings)
	d.Uptime = uptimeBar(uptimeDays(ch.CreatedAt, flips, ch.State.Status, now, 90))
	v.Title, v.Data = ch.Name, d
	c.render(w, r, http.StatusOK, "check", v)
}

// pingBodyData is the page of one ping's full body.
type pingBodyData struct {
	Check *nightjar.Check
	Ping  *nightjar.Ping
	Body  string
}

func (c *Console) pingBody(w http.ResponseWriter, r *http.Request, v *view) {
	ch := c.loadCheck(w, r, v)
	if ch == nil {
		return
	}
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil {
		c.notFound(w, r, v)
		return
	}
	p, err := c.checks.PingWithBody(r.Context(), ch.ID, n)
	if err != nil {
		c.lookupFailed(w, r, v, err)
		return
	}
	v.Title, v.Data = fmt.Sprintf("%s · ping #%d", ch.Name, n), pingBodyData{Check: ch, Ping: p, Body: string(p.Body)}
	c.render(w, r, http.StatusOK, "pingbody", v)
}

// checkForm is the create/edit form's fields, as typed.
type checkForm struct {
	Name, Slug, Tags, Desc, Service                      string
	Kind, Timeout, Grace, Schedule, TZ                   string
	EarlyTolerance, MaxRuntime, MinRuntime, RealertAfter string
	FailureThreshold                                     string
	PostOnly, ManualResume                               bool
	MetricRules                                          string
	AllChannels                                          bool
	ChannelIDs                                           []string
	FilterBody, FilterHTTPBody, FilterDefaultFail        bool
	StartKw, SuccessKw, FailureKw                        string
	Preview                                              []string
	PreviewDesc                                          string
}

func formFromCheck(ch *nightjar.Check) checkForm {
	s := nightjar.FormatDuration
	return checkForm{Name: ch.Name, Slug: ch.Slug, Tags: strings.Join(ch.Tags, " "), Desc: ch.Desc, Service: ch.Service,
		Kind: ch.Kind, Timeout: s(ch.Timeout), Grace: s(ch.Grace), Schedule: ch.Schedule, TZ: ch.TZ,
		EarlyTolerance: s(ch.EarlyTolerance), MaxRuntime: s(ch.MaxRuntime), MinRuntime: s(ch.MinRuntime),
		RealertAfter: s(ch.RealertInterval), FailureThreshold: strconv.Itoa(ch.FailureThreshold),
		PostOnly: ch.Methods == "POST", ManualResume: ch.ManualResume, MetricRules: strings.Join(ch.MetricRules, "\n"),
		AllChannels: ch.Channels == nil, ChannelIDs: ch.Channels, FilterBody: ch.FilterBody,
		FilterHTTPBody: ch.FilterHTTPBody, FilterDefaultFail: ch.FilterDefaultFail,
		StartKw: ch.StartKeywords, SuccessKw: ch.SuccessKeywords, FailureKw: ch.FailureKeywords}
}

func readForm(r *http.Request) checkForm {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return checkForm{Name: f("name"), Slug: f("slug"), Tags: f("tags"), Desc: r.PostFormValue("desc"), Service: f("service"),
		Kind: f("kind"), Timeout: f("timeout"), Grace: f("grace"), Schedule: strings.ReplaceAll(f("schedule"), "\r\n", "\n"), TZ: f("tz"),
		EarlyTolerance: f("early_tolerance"), MaxRuntime: f("max_runtime"), MinRuntime: f("min_runtime"),
		RealertAfter: f("realert_interval"), FailureThreshold: f("failure_threshold"),
		PostOnly: r.PostFormValue("post_only") == "on", ManualResume: r.PostFormValue("manual_resume") == "on",
		MetricRules: r.PostFormValue("metric_rules"), AllChannels: r.PostFormValue("notify") != "some",
		ChannelIDs: r.PostForm["channel"], FilterBody: r.PostFormValue("filter_body") == "on",
		FilterHTTPBody: r.PostFormValue("filter_http_body") == "on", FilterDefaultFail: r.PostFormValue("filter_default_fail") == "on",
		StartKw: f("start_kw"), SuccessKw: f("success_kw"), FailureKw: f("failure_kw")}
}

// patch translates the form into a check patch: durations as people
// write them ("90s", "15m", "2d") into durations (a field error when one
// does not parse), the kind radio, space-separated tags, one metric rule a
// line, and the channel boxes. The form states every setting, so the patch
// sets every one.
func (f checkForm) patch() (*nightjar.CheckPatch, error) {
	dur := func(field, s string) (time.Duration, error) {
		if s == "" {
			return 0, nil
		}
		d, err := nightjar.ParseDuration(s)
		if err != nil {
			return 0, nightjar.FieldError(field, "must be a duration such as 90s, 15m, 1h or 2d")
		}
		return d, nil
	}
	p := &nightjar.CheckPatch{Name: &f.Name, Slug: &f.Slug, Desc: &f.Desc, Service: &f.Service,
		Tags: ptr(strings.Fields(f.Tags)), Schedule: &f.Schedule, Kind: &f.Kind, TZ: &f.TZ,
		Methods: ptr(""), ManualResume: &f.ManualResume, MetricRules: ptr([]string{}),
		FilterBody: &f.FilterBody, FilterHTTPBody: &f.FilterHTTPBody, FilterDefaultFail: &f.FilterDefaultFail,
		StartKeywords: &f.StartKw, SuccessKeywords: &f.SuccessKw, FailureKeywords: &f.FailureKw,
		Channels: &nightjar.ChannelSelection{All: f.AllChannels}}
	for _, d := range []struct {
		field, value string
		dst          **time.Duration
	}{
		{"timeout", f.Timeout, &p.Timeout}, {"grace", f.Grace, &p.Grace}, {"early_tolerance", f.EarlyTolerance, &p.EarlyTolerance},
		{"max_runtime", f.MaxRuntime, &p.MaxRuntime}, {"min_runtime", f.MinRuntime, &p.MinRuntime},
		{"realert_interval", f.RealertAfter, &p.RealertInterval},
	} {
		n, err := dur(d.field, d.value)
		if err != nil {
			return nil, err
		}
		*d.dst = ptr(n)
	}
	ft := 0
	if f.FailureThreshold != "" {
		n, err := strconv.Atoi(f.FailureThreshold)
		if err != nil {
			return nil, nightjar.FieldError("failure_threshold", "must be a whole number")
		}
		ft = n
	}
	p.FailureThreshold = ptr(ft)
	if f.PostOnly {
		p.Methods = ptr("POST")
	}
	if !f.AllChannels {
		p.Channels.Refs = f.ChannelIDs
	}
	for _, line := range strings.Split(f.MetricRules, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			*p.MetricRules = append(*p.MetricRules, line)
		}
	}
	return p, nil
}

// preview fills the form's "next expected pings" from its schedule, in
// the check's time zone, so the page shows it even without JavaScript.
func (f *checkForm) preview(now time.Time) {
	if f.Kind == nightjar.KindSimple || f.Schedule == "" {
		return
	}
	sched, err := schedule.Parse(f.Schedule)
	if err != nil {
		return
	}
	loc, err := nightjar.LoadLocation(f.TZ)
	if err != nil {
		return
	}
	f.PreviewDesc, _ = schedule.Describe(f.Schedule)
	for _, t := range schedule.NextN(sched, now, loc, 5) {
		f.Preview = append(f.Preview, t.In(loc).Format("Mon 2006-01-02 15:04 MST"))
	}
}

// checkFormData is the page of the check form: the fields as typed, the
// check being edited (nil for a new one), and the field a server-side
// error is about.
type checkFormData struct {
	Form     checkForm
	Check    *nightjar.Check
	Zones    []string
	Channels []*nightjar.Channel
	// Field is the field a server-side error is about, and Message that
	// error in the user's words.
	Field, Message string
}

// fieldError is what the form shows beside one field.
type fieldError struct{ Field, Message string }

// For is the error to show beside field, if the error is about it.
func (d checkFormData) For(field string) fieldError {
	if field != d.Field {
		return fieldError{Field: field}
	}
	return fieldError{Field: field, Message: d.Message}
}

// Advanced is whether the Advanced part opens: when the error is in it.
func (d checkFormData) Advanced() bool {
	switch d.Field {
	case "", "name", "tags", "service", "desc", "kind", "timeout", "schedule", "tz", "grace", "channels":
		return false
	}
	return true
}

// fieldLabels are the form's names for the fields the domain's errors
// name.
var fieldLabels = map[string]string{
	"name": "The name", "slug": "The slug", "tags": "Tags", "service": "The service", "desc": "The description",
	"kind": "The kind", "timeout": "The period", "schedule": "The schedule", "tz": "The time zone", "grace": "The grace period",
	"early_tolerance": "The early tolerance", "max_runtime": "The max runtime", "min_runtime": "The min runtime",
	"failure_threshold": "The number of failures", "realert_interval": "The repeat interval", "metric_rules": "A metric rule",
	"methods": "The methods", "channels": "The channels", "failure_kw": "Failure keywords", "success_kw": "Success keywords",
	"start_kw": "Start keywords",
}

var secondsRE = regexp.MustCompile(`(\d+) seconds`)

// userWords turns a domain error about a field ("grace: must be between 60
// and 31536000 seconds") into the form's words ("The grace period must be
// between 1 min and 365 days").
func userWords(field, msg string) string {
	msg = strings.TrimPrefix(msg, field+": ")
	msg = secondsRE.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.ParseInt(strings.TrimSuffix(m, " seconds"), 10, 64)
		return nightjar.HumanDuration(time.Duration(n) * time.Second)
	})
	if label, ok := fieldLabels[field]; ok {
		return label + " " + msg
	}
	return msg
}

func (c *Console) renderForm(w http.ResponseWriter, r *http.Request, v *view, status int, f checkForm, ch *nightjar.Check, err error) {
	f.preview(c.clock.Now())
	channels, cerr := c.channels.List(r.Context(), v.Project.ID)
	if cerr != nil {
		c.fail(w, r, cerr)
		return
	}
	data := checkFormData{Form: f, Check: ch, Zones: commonZones, Channels: channels}
	if err != nil {
		v.Error = nightjar.ErrorMessage(err)
		if field := nightjar.ErrorField(err); fieldLabels[field] != "" {
			data.Field, data.Message = field, userWords(field, v.Error)
			v.Error = "Please correct the field marked below."
		}
	}
	v.Data = data
	c.render(w, r, status, "checkform", v)
}

func (c *Console) newCheckPage(w http.ResponseWriter, r *http.Request, v *view) {
	v.Title = "New check"
	f := formFromCheck(nightjar.NewCheck(v.Project.ID, ""))
	c.renderForm(w, r, v, http.StatusOK, f, nil, nil)
}

func (c *Console) createCheck(w http.ResponseWriter, r *http.Request, v *view) {
	v.Title = "New check"
	f := readForm(r)
	channels, err := c.channels.List(r.Context(), v.Project.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	now := c.clock.Now()
	var ch *nightjar.Check
	p, err := f.patch()
	if err == nil {
		ch, err = p.NewCheck(v.Project.ID, channels, now)
	}
	if err == nil {
		err = c.checks.Create(r.Context(), ch, now)
	}
	if nightjar.ErrorCode(err) == nightjar.EINVALID {
		c.renderForm(w, r, v, http.StatusBadRequest, f, nil, err)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "check.create", ch.Name, "")
	http.Redirect(w, r, "/checks/"+ch.ID, http.StatusSeeOther)
}

func (c *Console) editCheckPage(w http.ResponseWriter, r *http.Request, v *view) {
	ch := c.loadCheck(w, r, v)
	if ch == nil {
		return
	}
	v.Title = "Edit " + ch.Name
	c.renderForm(w, r, v, http.StatusOK, formFromCheck(ch), ch, nil)
}

func (c *Console) updateCheck(w http.ResponseWriter, r *http.Request, v *view) {
	ch := c.loadCheck(w, r, v)
	if ch == nil {
		return
	}
	v.Title = "Edit " + ch.Name
	f := readForm(r)
	channels, err := c.channels.List(r.Context(), v.Project.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	saved := ch
	p, err := f.patch()
	if err == nil {
		now := c.clock.Now()
		saved, err = c.checks.Update(r.Context(), v.Project.ID, ch.ID, now, func(ch *nightjar.Check) error {
			return p.Apply(ch, channels, now)
		})
	}
	if nightjar.ErrorCode(err) == nightjar.EINVALID {
		c.renderForm(w, r, v, http.StatusBadRequest, f, ch, err)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "check.update", saved.Name, "")
	http.Redirect(w, r, "/checks/"+ch.ID, http.StatusSeeOther)
}

// setPaused pauses or resumes one of the project's checks. Resuming a
// check that is running already has nothing to do and is no error here.
func (c *Console) setPaused(r *http.Request, v *view, id string, paused bool) error {
	_, err := c.checks.SetPaused(r.Context(), v.Project.ID, id, paused, c.clock.Now())
	if nightjar.ErrorCode(err) == nightjar.ECONFLICT {
		return nil
	}
	return err
}

func (c *Console) pauseResume(resume bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, v *view) {
		ch := c.loadCheck(w, r, v)
		if ch == nil {
			return
		}
		if err := c.setPaused(r, v, ch.ID, !resume); err != nil {
			c.fail(w, r, err)
			return
		}
		action := "check.pause"
		if resume {
			action = "check.resume"
		}
		c.audit(r, v, action, ch.Name, "")
		http.Redirect(w, r, "/checks/"+ch.ID, http.StatusSeeOther)
	}
}

func (c *Console) bulk(w http.ResponseWriter, r *http.Request, v *view) {
	resume := r.PostFormValue("action") == "resume"
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	n := 0
	for _, id := range r.PostForm["id"] {
		if !nightjar.ValidText(id) {
			continue // names nothing
		}
		err := c.setPaused(r, v, id, !resume)
		if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
			continue // another project's or deleted: skip silently, never touch it
		} else if err != nil {
			c.fail(w, r, err)
			return
		}
		n++
	}
	action := "checks.pause"
	if resume {
		action = "checks.resume"
	}
	c.audit(r, v, action, fmt.Sprintf("%d checks", n), "")
	http.Redirect(w, r, "/checks?"+url.Values{"done": {strconv.Itoa(n)}}.Encode(), http.StatusSeeOther)
}

func (c *Console) deleteCheck(w http.ResponseWriter, r *http.Request, v *view) {
	ch := c.loadCheck(w, r, v)
	if ch == nil {
		return
	}
	if err := c.checks.Delete(r.Context(), v.Project.ID, ch.ID, c.clock.Now()); err != nil {
		c.fail(w, r, err)
		return
	}
	c.audit(r, v, "check.delete", ch.Name, "")
	http.Redirect(w, r, "/checks", http.StatusSeeOther)
}

// audit records a change made in the console; a failure to record is
// logged, never shown.
func (c *Console) audit(r *http.Request, v *view, action, target, detail string) {
	err := c.auditLog.Record(r.Context(), nightjar.AuditEntry{ProjectID: v.Project.ID, Actor: v.User.Email, Action: action,
		Target: target, Detail: detail, CreatedAt: c.clock.Now()})
	if err != nil {
		c.log.Error("write audit log", "err", err)
	}
}

// commonZones are offered in the time zone field's suggestions.
var commonZones = []string{"UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Helsinki", "America/New_York",
	"America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Singapore",
	"Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland"}
