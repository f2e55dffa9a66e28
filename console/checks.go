package console

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/schedule"
)

func (c *Console) checkRoutes() {
	c.mux.Handle("GET /checks", c.page(nightjar.NeedRead, c.checksPage))
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

// statusOrder puts what needs attention first.
var statusOrder = map[string]int{nightjar.StatusDown: 0, nightjar.StatusLate: 1, nightjar.StatusStarted: 2, nightjar.StatusUp: 3, nightjar.StatusNew: 4, nightjar.StatusPaused: 5}

type overviewData struct {
	Counts   map[string]int64
	Total    int64
	Trouble  []*nightjar.Check
	Flips    []*checks.ProjectFlip
	PingKey  string
	Statuses []string

	// Response is the open incidents and who is on call, shown first.
	Response *responseSummary
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, v *view) {
	ctx := r.Context()
	counts, err := c.checks.CountInProject(ctx, v.Project.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := overviewData{Counts: counts, PingKey: v.Project.PingKey, Statuses: []string{"down", "late", "started", "up", "new", "paused"}}
	if d.Response, err = c.responseSummary(r, v); err != nil {
		c.fail(w, r, err)
		return
	}
	for _, n := range counts {
		d.Total += n
	}
	for _, st := range []string{nightjar.StatusDown, nightjar.StatusLate} {
		found, err := c.checks.List(ctx, v.Project.ID, checks.Filter{Status: st, Limit: 100})
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.Trouble = append(d.Trouble, found...)
	}
	sort.SliceStable(d.Trouble, func(i, j int) bool { return d.Trouble[i].UpdatedAt.After(d.Trouble[j].UpdatedAt) })
	if d.Flips, err = c.checks.RecentFlips(ctx, v.Project.ID, 15); err != nil {
		c.fail(w, r, err)
		return
	}
	v.Title, v.Data = "Overview", d
	c.render(w, r, http.StatusOK, "overview", v)
}

type checksData struct {
	Checks []*nightjar.Check
	Status string
	Tag    string
	Query  string
	Tags   []string
}

func (c *Console) checksPage(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	d := checksData{Status: q.Get("status"), Tag: q.Get("tag"), Query: strings.TrimSpace(q.Get("q"))}
	if _, ok := statusOrder[d.Status]; !ok {
		d.Status = ""
	}
	all, err := c.checks.List(r.Context(), v.Project.ID, checks.Filter{})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	tags := map[string]bool{}
	needle := strings.ToLower(d.Query)
	for _, ch := range all {
		for _, t := range ch.Tags {
			tags[t] = true
		}
		if d.Status != "" && ch.State.Status != d.Status {
			continue
		}
		if d.Tag != "" && !slices.Contains(ch.Tags, d.Tag) {
			continue
		}
		if needle != "" && !strings.Contains(strings.ToLower(ch.Name+" "+ch.Slug+" "+ch.Desc), needle) {
			continue
		}
		d.Checks = append(d.Checks, ch)
	}
	for t := range tags {
		d.Tags = append(d.Tags, t)
	}
	sort.Strings(d.Tags)
	sort.SliceStable(d.Checks, func(i, j int) bool {
		return statusOrder[d.Checks[i].State.Status] < statusOrder[d.Checks[j].State.Status]
	})
	v.Title, v.Data = "Checks", d
	c.render(w, r, http.StatusOK, "checks", v)
}

// loadCheck finds a check of the view's project, answering 404 (and
// returning nil) otherwise — also for checks of other projects.
func (c *Console) loadCheck(w http.ResponseWriter, r *http.Request, v *view) *nightjar.Check {
	ch, err := c.checks.Get(r.Context(), v.Project.ID, r.PathValue("id"))
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		c.notFound(w, r, v)
		return nil
	} else if err != nil {
		c.fail(w, r, err)
		return nil
	}
	return ch
}

type checkData struct {
	Check       *nightjar.Check
	PingURL     string
	SlugURL     string
	RunLine     string
	CronLine    string
	Pings       []*nightjar.Ping
	Flips       []*nightjar.Flip
	Description string
	Durations   template.HTML
	Uptime      template.HTML
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
	when := "0 3 * * *"
	if ch.Kind == nightjar.KindCron {
		when = ch.Schedule
	}
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
	d.Uptime = uptimeBar(uptimeDays(ch.CreatedAt, flips, ch.State.Status, now, 90))
	v.Title, v.Data = ch.Name, d
	c.render(w, r, http.StatusOK, "check", v)
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
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		c.notFound(w, r, v)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Title, v.Data = fmt.Sprintf("%s · ping #%d", ch.Name, n), map[string]any{"Check": ch, "Ping": p, "Body": string(p.Body)}
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
	s := func(d time.Duration) string { return strconv.FormatInt(int64(d.Seconds()), 10) }
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

// patch translates the form into a check patch: numbers of seconds into
// durations (a field error when one does not parse), the kind radio,
// space-separated tags, one metric rule a line, and the channel boxes.
// The form states every setting, so the patch sets every one.
func (f checkForm) patch() (*nightjar.CheckPatch, error) {
	num := func(field, s string) (int64, error) {
		if s == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, nightjar.FieldError(field, "must be a whole number of seconds")
		}
		return n, nil
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
		n, err := num(d.field, d.value)
		if err != nil {
			return nil, err
		}
		*d.dst = ptr(nightjar.Seconds(n))
	}
	ft, err := num("failure_threshold", f.FailureThreshold)
	if err != nil {
		return nil, err
	}
	p.FailureThreshold = ptr(int(ft))
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

func (c *Console) renderForm(w http.ResponseWriter, r *http.Request, v *view, status int, f checkForm, ch *nightjar.Check, err error) {
	f.preview(c.clock.Now())
	channels, cerr := c.channels.List(r.Context(), v.Project.ID)
	if cerr != nil {
		c.fail(w, r, cerr)
		return
	}
	data := map[string]any{"Form": f, "Check": ch, "Zones": commonZones, "Channels": channels}
	if err != nil {
		v.Error = nightjar.ErrorMessage(err)
		data["Field"] = nightjar.ErrorField(err)
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
