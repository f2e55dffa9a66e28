package console

import (
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// chartPoint is one bar of a chart.
type chartPoint struct {
	At    time.Time
	N     int64
	Value float64
	Fail  bool
}

// barChart draws points (oldest first) as an SVG bar chart with a y axis
// at zero, half and the largest value (written by format) and the first
// and last times under the x axis; failed runs are red. Its labels stay
// readable when a phone shrinks it to fit.
func barChart(id, title string, points []chartPoint, format func(float64) string) template.HTML {
	if len(points) > 60 {
		points = points[len(points)-60:]
	}
	top := 0.0
	for _, p := range points {
		top = max(top, p.Value)
	}
	if top <= 0 {
		top = 1
	}
	const w, h, left, bottom, gap = 420, 130, 64, 22, 2
	plot := float64(w - left)
	bw := plot/float64(len(points)) - gap
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title"><title id="%s-title">%s</title>`,
		id, w, h+bottom, id, id, template.HTMLEscapeString(title))
	for _, f := range []float64{0, 0.5, 1} {
		y := float64(h) - f*float64(h-8)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`,
			left, w, y, y, left-6, y+4, template.HTMLEscapeString(format(f*top)))
	}
	for i, p := range points {
		bh := float64(h-8) * p.Value / top
		if bh < 1 {
			bh = 1
		}
		class := "bar-ok"
		if p.Fail {
			class = "bar-fail"
		}
		fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>#%d %s: %s</title></rect>`,
			class, float64(left)+float64(i)*(bw+gap)+gap, float64(h)-bh, max(bw, 1), bh, p.N, exact(p.At), template.HTMLEscapeString(format(p.Value)))
	}
	first, last := points[0].At.UTC(), points[len(points)-1].At.UTC()
	fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d">%s</text><text class="axis" x="%d" y="%d" text-anchor="end">%s</text></svg>`,
		left, h+bottom-4, first.Format("Jan 2 15:04"), w, h+bottom-4, last.Format("Jan 2 15:04 UTC"))
	return template.HTML(b.String())
}

// durationChart draws the durations of a check's recent runs, oldest on
// the left; failed runs are red. It returns "" when no run has a
// duration.
func durationChart(pings []*nightjar.Ping) template.HTML {
	var runs []chartPoint
	var longest time.Duration
	for i := len(pings) - 1; i >= 0; i-- {
		if p := pings[i]; p.Duration > 0 && (p.Kind == nightjar.PingSuccess || p.Kind == nightjar.PingFail) {
			runs = append(runs, chartPoint{At: p.CreatedAt, N: p.N, Value: float64(p.Duration), Fail: p.Kind == nightjar.PingFail})
			longest = maxDur(longest, p.Duration)
		}
	}
	if len(runs) == 0 {
		return ""
	}
	return barChart("durations", fmt.Sprintf("Durations of the last %d runs; longest %s", len(runs), humanDuration(longest)), runs,
		func(v float64) string { return humanDuration(time.Duration(v).Round(time.Millisecond)) })
}

// metricChart is one metric's chart on a check's page.
type metricChart struct {
	Name  string
	Chart template.HTML
}

