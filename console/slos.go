package console

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
)

// The SLO pages: the list of a project's objectives with their budget,
// burn and state, and one objective's page with its charts, its rules and
// the customers having a bad time now. An objective's page takes its
// figures from the slos area's Status, the same one the API answers GET
// /api/v1/slos/{id}/status with, so the console and the API cannot
// disagree; the list takes them from the evaluation that decides the
// alerts, as it last stored them.

func (c *Console) sloRoutes() {
	c.mux.Handle("GET /slos", c.page(nightjar.NeedRead, c.slosPage))
	c.mux.Handle("GET /slos/{id}", c.page(nightjar.NeedRead, c.sloPage))
	if c.slos != nil {
		c.sloFormRoutes()
	}
}

// SLO states as the list shows them.
const (
	sloOK      = "ok"
	sloBurning = "burning"
	sloNoData  = "no data"
)

// badTime is how many customers are having a bad time now; Known is
// false when nobody made a request recently.
type badTime struct {
	Known        bool
	Active, Down int
}

func badTimeOf(b slos.BadTime) badTime {
	return badTime{Known: b.Active > 0, Active: b.Active, Down: b.Down}
}

// sloRow is an objective as the list shows it.
type sloRow struct {
	ID, Service, Name string
	Objective         string
	Window            string
	Remaining         string
	// Spent is set once the budget is used up.
	Spent bool
	// Burns are the page rules' burn rates, long and short window.
	Burns   []burnPair
	State   string
	BadTime badTime
	// SourceError is why the last read of its counts from Prometheus
	// failed, and SourceErrorAt when; empty after a good read.
	SourceError   string
	SourceErrorAt time.Time
}

// burnPair is one rule's burn rates over its two windows.
type burnPair struct {
	Long, Short string
	Threshold   string
	Over        bool
}

type slosData struct {
	Rows []sloRow
}

