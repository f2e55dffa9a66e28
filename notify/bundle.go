package notify

import (
	"fmt"
	"strings"

	"github.com/nightjar-dev/nightjar"
)

// This file is the bundle form of a message (Message.Bundle): one message
// that lists the notifications that fell due together for one person's
// contact method, each with its own one-click link, so an alert storm
// reaches a phone as one page, not forty. Every channel shows it through
// Compose and RenderText, as it shows a single message.

// bundleWords are the subject tag and the summary of a bundle of
// messages of an event: "[PAGE] 5 incidents need you".
var bundleWords = map[string]struct{ tag, summary string }{
	EventIncidentPage:         {"PAGE", "%d incidents need you"},
	EventIncidentTicket:       {"TICKET", "%d incidents need attention"},
	EventIncidentAcknowledged: {"ACKNOWLEDGED", "%d incidents acknowledged"},
	EventIncidentResolved:     {"RESOLVED", "%d incidents resolved"},
	EventAlertFiring:          {"FIRING", "%d alerts firing"},
	EventAlertResolved:        {"RESOLVED", "%d alerts resolved"},
}

// bundleTag is a bundle's subject tag, as a single message of its event
// has: "PAGE", "RESOLVED".
func bundleTag(msg Message) string {
	if w, ok := bundleWords[msg.Event]; ok {
		return w.tag
	}
	return "NOTIFICATIONS"
}

// bundleSummary says what a bundle is about: "5 incidents need you".
func bundleSummary(msg Message) string {
	format := "%d notifications"
	if w, ok := bundleWords[msg.Event]; ok {
		format = w.summary
	}
	return fmt.Sprintf(format, len(msg.Bundle))
}

// bundleItem names one message of a bundle: its incident's number, or
// its alert's service, and what it is about.
func bundleItem(m Message) Fact {
	if inc := m.Incident; inc != nil {
		return Fact{Label: fmt.Sprintf("#%d", inc.Number), Value: incidentSummary(m)}
	}
	label := oneLine(m.Alert.Service)
	if label == "" {
		label = "Alert"
	}
	return Fact{Label: label, Value: summaryOf(m)}
}

// bundleSubject is "[PAGE] 5 incidents need you: #12 checkout: db is
// down, #13 …", cut to the subject's length.
func bundleSubject(msg Message) string {
	items := make([]string, len(msg.Bundle))
	for i, m := range msg.Bundle {
		f := bundleItem(m)
		items[i] = f.Label + " " + f.Value
	}
	return truncateRunes(fmt.Sprintf("[%s] %s: %s", bundleTag(msg), bundleSummary(msg), strings.Join(items, ", ")), maxSubjectRunes)
}

// composeBundle is Compose for a bundle: a headline that counts its
// messages, one fact per message ("#12: checkout: db is down"), and each
// message's one-click link: Acknowledge when offered, else Resolve.
func composeBundle(msg Message) Content {
	c := Content{Event: msg.Event, Subject: bundleSubject(msg), Summary: bundleSummary(msg)}
	c.Headline = bundleTag(msg) + ": " + c.Summary
	for _, m := range msg.Bundle {
		f := bundleItem(m)
		c.Facts = append(c.Facts, f)
		inc := m.Incident
		if inc == nil {
			continue
		}
		base := m.ConsoleURL
		if base == "" {
			base = msg.ConsoleURL
		}
		for _, l := range []nightjar.Link{{Href: LinkURL(base, inc.AckToken), Text: "Acknowledge " + f.Label},
			{Href: LinkURL(base, inc.ResolveToken), Text: "Resolve " + f.Label}} {
			if WebAddress(l.Href) {
				c.Links = append(c.Links, l)
				break
			}
		}
	}
	if u := oneLine(msg.ConsoleURL); WebAddress(u) {
		c.ConsoleURL = u
	}
	c.Footer = footer(msg, fmt.Sprintf("Bundle of %d notifications %s", len(msg.Bundle), oneLine(msg.ID)))
	return c
}
