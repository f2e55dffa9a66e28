// Package slack is the Slack channel of Nightjar's delivery stage (signals
// → evaluation → alerts → incidents → delivery): it posts a message to a
// Slack incoming webhook, laid out in Block Kit blocks (a header, the
// headline, the facts as fields, the details, buttons for the runbook and
// the alert's other links, a footer), with a plain-text fallback for
// notifications and clients that show no blocks.
package slack

import (
	"net/http"
	"strings"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
)

// Block Kit limits (Slack's reference): a header's text, a section's text,
// a field's text, fields per section, elements per actions block, a
// button's text.
const (
	maxHeader  = 150
	maxSection = 3000
	maxField   = 2000
	maxFields  = 10
	maxButtons = 25
	maxButton  = 75
)

// New returns a Notifier for the channel's webhook URL, sending through
// client (nil: notify.DefaultClient). Slack answers 200 "ok"; a wrong or
// revoked URL gets 403 or 404 (no_service, channel_not_found) and a
// malformed payload 400, all permanent; 429 carries Retry-After.
func New(ch *nightjar.Channel, client *http.Client) notify.Notifier {
	return &notify.JSONPost{Service: "slack", URL: ch.Config.URL, Client: client, Payload: func(m notify.Message) any { return NewPayload(m) }}
}

// Payload is what an incoming webhook takes: text is the fallback shown in
// notifications, blocks the message.
type Payload struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
}

// Block is one Block Kit layout block; only the fields of its type are set.
type Block struct {
	Type     string    `json:"type"`
	Text     *Text     `json:"text,omitempty"`
	Fields   []Text    `json:"fields,omitempty"`
	Elements []Element `json:"elements,omitempty"`
}

// Text is a Block Kit text object.
type Text struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// Element is a button of an actions block or a text of a context block.
type Element struct {
	Type string `json:"type"`
	Text any    `json:"text,omitempty"`
	URL  string `json:"url,omitempty"`
}

// NewPayload lays msg out in blocks. Every text from the alert is escaped
// for Slack's mrkdwn, so a summary cannot mention @channel or forge a link.
func NewPayload(msg notify.Message) Payload {
	c := notify.Compose(msg)
	p := Payload{Text: esc(c.Subject)}
	p.Blocks = append(p.Blocks, Block{Type: "header", Text: &Text{Type: "plain_text", Text: notify.Truncate(c.Subject, maxHeader), Emoji: true}})
	head := "*" + esc(c.Headline) + "*"
	if c.Intro != "" {
		head = "_" + esc(c.Intro) + "_\n" + head
	}
	p.Blocks = append(p.Blocks, section(head))
	if len(msg.Bundle) > 0 {
		// A bundle lists its notifications, one a line: more than a
		// section's fields hold.
		var l strings.Builder
		for _, f := range c.Facts {
			l.WriteString("• *" + esc(f.Label) + "* " + esc(f.Value) + "\n")
		}
		p.Blocks = append(p.Blocks, section(strings.TrimSuffix(l.String(), "\n")))
	} else if len(c.Facts) > 0 {
		b := Block{Type: "section"}
		for i, f := range c.Facts {
			if i == maxFields {
				break
			}
			b.Fields = append(b.Fields, Text{Type: "mrkdwn", Text: notify.Truncate("*"+esc(f.Label)+"*\n"+esc(f.Value), maxField)})
		}
		p.Blocks = append(p.Blocks, b)
	}
	if len(c.Details) > 0 {
		var d strings.Builder
		d.WriteString("*Details*")
		for _, f := range c.Details {
			d.WriteString("\n• " + esc(f.Label) + ": " + esc(strings.ReplaceAll(f.Value, "\n", " ")))
		}
		p.Blocks = append(p.Blocks, section(d.String()))
	}
	if acts := c.Actions(); len(acts) > 0 {
		b := Block{Type: "actions"}
		for i, l := range acts {
			if i == maxButtons {
				break
			}
			b.Elements = append(b.Elements, Element{Type: "button", Text: Text{Type: "plain_text", Text: notify.Truncate(l.Text, maxButton)}, URL: l.Href})
		}
		p.Blocks = append(p.Blocks, b)
	}
	p.Blocks = append(p.Blocks, Block{Type: "context", Elements: []Element{{Type: "mrkdwn", Text: esc(strings.Join(c.Footer, " "))}}})
	return p
}

func section(mrkdwn string) Block {
	return Block{Type: "section", Text: &Text{Type: "mrkdwn", Text: notify.Truncate(mrkdwn, maxSection)}}
}

// esc escapes the three characters Slack's mrkdwn gives a meaning to
// (links, mentions), as Slack's formatting reference asks.
var esc = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
