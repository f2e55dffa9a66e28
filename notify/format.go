package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/netguard"
)

// This file holds what the chat and paging channels share besides Send:
// the short text push services show, the HTML Telegram and Matrix show,
// the key that pairs an alert's trigger with its resolve, and the JSON
// encoding of their payloads.

// DefaultClient is the HTTP client of a channel built without one: the
// network guard's default policy, so a user-supplied URL cannot reach an
// internal address, and a 30-second bound on each request.
func DefaultClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return netguard.Policy{}.HTTPClient(30 * time.Second)
}

// EncodeJSON encodes a payload without HTML escaping, so services show
// "<" and "&" as written, and without a trailing newline. Its output
// depends only on v, so a retried message sends the same bytes.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// maxAlertKey is the longest key AlertKey returns: PagerDuty takes dedup
// keys of up to 255 characters, Opsgenie aliases of up to 512.
const maxAlertKey = 255

// AlertKey names the alert a message is about in services that keep an
// alert open until told it resolved (PagerDuty's dedup_key, Opsgenie's
// alias): the same for the alert's firing and resolved messages and for
// every retry of either, so a retry never opens a second incident and the
// resolve closes the right one. A test message gets a key of its own, so
// it never touches a real alert.
func AlertKey(msg Message) string {
	key := "nightjar:" + msg.ProjectID + ":" + msg.Alert.DedupKey
	if msg.Event == EventTest || msg.Alert.DedupKey == "" {
		key = "nightjar:" + msg.ProjectID + ":test:" + msg.Key()
	}
	if len(key) > maxAlertKey {
		sum := sha256.Sum256([]byte(key))
		key = "nightjar:" + hex.EncodeToString(sum[:])
	}
	return key
}

// Short is the content as push services show it (ntfy, Pushover, Gotify,
// Slack's fallback text): the intro of a test, the headline, the facts and
// the links, without the details and footer of the full body.
func (c Content) Short() string {
	var b strings.Builder
	if c.Intro != "" {
		b.WriteString(c.Intro + "\n\n")
	}
	b.WriteString(c.Headline + "\n")
	for _, f := range c.Facts {
		b.WriteString(f.Label + ": " + f.Value + "\n")
	}
	for _, l := range c.Links {
		b.WriteString(linkLine(l) + "\n")
	}
	if c.ConsoleURL != "" {
		b.WriteString("Console: " + c.ConsoleURL + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func linkLine(l nightjar.Link) string {
	if l.Text == l.Href {
		return l.Href
	}
	return l.Text + ": " + l.Href
}

// Actions are the links a notification offers as buttons: the alert's own
// (the runbook first, as its source gave them), then the console.
func (c Content) Actions() []nightjar.Link {
	out := append([]nightjar.Link(nil), c.Links...)
	if c.ConsoleURL != "" {
		out = append(out, nightjar.Link{Href: c.ConsoleURL, Text: "Open in Nightjar"})
	}
	return out
}

// HTML renders the content in the HTML subset Telegram and Matrix clients
// show (b, i, a, code), every text escaped, with br between lines (or
// "\n" when br is "\n": Telegram keeps line breaks as written and knows no
// br tag). Detail values longer than maxDetail runes are cut, so a message
// stays within the services' limits.
func (c Content) HTML(br string, maxDetail int) string {
	e := html.EscapeString
	var lines []string
	if c.Intro != "" {
		lines = append(lines, "<i>"+e(c.Intro)+"</i>", "")
	}
	lines = append(lines, "<b>"+e(c.Headline)+"</b>")
	for _, f := range c.Facts {
		lines = append(lines, "<b>"+e(f.Label)+":</b> "+e(f.Value))
	}
	if len(c.Details) > 0 {
		lines = append(lines, "")
		for _, f := range c.Details {
			v := strings.ReplaceAll(truncateRunes(f.Value, maxDetail), "\n", " ")
			lines = append(lines, e(f.Label)+": <code>"+e(v)+"</code>")
		}
	}
	if acts := c.Actions(); len(acts) > 0 {
		lines = append(lines, "")
		for _, l := range acts {
			lines = append(lines, `<a href="`+e(l.Href)+`">`+e(l.Text)+"</a>")
		}
	}
	return strings.Join(lines, br)
}

// Truncate cuts s to at most n runes, ending in "…" when cut; services
// refuse or silently cut fields longer than their limits.
func Truncate(s string, n int) string {
	if n < 1 {
		return ""
	}
	return truncateRunes(s, n)
}

// SeverityRank places a message on a three-step scale for services with a
// priority: 2 for a firing page or an incident's page, 1 for a firing
// ticket or an incident's ticket, 0 for the rest (info alerts,
// acknowledgements, resolutions and tests).
func SeverityRank(msg Message) int {
	switch msg.Event {
	case EventIncidentPage:
		return 2
	case EventIncidentTicket:
		return 1
	case EventAlertFiring:
		switch msg.Alert.Severity {
		case nightjar.SeverityPage:
			return 2
		case nightjar.SeverityTicket:
			return 1
		}
	}
	return 0
}

// EscapeMarkdown puts a backslash before every character of s found in
// specials, for chat services that read text as markdown (Discord, Teams)
// but should show an alert's text as written.
func EscapeMarkdown(s, specials string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(specials, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
