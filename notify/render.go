package notify

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
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
	if len(msg.Bundle) > 0 {
		return bundleSubject(msg)
	}
	a := msg.Alert
	var tag string
	if inc := msg.Incident; inc != nil {
		return truncateRunes(fmt.Sprintf("[%s #%d] %s", incidentTags[msg.Event], inc.Number, incidentSummary(msg)), maxSubjectRunes)
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

// Fact is one labelled line of a notification: "Service: payments-api".
type Fact struct {
	Label string
	Value string
}

// Content is a message broken into the parts every channel shows, cleaned
// of control characters: plain-text channels join them into RenderText's
// body, rich ones (Slack blocks, Discord embeds, Teams cards, HTML) lay the
// same parts out in their own format. Building it in one place keeps every
// channel saying the same thing: what is broken, since when, and where to
// look (the runbook and the alert's other links, the console).
type Content struct {
	// Event is the message's event (one of the Event constants).
	Event string
	// Subject is the one-line title, as RenderText returns it.
	Subject string
	// Headline is "FIRING: <summary>", "RESOLVED: …" or "TEST: …".
	Headline string
	// Summary is the alert's summary on one line, never empty.
	Summary string
	// Intro is a sentence shown before the headline; only tests have one.
	Intro string
	// Facts are the alert's service, severity, status, start, end and
	// dedup key, those that are set, in that order.
	Facts []Fact
	// Details are the alert's details sorted by key; values may span
	// several lines.
	Details []Fact
	// Links are an incident's one-click Acknowledge and Resolve links,
	// then the alert's links whose address is http or https (a runbook, a
	// graph), runbooks first, with a text to show; others are
	// left out, since a chat client would make a javascript: or file: link
	// clickable.
	Links []nightjar.Link
	// ConsoleURL links to the alert in the console; it may be empty.
	ConsoleURL string
	// Footer names the sender, the project and the notification.
	Footer []string
}

// Compose breaks msg into the parts channels show. Like RenderText it
// depends only on msg, so a retried message renders the same.
func Compose(msg Message) Content {
	if len(msg.Bundle) > 0 {
		return composeBundle(msg)
	}
	a := msg.Alert
	c := Content{Event: msg.Event, Subject: renderSubject(msg), Summary: summaryOf(msg)}
	if msg.Event == EventTest {
		c.Intro = "This is a test notification from Nightjar. If you can read it, the channel works."
	}
	switch msg.Event {
	case EventAlertFiring:
		c.Headline = "FIRING: "
	case EventAlertResolved:
		c.Headline = "RESOLVED: "
	case EventTest:
		c.Headline = "TEST: "
	default:
		if ev := oneLine(msg.Event); ev != "" {
			c.Headline = strings.ToUpper(ev) + ": "
		}
	}
	if tag := incidentTags[msg.Event]; tag != "" {
		c.Headline = tag + ": "
	}
	c.Headline += c.Summary

	add := func(label, value string) {
		if value != "" {
			c.Facts = append(c.Facts, Fact{label, value})
		}
	}
	add("Service", oneLine(a.Service))
	add("Severity", oneLine(string(a.Severity)))
	add("Status", oneLine(string(a.Status)))
	add("Started", formatTime(a.StartsAt))
	if !a.EndsAt.IsZero() {
		ended := formatTime(a.EndsAt)
		if !a.StartsAt.IsZero() && a.EndsAt.After(a.StartsAt) {
			ended += " (after " + a.EndsAt.Sub(a.StartsAt).Round(time.Second).String() + ")"
		}
		add("Resolved", ended)
	}
	add("Dedup key", oneLine(a.DedupKey))
	var actions []nightjar.Link
	if inc := msg.Incident; inc != nil {
		add("Incident", oneLine(fmt.Sprintf("#%d %s", inc.Number, inc.Title)))
		add("Urgency", oneLine(string(inc.Urgency)))
		add("State", oneLine(inc.Status))
		add("Since", formatTime(inc.Since))
		if inc.Step > 0 {
			step := fmt.Sprintf("%d", inc.Step)
			if inc.Round > 1 {
				step += fmt.Sprintf(" (round %d)", inc.Round)
			}
			add("Step", step)
		}
		add("Recent changes", RecentChanges(inc))
		if u := oneLine(inc.RunbookURL); WebAddress(u) && !slices.ContainsFunc(a.Links, func(l nightjar.Link) bool { return l.Href == u }) {
			a.Links = append(slices.Clip(a.Links), nightjar.Link{Href: u, Text: "Runbook"})
		}
		// The one-click links come first: they are what a paged person
		// wants from the message.
		for _, l := range []nightjar.Link{{Href: LinkURL(msg.ConsoleURL, inc.AckToken), Text: "Acknowledge"},
			{Href: LinkURL(msg.ConsoleURL, inc.ResolveToken), Text: "Resolve"}} {
			if WebAddress(l.Href) {
				actions = append(actions, l)
			}
		}
	}

	keys := make([]string, 0, len(a.Details))
	for k := range a.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c.Details = append(c.Details, Fact{oneLine(k), multiLine(a.Details[k])})
	}

	for _, l := range a.Links {
		href := oneLine(l.Href)
		if !WebAddress(href) {
			continue
		}
		text := oneLine(l.Text)
		if text == "" {
			text = href
		}
		c.Links = append(c.Links, nightjar.Link{Href: href, Text: text})
	}
	// The runbook is what a responder wants first; channels that offer a
	// single link (a push notification's click) take the first one.
	slices.SortStableFunc(c.Links, func(x, y nightjar.Link) int { return runbookFirst(x) - runbookFirst(y) })
	c.Links = append(actions, c.Links...)
	if u := oneLine(msg.ConsoleURL); WebAddress(u) {
		c.ConsoleURL = u
	}

	c.Footer = footer(msg, "Notification "+oneLine(msg.ID))
	return c
}

