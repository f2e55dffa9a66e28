package incident

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/nightjar-dev/nightjar"
)

//go:embed postmortem.md.tmpl
var postmortemText string

// postmortemTmpl is parsed once, at start, so a broken template fails
// every test rather than one incident's draft.
var postmortemTmpl = template.Must(template.New("postmortem").Parse(postmortemText))

// Postmortem drafts the incident's postmortem in Markdown from its record:
// a summary table, the impact window (start, detection, acknowledgement,
// resolution), the timeline, the contributing alerts, and headings for
// the action items and lessons that only people can write, and, when
// there are any, the service's changes that preceded it. Times are
// shown in loc; now is when the draft is written, which is also what the
// duration of an incident still open is measured to. Text from alerts is
// escaped, so a summary cannot break the tables or add markup.
func Postmortem(inc *Incident, timeline []Entry, changes []*nightjar.Change, loc *time.Location, now time.Time) string {
	if loc == nil {
		loc = time.UTC
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(loc).Format("2006-01-02 15:04:05")
	}
	started := inc.CreatedAt
	for _, a := range inc.Alerts {
		if !a.FiredAt.IsZero() && a.FiredAt.Before(started) {
			started = a.FiredAt
		}
	}
	v := postmortemView{
		Heading:   md(inc.Title),
		Generated: now.In(loc).Format("2006-01-02"),
		Service:   orDash(inc.Service),
		Urgency:   string(inc.Urgency),
		Status:    string(inc.Status),
		Assignee:  orDash(inc.Assignee),
		Commander: orDash(inc.Commander),
		Policy:    orDash(inc.Policy),
		Zone:      loc.String(),
		Started:   at(started),
		Detected:  at(inc.CreatedAt),
		Acked:     "not acknowledged",
		Resolved:  "not resolved yet",
	}
	if inc.Number > 0 {
		v.Heading = fmt.Sprintf("#%d %s", inc.Number, v.Heading)
	}
	if !inc.AckedAt.IsZero() {
		v.Acked = fmt.Sprintf("%s, %s after detection", at(inc.AckedAt), span(inc.AckedAt.Sub(inc.CreatedAt)))
	}
	if inc.Status == Resolved {
		v.Resolved = fmt.Sprintf("%s, %s after it started", at(inc.ResolvedAt), span(inc.ResolvedAt.Sub(started)))
		v.Duration = span(inc.ResolvedAt.Sub(started))
	} else {
		v.Duration = fmt.Sprintf("%s so far (as of %s)", span(now.Sub(started)), at(now))
	}
	entries := slices.Clone(timeline)
	slices.SortStableFunc(entries, func(a, b Entry) int { return a.At.Compare(b.At) })
	for _, e := range entries {
		v.Timeline = append(v.Timeline, postmortemLine{At: at(e.At), Text: md(e.Text), By: md(who(e.Actor))})
	}
	for _, a := range inc.Alerts {
		resolved := at(a.ResolvedAt)
		if a.Firing {
			resolved = "still firing"
		}
		v.Alerts = append(v.Alerts, postmortemAlert{Summary: md(a.Summary), Key: md(a.DedupKey),
			Severity: string(a.Severity), Fired: at(a.FiredAt), Resolved: resolved})
	}
	for _, c := range changes {
		v.Changes = append(v.Changes, postmortemLine{At: at(c.At), Text: md(c.Summary), By: md(orDash(c.Source))})
	}
	var b strings.Builder
	if err := postmortemTmpl.Execute(&b, v); err != nil {
		// The view holds only strings and slices of structs of strings,
		// which the template cannot fail on.
		panic(fmt.Sprintf("render postmortem: %v", err))
	}
	return b.String()
}

// postmortemView is what the postmortem template shows, every field
// already formatted and escaped.
type postmortemView struct {
	Heading, Generated, Service, Urgency, Status, Assignee, Commander, Policy string
	Zone, Started, Detected, Acked, Resolved, Duration                        string
	Timeline                                                                  []postmortemLine
	Alerts                                                                    []postmortemAlert
	Changes                                                                   []postmortemLine
}

type postmortemLine struct{ At, Text, By string }

type postmortemAlert struct{ Summary, Key, Severity, Fired, Resolved string }

// md escapes text for Markdown, in a table cell or a heading: the ASCII
// punctuation that can start emphasis, code, links, HTML, entities or a
// table column is backslash-escaped, and line breaks become spaces.
func md(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case strings.ContainsRune("\\`*_[]<>#|~&", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return md(s)
}

// span formats a duration for people: "42m", "1h 5m 30s", "2d 3h".
func span(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	if d < time.Second {
		return "0s"
	}
	var parts []string
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 {
			parts = append(parts, fmt.Sprintf("%d%s", n, u.name))
			d -= n * u.d
		}
	}
	return strings.Join(parts, " ")
}