// slosPage lists the objectives with what their last evaluation decided,
// read in one query: rereading every objective's minutes made the list
// slow with hundreds of them. An objective's own page evaluates it now.
func (c *Console) slosPage(w http.ResponseWriter, r *http.Request, v *view) {
	var list []*slos.Evaluated
	var err error
	if c.slos != nil {
		list, err = c.slos.ListEvaluated(r.Context(), v.Project.ID, 0, 0)
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	now := c.clock.Now()
	var d slosData
	var counts *slos.BadTimes
	if len(list) > 0 {
		if counts, err = c.slos.BadTimeNow(r.Context(), v.Project.ID, now); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	for _, e := range list {
		st := &slos.Status{Firing: e.Firing, SourceError: e.SourceError, SourceErrorAt: e.SourceErrorAt}
		if e.Decision != nil {
			st.Decision = *e.Decision
		}
		d.Rows = append(d.Rows, sloRowOf(e.SLO, st, badTimeOf(counts.SLOs[e.SLO.ID])))
	}
	v.Title, v.Data = "SLOs", d
	c.render(w, r, http.StatusOK, "slos", v)
}

// sloRowOf sums an objective's status up for the list and the page's
// head.
func sloRowOf(o *slos.SLO, st *slos.Status, bt badTime) sloRow {
	dec := &st.Decision
	row := sloRow{ID: o.ID, Service: o.Definition.Service, Name: o.Definition.Name,
		Objective: pctTrim(o.Definition.Objective/100, 3), Window: windowText(o.Definition.Window),
		Remaining: pct(dec.Budget.Remaining, 1), Spent: dec.Budget.Remaining <= 0, State: sloOK, BadTime: bt,
		SourceError: st.SourceError, SourceErrorAt: st.SourceErrorAt}
	for _, rs := range dec.Rules {
		if rs.Severity == nightjar.SeverityPage {
			row.Burns = append(row.Burns, burnOf(rs))
		}
	}
	switch {
	case dec.Budget.Counts.Total == 0:
		row.State, row.Remaining = sloNoData, "—"
	case dec.Firing(nightjar.SeverityPage) || dec.Firing(nightjar.SeverityTicket) || len(st.Firing) > 0:
		row.State = sloBurning
	}
	return row
}

func burnOf(rs slo.RuleStatus) burnPair {
	return burnPair{Long: nightjar.HumanDuration(rs.LongWindow) + " " + times(rs.LongBurn),
		Short:     nightjar.HumanDuration(rs.ShortWindow) + " " + times(rs.ShortBurn),
		Threshold: times(rs.Threshold), Over: rs.LongBurn > rs.Threshold && rs.ShortBurn > rs.Threshold}
}

// windowText says an objective's window in words: "30 days, rolling",
// "calendar month (Europe/Berlin)".
func windowText(w slo.Window) string {
	if w.Calendar != "" {
		s := "calendar " + w.Calendar
		if w.TimeZone != "" && w.TimeZone != "UTC" {
			s += " (" + w.TimeZone + ")"
		}
		return s
	}
	n, unit := w.Rolling[:len(w.Rolling)-1], w.Rolling[len(w.Rolling)-1:]
	word := map[string]string{"d": "days", "w": "weeks"}[unit]
	if word == "" {
		return w.Rolling + ", rolling"
	}
	return n + " " + word + ", rolling"
}

// pct writes a share as a per cent with up to digits decimals: 0.999 →
// "99.9%".
func pct(f float64, digits int) string {
	return strconv.FormatFloat(f*100, 'f', digits, 64) + "%"
}

// pctTrim is pct without trailing zeros: 0.995 → "99.5%", 1 → "100%".
func pctTrim(f float64, digits int) string {
	return strconv.FormatFloat(math.Round(f*100*math.Pow10(digits))/math.Pow10(digits), 'f', -1, 64) + "%"
}

// times writes a burn rate: "14.4×".
func times(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) + "×"
}

// ruleRow is one alert rule on an objective's page.
type ruleRow struct {
	Severity    nightjar.Severity
	Windows     string
	Burn        burnPair
	Firing      bool
	FiringSince time.Time
	Held        string
}

// heldText says in words why a rule over its threshold does not fire.
var heldText = map[string]string{
	"min_events":   "held: too few requests in the long window",
	"budget_share": "held: too small a share of the budget",
}

type sloData struct {
	Row         sloRow
	Def         slo.Definition
	WindowStart time.Time
	WindowEnd   time.Time
	Requests    uint64
	Bad         uint64
	Consumed    string
	BurnRate    string
	// Exhaustion says how long the budget lasts at the current burn.
	Exhaustion string
	UserUptime string
	Rules      []ruleRow
	BurnDown   template.HTML
	Traffic    template.HTML
	Windowed   template.HTML
}

func (c *Console) sloPage(w http.ResponseWriter, r *http.Request, v *view) {
	if c.slos == nil {
		c.notFound(w, r, v)
		return
	}
	now := c.clock.Now()
	o, st, err := c.slos.Status(r.Context(), v.Project.ID, r.PathValue("id"), now)
	if err != nil {
		c.lookupFailed(w, r, v, err)
		return
	}
	bt, err := c.slos.BadTimeOf(r.Context(), v.Project.ID, o.ID, now)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	dec := &st.Decision
	d := sloData{Row: sloRowOf(o, st, badTimeOf(bt)), Def: o.Definition, WindowStart: dec.Budget.Start, WindowEnd: dec.Budget.End,
		Requests: dec.Budget.Counts.Total, Bad: dec.Budget.Counts.Bad(), Consumed: pct(dec.Budget.Consumed, 1), BurnRate: times(dec.BurnRate),
		Exhaustion: "not being spent", UserUptime: "no user-time yet"}
	if dec.Exhausts {
		d.Exhaustion = "in " + roughDuration(dec.TimeToExhaustion)
		if dec.TimeToExhaustion <= 0 {
			d.Exhaustion = "spent"
		}
	}
	if ratio, ok := st.UserTime.Ratio(); ok {
		d.UserUptime = pctTrim(ratio, 3)
	}
	for _, rs := range dec.Rules {
		rr := ruleRow{Severity: rs.Severity, Windows: nightjar.HumanDuration(rs.LongWindow) + " and " + nightjar.HumanDuration(rs.ShortWindow),
			Burn: burnOf(rs), Firing: rs.Firing, Held: heldText[rs.Held]}
		if rs.Firing {
			rr.FiringSince = st.Firing[rs.Severity]
		}
		d.Rules = append(d.Rules, rr)
	}
	d.BurnDown, d.Traffic, d.Windowed = sloCharts(st)
	v.Title, v.Data = o.Definition.Service+" · "+o.Definition.Name, d
	c.render(w, r, http.StatusOK, "slo", v)
}

// badTimeBlock is the overview's "customers having a bad time now": each
// service the objectives count, with its customers counted once, and
// under it each of its objectives.
type badTimeBlock struct {
	Services []badTimeService
}

type badTimeService struct {
	Service string
	BadTime badTime
	SLOs    []badTimeLine
}

// badTimeLine is one objective; Owner is the service it belongs to when
// that is not the service whose requests it counts.
type badTimeLine struct {
	ID, Owner, Name string
	BadTime         badTime
}

// badTimeNow lists the project's services and objectives with their
// customers having a bad time; nil when the project has no objectives.
func (c *Console) badTimeNow(ctx context.Context, projectID string) (*badTimeBlock, error) {
	if c.slos == nil {
		return nil, nil
	}
	rep, err := c.slos.BadTimeReport(ctx, projectID, c.clock.Now())
	if err != nil || len(rep.SLOs) == 0 {
		return nil, err
	}
	b := &badTimeBlock{}
	at := map[string]int{}
	for _, s := range rep.Services {
		at[s.Service] = len(b.Services)
		b.Services = append(b.Services, badTimeService{Service: s.Service, BadTime: badTimeOf(s.BadTime)})
	}
	for _, o := range rep.SLOs {
		d := &o.SLO.Definition
		line := badTimeLine{ID: o.SLO.ID, Name: d.Name, BadTime: badTimeOf(o.BadTime)}
		if d.Service != d.CountedService() {
			line.Owner = d.Service
		}
		s := &b.Services[at[d.CountedService()]]
		s.SLOs = append(s.SLOs, line)
	}
	return b, nil
}

// shortDuration writes a window size for an axis: "1 min", "6 h", "7 d".
func shortDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d d", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d min", d/time.Minute)
}

