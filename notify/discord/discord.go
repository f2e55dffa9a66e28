// Package discord is the Discord channel of Nightjar's delivery stage
// (signals → evaluation → alerts → incidents → delivery): it posts an embed
// to a Discord webhook, with the facts as fields, the runbook and the
// alert's other links in the description, and a color for the state.
// Mentions are switched off, so an alert's text can never ping @everyone.
package discord

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
)

// Embed limits (Discord's reference).
const (
	maxTitle       = 256
	maxDescription = 4096
	maxFields      = 25
	maxFieldName   = 256
	maxFieldValue  = 1024
	maxFooter      = 2048
	maxEmbed       = 6000 // characters of all of an embed's texts together
)

// Colors of an embed's side bar.
const (
	colorPage     = 0xD93025
	colorTicket   = 0xF29900
	colorResolved = 0x1E8E3E
	colorOther    = 0x1A73E8
)

// New returns a Notifier for the channel's webhook URL, sending through
// client (nil: notify.DefaultClient). Discord answers 204; an unknown
// webhook gets 404 and a payload it refuses 400, both permanent; 429 says
// when to come back in Retry-After and in the body's retry_after.
func New(ch *nightjar.Channel, client *http.Client) notify.Notifier {
	return &notify.JSONPost{Service: "discord", URL: ch.Config.URL, Client: client, Payload: func(m notify.Message) any { return NewPayload(m) }, RetryHint: retryAfter}
}

// retryAfter reads the seconds a 429 answer's body asks to wait.
func retryAfter(body []byte) (time.Duration, bool) {
	var v struct {
		RetryAfter *float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &v) != nil || v.RetryAfter == nil {
		return 0, false
	}
	return notify.SecondsDelay(*v.RetryAfter)
}

// Payload is what a Discord webhook takes.
type Payload struct {
	Content         string          `json:"content"`
	Embeds          []Embed         `json:"embeds"`
	AllowedMentions AllowedMentions `json:"allowed_mentions"`
}

// AllowedMentions lists what the message may ping; Nightjar's ping nobody.
type AllowedMentions struct {
	Parse []string `json:"parse"`
}

// Embed is one rich block of a message.
type Embed struct {
	Title       string  `json:"title"`
	Description string  `json:"description"`
	URL         string  `json:"url,omitempty"`
	Color       int     `json:"color"`
	Fields      []Field `json:"fields,omitempty"`
	Footer      *Footer `json:"footer,omitempty"`
	Timestamp   string  `json:"timestamp,omitempty"`
}

// Field is one name and value of an embed.
type Field struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

// Footer is an embed's small print.
type Footer struct {
	Text string `json:"text"`
}

// NewPayload lays msg out as one embed. Alert text is escaped for
// Discord's markdown.
func NewPayload(msg notify.Message) Payload {
	c := notify.Compose(msg)
	var desc []string
	if c.Intro != "" {
		desc = append(desc, "*"+esc(c.Intro)+"*")
	}
	desc = append(desc, "**"+esc(c.Headline)+"**")
	if acts := c.Actions(); len(acts) > 0 {
		var links []string
		for _, l := range acts {
			links = append(links, "["+esc(l.Text)+"]("+strings.ReplaceAll(l.Href, ")", "%29")+")")
		}
		desc = append(desc, strings.Join(links, " · "))
	}
	e := Embed{
		Title:       notify.Truncate(c.Subject, maxTitle),
		Description: notify.Truncate(strings.Join(desc, "\n\n"), maxDescription),
		URL:         c.ConsoleURL,
		Color:       color(msg),
		Footer:      &Footer{Text: notify.Truncate(strings.Join(c.Footer, " "), maxFooter)},
	}
	if !msg.CreatedAt.IsZero() {
		e.Timestamp = msg.CreatedAt.UTC().Format(time.RFC3339)
	}
	size := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description) + utf8.RuneCountInString(e.Footer.Text)
	add := func(f notify.Fact, inline bool) {
		if len(e.Fields) == maxFields {
			return
		}
		// Discord refuses a field with an empty name or value.
		name, value := f.Label, esc(f.Value)
		if strings.TrimSpace(name) == "" {
			name = "(no name)"
		}
		if strings.TrimSpace(value) == "" {
			value = "(empty)"
		}
		field := Field{Name: notify.Truncate(name, maxFieldName), Value: notify.Truncate(value, maxFieldValue), Inline: inline}
		n := utf8.RuneCountInString(field.Name) + utf8.RuneCountInString(field.Value)
		if size+n > maxEmbed {
			return // fields beyond Discord's total are left out, not the message
		}
		size += n
		e.Fields = append(e.Fields, field)
	}
	for _, f := range c.Facts {
		add(f, true)
	}
	for _, f := range c.Details {
		add(f, false)
	}
	return Payload{Embeds: []Embed{e}, AllowedMentions: AllowedMentions{Parse: []string{}}}
}

func color(msg notify.Message) int {
	switch {
	case msg.Event == notify.EventAlertResolved:
		return colorResolved
	case notify.SeverityRank(msg) == 2:
		return colorPage
	case notify.SeverityRank(msg) == 1:
		return colorTicket
	}
	return colorOther
}

// esc escapes every character Discord's markdown gives a meaning to, so
// alert text shows as written.
func esc(s string) string { return notify.EscapeMarkdown(s, "\\*_~`|>#[]()<@") }
