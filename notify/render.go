package notify

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxSubjectRunes keeps subjects readable in mail clients and chat previews;
// the full summary is always repeated in the body.
const maxSubjectRunes = 160

// timeLayout is how rendered text shows times: UTC, to the second, and
// unambiguous for readers in any time zone.
const timeLayout = "2006-01-02 15:04:05 UTC"

// RenderText renders a message as a one-line subject and a plain-text body.
// Email uses both as they are; other channels that need a human-readable
// text (chat, SMS, a webhook's fallback text) reuse them so every channel
// says the same thing. The output depends only on msg, so a retried message
// renders byte for byte the same. The subject never contains line breaks or
// control characters, whatever the alert's fields hold, which keeps it safe
// to place in a header.
func RenderText(msg Message) (subject, body string) {
	return renderSubject(msg), renderBody(msg)
}

func renderSubject(msg Message) string {
	a := msg.Alert
	var tag string
	if inc := msg.Incident; inc != nil {
		summary := oneLine(inc.Title)
		if summary == "" {
			summary = summaryOf(msg)
		}
		if svc := oneLine(inc.Service); svc != "" {
			summary = svc + ": " + summary
		}
		return truncateRunes(fmt.Sprintf("[%s #%d] %s", incidentTags[msg.Event], inc.Number, summary), maxSubjectRunes)
	}
	switch msg.Event {
	case EventAlertFiring:
		tag = "[FIRING"
		if sev := oneLine(string(a.Severity)); sev != "" {
			tag += " " + sev
		}
		tag += "]"
	case EventAlertResolved:
		tag = "[RESOLVED]"
	case EventTest:
		tag = "[TEST]"
	case EventContactVerify:
		tag = "[VERIFY]"
	default:
		if ev := oneLine(msg.Event); ev != "" {
			tag = "[" + strings.ToUpper(ev) + "]"
		} else {
			tag = "[NOTIFICATION]"
		}
	}

	summary := summaryOf(msg)
	text := summary
	if svc := oneLine(a.Service); svc != "" {
		text = svc + ": " + summary
	}
	return truncateRunes(tag+" "+text, maxSubjectRunes)
}

func renderBody(msg Message) string {
	a := msg.Alert
	// Each section ends with a newline; sections are separated by one blank
	// line and empty ones are left out.
	var sections []string

	var head strings.Builder
	if msg.Event == EventTest {
		head.WriteString("This is a test notification from Nightjar. If you can read it, the channel works.\n\n")
	}
	switch msg.Event {
	case EventAlertFiring:
		head.WriteString("FIRING: ")
	case EventAlertResolved:
		head.WriteString("RESOLVED: ")
	case EventTest:
		head.WriteString("TEST: ")
	default:
		if ev := oneLine(msg.Event); ev != "" {
			head.WriteString(strings.ToUpper(ev) + ": ")
		}
	}
	if tag := incidentTags[msg.Event]; tag != "" {
		head.Reset()
		head.WriteString(tag + ": ")
	}
	head.WriteString(summaryOf(msg) + "\n")
	sections = append(sections, head.String())

	var facts strings.Builder
	field(&facts, "Service", oneLine(a.Service))
	field(&facts, "Severity", oneLine(string(a.Severity)))
	field(&facts, "Status", oneLine(string(a.Status)))
	field(&facts, "Started", formatTime(a.StartsAt))
	if !a.EndsAt.IsZero() {
		ended := formatTime(a.EndsAt)
		if !a.StartsAt.IsZero() && a.EndsAt.After(a.StartsAt) {
			ended += " (after " + a.EndsAt.Sub(a.StartsAt).Round(time.Second).String() + ")"
		}
		field(&facts, "Resolved", ended)
	}
	field(&facts, "Dedup key", oneLine(a.DedupKey))
	sections = append(sections, facts.String())

	if len(a.Details) > 0 {
		var d strings.Builder
		d.WriteString("Details:\n")
		keys := make([]string, 0, len(a.Details))
		width := 0
		for k := range a.Details {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			width = max(width, utf8.RuneCountInString(oneLine(k)))
		}
		for _, k := range keys {
			key := oneLine(k)
			pad := strings.Repeat(" ", width-utf8.RuneCountInString(key))
			lines := strings.Split(multiLine(a.Details[k]), "\n")
			fmt.Fprintf(&d, "  %s:%s %s\n", key, pad, lines[0])
			for _, l := range lines[1:] {
				fmt.Fprintf(&d, "  %s  %s\n", strings.Repeat(" ", width), l)
			}
		}
		sections = append(sections, d.String())
	}

	if msg.Incident != nil {
		sections = append(sections, renderIncident(msg))
	} else if u := oneLine(msg.ConsoleURL); u != "" {
		sections = append(sections, "Open in the console: "+u+"\n")
	}

	// "-- " followed by a line break is the conventional signature separator,
	// which lets mail clients fold the footer away.
	var foot strings.Builder
	foot.WriteString("-- \nSent by Nightjar")
	if p := oneLine(msg.ProjectID); p != "" {
		foot.WriteString(" for project " + p)
	}
	foot.WriteString(".\n")
	if id := oneLine(msg.ID); id != "" {
		foot.WriteString("Notification " + id)
		if !msg.CreatedAt.IsZero() {
			foot.WriteString(", created " + formatTime(msg.CreatedAt))
		}
		foot.WriteString(".\n")
	}
	sections = append(sections, foot.String())

	sections = slices.DeleteFunc(sections, func(s string) bool { return s == "" })
	return strings.Join(sections, "\n")
}

