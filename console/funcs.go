package console

import (
	"fmt"
	"html/template"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
)

var funcs = template.FuncMap{
	"utc":      exact,
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"dur":      nightjar.HumanDuration,
	"durin":    nightjar.FormatDuration,
	"rel":      relTime,
	"metric":   metricValue,
	"zoned":    zoned,
	"prose":    prose,
	"join":     strings.Join,
	"upper":    strings.ToUpper,
	"add":      func(a, b int) int { return a + b },
	"truncate": truncate,
	"list":     func(s ...string) []string { return s },
	"has":      slices.Contains[[]string],
}

// exact is a time to the second, in UTC, saying so; the script shows it in
// the viewer's zone.
func exact(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// zoned is t in the IANA zone tz, naming the zone: "Tue 03:30 CET,
// Europe/Berlin". The script drops the zone's name for a viewer in it.
func zoned(t time.Time, tz string) string {
	loc, err := nightjar.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("Mon 15:04 MST") + ", " + tz
}

// ago says how far t is from now in words: "3 min ago", "in 5 min", "just
// now".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d > -time.Second && d < time.Second:
		return "just now"
	case d < 0:
		return "in " + roughDuration(-d)
	}
	return roughDuration(d) + " ago"
}

// roughDuration is HumanDuration to its largest unit or two, for relative
// times: "45 s", "3 min", "2 h 5 min", "3 days".
func roughDuration(d time.Duration) string {
	if d >= time.Minute {
		return nightjar.HumanDuration(d.Truncate(time.Minute))
	}
	return nightjar.HumanDuration(d.Truncate(time.Second))
}

// relTime is a time element saying how long ago (or ahead) t is, with the
// exact time on hover; the script keeps the words current.
func relTime(now, t time.Time) template.HTML {
	if t.IsZero() {
		return "never"
	}
	return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s" data-rel>%s</time>`,
		t.UTC().Format(time.RFC3339), exact(t), template.HTMLEscapeString(ago(now, t))))
}

var rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z`)

// prose escapes text written for people (a status change's reason) and
// turns the times in it into relative time elements, so no raw
// 2026-11-27T13:29:22Z reaches a page.
func prose(now time.Time, s string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range rfc3339.FindAllStringIndex(s, -1) {
		b.WriteString(template.HTMLEscapeString(s[last:m[0]]))
		if t, err := time.Parse(time.RFC3339, s[m[0]:m[1]]); err == nil {
			b.WriteString(string(relTime(now, t)))
		} else {
			b.WriteString(template.HTMLEscapeString(s[m[0]:m[1]]))
		}
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(s[last:]))
	return template.HTML(b.String())
}

// humanDuration is nightjar.HumanDuration, for the charts.
func humanDuration(d time.Duration) string { return nightjar.HumanDuration(d) }

func truncate(n int, s string) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
