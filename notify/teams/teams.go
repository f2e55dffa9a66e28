// Package teams is the Microsoft Teams channel of Nightjar's delivery
// stage (signals → evaluation → alerts → incidents → delivery): it posts
// an Adaptive Card, as a message attachment, to the webhook URL of a Teams
// workflow ("Post to a channel when a webhook request is received"), which
// replaced Office 365 connectors.
package teams

import (
	"net/http"
	"strings"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
)

// Adaptive Card identifiers. Version 1.4 is the newest Teams renders on
// every client.
const (
	CardContentType = "application/vnd.microsoft.card.adaptive"
	CardSchema      = "http://adaptivecards.io/schemas/adaptive-card.json"
	CardVersion     = "1.4"
)

// maxActions keeps the card's buttons on one row in most clients.
const maxActions = 6

// maxFactValue cuts long detail values, keeping the card well within the
// size a workflow accepts.
const maxFactValue = 1000

// New returns a Notifier for the channel's workflow URL, sending through
// client (nil: notify.DefaultClient). A workflow answers 202 once it has
// taken the request; a URL whose signature is wrong or whose workflow was
// deleted gets 401 or 404, permanent.
func New(ch *nightjar.Channel, client *http.Client) notify.Notifier {
	return &notify.JSONPost{Service: "teams", URL: ch.Config.URL, Client: client, Payload: func(m notify.Message) any { return NewPayload(m) }}
}

// Payload is a message with one Adaptive Card attachment.
type Payload struct {
	Type        string       `json:"type"`
	Attachments []Attachment `json:"attachments"`
}

// Attachment carries the card.
type Attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     Card    `json:"content"`
}

// Card is an Adaptive Card.
type Card struct {
	Schema  string    `json:"$schema"`
	Type    string    `json:"type"`
	Version string    `json:"version"`
	Body    []Element `json:"body"`
	Actions []Action  `json:"actions,omitempty"`
	MSTeams *struct {
		Width string `json:"width"`
	} `json:"msteams,omitempty"`
}

// Element is a TextBlock or a FactSet; only the fields of its type are
// set.
type Element struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Size     string `json:"size,omitempty"`
	Color    string `json:"color,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Wrap     bool   `json:"wrap,omitempty"`
	Facts    []Fact `json:"facts,omitempty"`
}

// Fact is one title and value of a FactSet.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Action is a button that opens a URL.
type Action struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// NewPayload lays msg out as a card: the subject in the state's color, the
// headline, the facts, the details, buttons for the links and a footer.
func NewPayload(msg notify.Message) Payload {
	c := notify.Compose(msg)
	card := Card{Schema: CardSchema, Type: "AdaptiveCard", Version: CardVersion, MSTeams: &struct {
		Width string `json:"width"`
	}{"Full"}}
	text := func(s string) Element { return Element{Type: "TextBlock", Text: esc(s), Wrap: true} }
	title := text(c.Subject)
	title.Weight, title.Size, title.Color = "Bolder", "Medium", color(msg)
	card.Body = append(card.Body, title)
	if c.Intro != "" {
		card.Body = append(card.Body, text(c.Intro))
	}
	card.Body = append(card.Body, text(c.Headline))
	facts := func(fs []notify.Fact) {
		if len(fs) == 0 {
			return
		}
		set := Element{Type: "FactSet"}
		for _, f := range fs {
			set.Facts = append(set.Facts, Fact{Title: esc(f.Label), Value: notify.Truncate(esc(strings.ReplaceAll(f.Value, "\n", " ")), maxFactValue)})
		}
		card.Body = append(card.Body, set)
	}
	facts(c.Facts)
	facts(c.Details)
	foot := text(strings.Join(c.Footer, " "))
	foot.IsSubtle, foot.Size = true, "Small"
	card.Body = append(card.Body, foot)
	for i, l := range c.Actions() {
		if i == maxActions {
			break
		}
		card.Actions = append(card.Actions, Action{Type: "Action.OpenUrl", Title: l.Text, URL: l.Href})
	}
	return Payload{Type: "message", Attachments: []Attachment{{ContentType: CardContentType, Content: card}}}
}

func color(msg notify.Message) string {
	switch {
	case msg.Event == notify.EventAlertResolved:
		return "Good"
	case notify.SeverityRank(msg) == 2:
		return "Attention"
	case notify.SeverityRank(msg) == 1:
		return "Warning"
	}
	return "Accent"
}

// esc keeps alert text from becoming a link in the markdown subset
// TextBlocks render. Only brackets are escaped: Teams' mobile clients have
// shown the backslash of other escapes, and stray emphasis is harmless.
func esc(s string) string { return notify.EscapeMarkdown(s, "[]") }