// chartPoints is how many points a time chart of an objective has.
const chartPoints = 60

// sloCharts draws an objective's page's charts from its status: the
// budget remaining as it stood at each time of the window, the good and
// all requests over the window, and the windowed user-uptime curve.
func sloCharts(st *slos.Status) (burnDown, traffic, windowed template.HTML) {
	dec := &st.Decision
	from, to := dec.Budget.Start, dec.At
	if first := st.Series.Start(); !first.IsZero() && first.After(from) {
		from = first
	}
	if !to.After(from) {
		return "", "", windowedChart(st)
	}
	step := ((to.Sub(from) + chartPoints*time.Minute - 1) / chartPoints).Truncate(time.Minute)
	step = max(step, time.Minute)
	var xs []float64
	remaining := lineSeries{Name: "Error budget remaining", Class: "line-budget"}
	good := lineSeries{Name: "Good requests", Class: "line-good"}
	total := lineSeries{Name: "All requests", Class: "line-total"}
	lowest, busiest := 0.0, 0.0
	for t := from; t.Before(to); t = t.Add(step) {
		end := t.Add(step)
		if end.After(to) {
			end = to
		}
		xs = append(xs, float64(end.Unix()))
		b := st.Objective.Budget(st.Series, end)
		if b.Counts.Total == 0 {
			remaining.Y = append(remaining.Y, math.NaN())
		} else {
			remaining.Y = append(remaining.Y, 100*b.Remaining)
			lowest = min(lowest, 100*b.Remaining)
		}
		c := st.Series.Sum(t, end)
		good.Y, total.Y = append(good.Y, float64(c.Good)), append(total.Y, float64(c.Total))
		busiest = max(busiest, float64(c.Total))
	}
	span := to.Sub(from)
	timeLabel := func(x float64) string {
		t := time.Unix(int64(x), 0).UTC()
		if span <= 36*time.Hour {
			return t.Format("15:04")
		}
		return t.Format("Jan 2")
	}
	ticks := []float64{xs[0], xs[0] + (xs[len(xs)-1]-xs[0])/2, xs[len(xs)-1]}
	// No budget is more than 100% left: the axis stops there, below the
	// tick that may follow.
	budgetTicks := slices.DeleteFunc(niceTicks(lowest, 100, 6), func(v float64) bool { return v > 100 })
	burnDown = lineChart("burn-down", "Error budget remaining over the window", xs, []lineSeries{remaining}, lineAxes{
		YMin: budgetTicks[0], YMax: 100, YTicks: budgetTicks, YUnit: "% of error budget left",
		YLabel: func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + "%" },
		XLabel: timeLabel, XTicks: ticks, XUnit: "time (UTC)"})
	trafficTicks := niceTicks(0, max(busiest, 1), 5)
	traffic = lineChart("traffic", "Good and all requests over the window", xs, []lineSeries{total, good}, lineAxes{
		YMin: 0, YMax: trafficTicks[len(trafficTicks)-1], YTicks: trafficTicks, YUnit: "requests per " + nightjar.HumanDuration(step),
		YLabel: func(v float64) string { return siValue(math.Round(v), 1000) },
		XLabel: timeLabel, XTicks: ticks, XUnit: "time (UTC)"})
	return burnDown, traffic, windowedChart(st)
}

// windowedChart draws windowed user-uptime: for each window size, on a
// log axis, the lowest user-uptime of any window of that size.
func windowedChart(st *slos.Status) template.HTML {
	var xs []float64
	curve := lineSeries{Name: "Lowest user-uptime of any window of the size", Class: "line-uptime"}
	lowest := 100.0
	for _, p := range st.Windowed {
		if !p.OK {
			continue
		}
		xs = append(xs, math.Log10(p.Window.Minutes()))
		curve.Y = append(curve.Y, 100*p.Min)
		lowest = min(lowest, 100*p.Min)
	}
	if len(xs) == 0 {
		return ""
	}
	var ticks []float64
	for _, d := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour} {
		if x := math.Log10(d.Minutes()); x >= xs[0] && x <= xs[len(xs)-1] {
			ticks = append(ticks, x)
		}
	}
	yTicks := slices.DeleteFunc(niceTicks(min(lowest, 99), 100, 5), func(v float64) bool { return v > 100 })
	return lineChart("windowed", "Windowed user-uptime: the lowest user-uptime of any window of each size", xs, []lineSeries{curve}, lineAxes{
		YMin: yTicks[0], YMax: 100, YTicks: yTicks, YUnit: "lowest user-uptime",
		YLabel: func(v float64) string { return pctTrim(v/100, 2) },
		XLabel: func(x float64) string {
			return shortDuration(time.Duration(math.Round(math.Pow(10, x))) * time.Minute)
		}, XTicks: ticks, XUnit: "window size (log scale)"})
}
