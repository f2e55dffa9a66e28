package console

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// durationChart draws the durations of a check's recent runs as an SVG bar
// chart, oldest on the left; failed runs are red. It returns "" when no
// run has a duration.
func durationChart(pings []*nightjar.Ping) template.HTML {
	var runs []*nightjar.Ping
	for i := len(pings) - 1; i >= 0; i-- {
		if p := pings[i]; p.Duration > 0 && (p.Kind == nightjar.PingSuccess || p.Kind == nightjar.PingFail) {
			runs = append(runs, p)
		}
	}
	if len(runs) == 0 {
		return ""
	}
	if len(runs) > 60 {
		runs = runs[len(runs)-60:]
	}
	var max time.Duration
	for _, p := range runs {
		max = maxDur(max, p.Duration)
	}
	const w, h, gap = 600, 120, 2
	bw := float64(w)/float64(len(runs)) - gap
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="dur-title"><title id="dur-title">Durations of the last %d runs; longest %s</title>`,
		w, h+14, len(runs), humanDuration(max))
	for i, p := range runs {
		bh := float64(h) * float64(p.Duration) / float64(max)
		if bh < 1 {
			bh = 1
		}
		class := "bar-ok"
		if p.Kind == nightjar.PingFail {
			class = "bar-fail"
		}
		fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>#%d %s: %s</title></rect>`,
			class, float64(i)*(bw+gap), float64(h)-bh, bw, bh, p.N, p.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), humanDuration(p.Duration))
	}
	fmt.Fprintf(&b, `<text x="0" y="%d" class="axis">max %s</text></svg>`, h+12, humanDuration(max))
	return template.HTML(b.String())
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
	summary := "no data yet"
	if observed > 0 {
		summary = fmt.Sprintf("%.3f%% up in the last %d days (monitored for %s of them)", 100*(1-float64(down)/float64(observed)), len(days), humanDuration(observed))
	}
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