// metricCharts draws one chart per metric the check's pings carried
// (sent as ?m=name:value), oldest on the left, in the order of the names.
func metricCharts(pings []*nightjar.Ping) []metricChart {
	series := map[string][]chartPoint{}
	for i := len(pings) - 1; i >= 0; i-- {
		p := pings[i]
		for name, v := range p.Metrics {
			series[name] = append(series[name], chartPoint{At: p.CreatedAt, N: p.N, Value: v, Fail: p.Kind == nightjar.PingFail})
		}
	}
	names := make([]string, 0, len(series))
	for name := range series {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []metricChart
	for i, name := range names {
		pts := series[name]
		out = append(out, metricChart{Name: name, Chart: barChart(fmt.Sprintf("metric-%d", i),
			fmt.Sprintf("%s in the last %d pings that sent it", name, len(pts)), pts, func(v float64) string { return metricValue(name, v) })})
	}
	return out
}

// metricValue writes a metric's value short, with a unit when its name
// says one: bytes in kB, MB, GB; seconds and milliseconds as durations;
// other numbers with k, M or G.
func metricValue(name string, v float64) string {
	lower := strings.ToLower(name)
	switch {
	case strings.Contains(lower, "bytes") || lower == "size":
		n := siValue(v, 1000)
		if strings.Contains(n, " ") {
			return n + "B"
		}
		return n + " B"
	case strings.HasSuffix(lower, "_ms") || strings.HasSuffix(lower, "millis"):
		return humanDuration(time.Duration(v * float64(time.Millisecond)))
	case strings.HasSuffix(lower, "seconds") || strings.HasSuffix(lower, "_s"):
		return humanDuration(time.Duration(v * float64(time.Second)))
	}
	return siValue(v, 1000)
}

// siValue writes v with three significant digits and a k, M, G or T
// suffix.
func siValue(v float64, base float64) string {
	suffix := ""
	for _, s := range []string{"k", "M", "G", "T"} {
		if v < base && v > -base {
			break
		}
		v /= base
		suffix = s
	}
	n := strconv.FormatFloat(v, 'g', 3, 64)
	if suffix == "" {
		return n
	}
	return n + " " + suffix
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// dayStatus is how one day of the uptime bar went.
type dayStatus struct {
	Day      time.Time
	Down     time.Duration
	Observed time.Duration
}

// uptimeDays replays a check's flips (newest first, as the checks area returns
// them) over the last days days up to now, in UTC days. Time before the
// check existed or while it was new or paused is not observed.
func uptimeDays(created time.Time, flips []*nightjar.Flip, current string, now time.Time, days int) []dayStatus {
	end := now.UTC()
	start := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(days - 1))
	out := make([]dayStatus, days)
	for i := range out {
		out[i].Day = start.AddDate(0, 0, i)
	}
	// Build the status intervals, oldest first.
	type span struct {
		from, to time.Time
		status   string
	}
	var spans []span
	status := nightjar.StatusNew
	if len(flips) > 0 {
		status = flips[len(flips)-1].From
	} else {
		status = current
	}
	at := created
	for i := len(flips) - 1; i >= 0; i-- {
		f := flips[i]
		spans = append(spans, span{at, f.CreatedAt, status})
		at, status = f.CreatedAt, f.To
	}
	spans = append(spans, span{at, end, status})
	for _, s := range spans {
		if s.status == nightjar.StatusNew || s.status == nightjar.StatusPaused {
			continue
		}
		for i := range out {
			dayStart, dayEnd := out[i].Day, out[i].Day.Add(24*time.Hour)
			from, to := later(s.from, dayStart), earlier(s.to, dayEnd)
			if !to.After(from) {
				continue
			}
			out[i].Observed += to.Sub(from)
			if s.status == nightjar.StatusDown {
				out[i].Down += to.Sub(from)
			}
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// uptimeSummary says how much of the time a check was up, honestly for a
// check watched for less than the whole span: "up 97.50% of the 40 min it
// has been watched" rather than a figure for 90 days it was not.
func uptimeSummary(observed, down time.Duration, days int) string {
	if observed <= 0 {
		return "No data yet: the check has not been watched while it was running."
	}
	pct := strconv.FormatFloat(100*(1-float64(down)/float64(observed)), 'f', 2, 64)
	pct = strings.TrimSuffix(pct, ".00")
	if observed < time.Duration(days-1)*24*time.Hour {
		return fmt.Sprintf("Up %s%% of the %s it has been watched; the bar fills as the days pass.", pct, humanDuration(observed))
	}
	return fmt.Sprintf("Up %s%% of the last %d days.", pct, days)
}

// uptimeBar draws uptimeDays as a row of day cells with the overall
// uptime; each cell's title says the day's figure.
func uptimeBar(days []dayStatus) template.HTML {
	var observed, down time.Duration
	var b strings.Builder
	const cw, gap, h = 6, 1, 24
	w := len(days) * (cw + gap)
	for _, d := range days {
		observed += d.Observed
		down += d.Down
	}
	summary := uptimeSummary(observed, down, len(days))
	fmt.Fprintf(&b, `<svg class="uptime" viewBox="0 0 %d %d" role="img" aria-labelledby="up-title"><title id="up-title">Uptime: %s</title>`, w, h, summary)
	for i, d := range days {
		class, label := "day-none", "no data"
		if d.Observed > 0 {
			up := 1 - float64(d.Down)/float64(d.Observed)
			label = fmt.Sprintf("%.2f%% up", 100*up)
			switch {
			case d.Down == 0:
				class = "day-up"
			case up >= 0.9:
				class = "day-partial"
			default:
				class = "day-down"
			}
		}
		fmt.Fprintf(&b, `<rect class="%s" x="%d" y="0" width="%d" height="%d"><title>%s: %s</title></rect>`,
			class, i*(cw+gap), cw, h, d.Day.Format("2006-01-02"), label)
	}
	b.WriteString(`</svg>`)
	fmt.Fprintf(&b, `<p class="muted">%s</p>`, template.HTMLEscapeString(summary))
	return template.HTML(b.String())
}