// RecentChanges is an incident's recent changes on one line, newest
// first, each with when (UTC; the date too when not the incident's day),
// what and who sent it: "14:02 deploy v1.4.2 (github-actions)". Empty
// when there are none.
func RecentChanges(inc *nightjar.IncidentRef) string {
	parts := make([]string, 0, len(inc.Changes))
	for _, c := range inc.Changes {
		at := c.At.UTC()
		layout := "15:04"
		if y, m, d := at.Date(); !inc.Since.IsZero() && (y != inc.Since.UTC().Year() || m != inc.Since.UTC().Month() || d != inc.Since.UTC().Day()) {
			layout = "Jan 2 15:04"
		}
		part := at.Format(layout) + " " + oneLine(c.Summary)
		if src := oneLine(c.Source); src != "" {
			part += " (" + src + ")"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

// footer names the sender, the project and the notification (what, then
// its id), with when it was created.
func footer(msg Message, what string) []string {
	sent := "Sent by Nightjar"
	if p := oneLine(msg.ProjectID); p != "" {
		sent += " for project " + p
	}
	lines := []string{sent + "."}
	if oneLine(msg.ID) != "" {
		line := what
		if !msg.CreatedAt.IsZero() {
			line += ", created " + formatTime(msg.CreatedAt)
		}
		lines = append(lines, line+".")
	}
	return lines
}

// incidentSummary is what a message about an incident is about, on one
// line: "payments-api: Heartbeat missed", the incident's service and
// title (the alert's summary when it has none).
func incidentSummary(msg Message) string {
	summary := oneLine(msg.Incident.Title)
	if summary == "" {
		summary = summaryOf(msg)
	}
	if svc := oneLine(msg.Incident.Service); svc != "" {
		summary = svc + ": " + summary
	}
	return summary
}

// runbookFirst orders runbook links before the others.
func runbookFirst(l nightjar.Link) int {
	if strings.Contains(strings.ToLower(l.Text), "runbook") {
		return 0
	}
	return 1
}

// WebAddress reports whether s is an absolute http or https URL without
// spaces, quotes or angle brackets, the only links a notification carries.
func WebAddress(s string) bool {
	if strings.ContainsAny(s, " <>\"") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func renderBody(msg Message) string {
	c := Compose(msg)
	// Each section ends with a newline; sections are separated by one blank
	// line and empty ones are left out.
	var sections []string

	var head strings.Builder
	if c.Intro != "" {
		head.WriteString(c.Intro + "\n\n")
	}
	head.WriteString(c.Headline + "\n")
	sections = append(sections, head.String())

	var facts strings.Builder
	for _, f := range c.Facts {
		// Values line up after the usual labels; a longer label keeps a
		// space after its colon.
		fmt.Fprintf(&facts, "%-*s%s\n", max(11, utf8.RuneCountInString(f.Label)+2), f.Label+":", f.Value)
	}
	sections = append(sections, facts.String())

	if len(c.Details) > 0 {
		var d strings.Builder
		d.WriteString("Details:\n")
		width := 0
		for _, f := range c.Details {
			width = max(width, utf8.RuneCountInString(f.Label))
		}
		for _, f := range c.Details {
			pad := strings.Repeat(" ", width-utf8.RuneCountInString(f.Label))
			lines := strings.Split(f.Value, "\n")
			fmt.Fprintf(&d, "  %s:%s %s\n", f.Label, pad, lines[0])
			for _, l := range lines[1:] {
				fmt.Fprintf(&d, "  %s  %s\n", strings.Repeat(" ", width), l)
			}
		}
		sections = append(sections, d.String())
	}

	if len(c.Links) > 0 {
		var l strings.Builder
		l.WriteString("Links:\n")
		for _, link := range c.Links {
			if link.Text == link.Href {
				fmt.Fprintf(&l, "  %s\n", link.Href)
			} else {
				fmt.Fprintf(&l, "  %s: %s\n", link.Text, link.Href)
			}
		}
		sections = append(sections, l.String())
	}

	if c.ConsoleURL != "" {
		sections = append(sections, "Open in the console: "+c.ConsoleURL+"\n")
	}

	// "-- " followed by a line break is the conventional signature separator,
	// which lets mail clients fold the footer away.
	sections = append(sections, "-- \n"+strings.Join(c.Footer, "\n")+"\n")

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