// incidentTags are the subject tags of messages about incidents.
var incidentTags = map[string]string{
	EventIncidentPage:         "PAGE",
	EventIncidentTicket:       "TICKET",
	EventIncidentAcknowledged: "ACKNOWLEDGED",
	EventIncidentResolved:     "RESOLVED",
}

// renderIncident is the section of a message about an incident: which
// one, how bad, since when, the runbook, and the one-click links, which
// are the console's URL (ConsoleURL, the server's base URL) and /ack/ and
// a token.
func renderIncident(msg Message) string {
	inc := msg.Incident
	var b strings.Builder
	field(&b, "Incident", fmt.Sprintf("#%d %s", inc.Number, oneLine(inc.Title)))
	field(&b, "Urgency", oneLine(string(inc.Urgency)))
	field(&b, "State", oneLine(inc.Status))
	field(&b, "Since", formatTime(inc.Since))
	if inc.Step > 0 {
		step := fmt.Sprintf("%d", inc.Step)
		if inc.Round > 1 {
			step += fmt.Sprintf(" (round %d)", inc.Round)
		}
		field(&b, "Step", step)
	}
	field(&b, "Runbook", oneLine(inc.RunbookURL))
	ack, resolve := LinkURL(msg.ConsoleURL, inc.AckToken), LinkURL(msg.ConsoleURL, inc.ResolveToken)
	if ack+resolve != "" {
		b.WriteString("\n")
		if ack != "" {
			b.WriteString("Acknowledge: " + ack + "\n")
		}
		if resolve != "" {
			b.WriteString("Resolve:     " + resolve + "\n")
		}
	}
	return b.String()
}

// LinkURL is the one-click link of a signed token: the server's base URL,
// /ack/ and the token; "" when either is missing.
func LinkURL(base, token string) string {
	base = strings.TrimRight(oneLine(base), "/")
	if base == "" || token == "" {
		return ""
	}
	return base + "/ack/" + oneLine(token)
}

// summaryOf returns the alert's summary as one line, or a stand-in when it is
// empty so the subject and the headline never read as truncated.
func summaryOf(msg Message) string {
	if s := oneLine(msg.Alert.Summary); s != "" {
		return s
	}
	if msg.Event == EventTest {
		return "Nightjar test notification"
	}
	return "(no summary)"
}

// field writes one aligned "Label: value" line, skipping empty values so
// optional facts do not leave blank rows.
func field(b *strings.Builder, label, value string) {
	if value == "" {
		return
	}
	fmt.Fprintf(b, "%-11s%s\n", label+":", value)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// oneLine folds every run of whitespace (line breaks included) into one
// space and drops other control characters, so user-supplied text cannot
// break a header or fake extra lines in the body.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// multiLine keeps line breaks (normalised to "\n") but cleans each line like
// oneLine, for values that are legitimately several lines long.
func multiLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = oneLine(l)
	}
	return strings.Join(lines, "\n")
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}
