// Package ntfy is the ntfy channel of Nightjar's delivery stage (signals →
// evaluation → alerts → incidents → delivery): it publishes to a topic of
// an ntfy server (ntfy.sh or a self-hosted one) with ntfy's JSON publish
// form, which carries the title, priority, tags, click URL and buttons as
// fields and, unlike headers, any UTF-8 text.
package ntfy

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
)

// maxActions is how many buttons ntfy shows.
const maxActions = 3

// Notifier publishes to one topic. It is safe for concurrent use.
type Notifier struct {
	server, topic, token string
	priority             *int
	client               *http.Client
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for the channel's topic URL (the server's address
// and the topic as its last path segment), sending through client (nil:
// notify.DefaultClient).
func New(ch *nightjar.Channel, client *http.Client) notify.Notifier {
	server, topic := SplitTopicURL(ch.Config.URL)
	return &Notifier{server: server, topic: topic, token: ch.Config.Token, priority: ch.Config.Priority, client: notify.DefaultClient(client)}
}

// SplitTopicURL splits a topic URL into the server's address (where JSON
// is published) and the topic.
func SplitTopicURL(raw string) (server, topic string) {
	u, err := url.Parse(raw)
	if err != nil {
		return raw, ""
	}
	path := strings.TrimRight(u.Path, "/")
	i := strings.LastIndexByte(path, '/')
	topic = path[i+1:]
	u.Path, u.RawPath, u.RawQuery, u.Fragment = path[:i+1], "", "", ""
	return u.String(), topic
}

// Notify publishes msg. A protected topic without a valid token gets 401
// or 403, permanent; ntfy's rate limits answer 429.
func (n *Notifier) Notify(ctx context.Context, msg notify.Message) (bool, error) {
	body, err := notify.EncodeJSON(NewPayload(msg, n.topic, n.priority))
	if err != nil {
		return false, err
	}
	h := http.Header{}
	if n.token != "" {
		h.Set("Authorization", "Bearer "+n.token)
	}
	_, retry, err := notify.Send(ctx, n.client, notify.Request{Service: "ntfy", URL: n.server, Header: h, Body: body}, time.Now())
	return retry, err
}

// Payload is a JSON publish request.
type Payload struct {
	Topic    string   `json:"topic"`
	Title    string   `json:"title"`
	Message  string   `json:"message"`
	Priority int      `json:"priority"`
	Tags     []string `json:"tags"`
	Click    string   `json:"click,omitempty"`
	Actions  []Action `json:"actions,omitempty"`
}

// Action is a "view" button that opens a URL.
type Action struct {
	Action string `json:"action"`
	Label  string `json:"label"`
	URL    string `json:"url"`
}

// NewPayload renders msg for topic. Without a configured priority, a
// firing page is 5 (max), a ticket 4 and the rest 3 (default). The click
// URL is the alert's first link (its runbook, usually), else the console.
func NewPayload(msg notify.Message, topic string, priority *int) Payload {
	c := notify.Compose(msg)
	p := Payload{Topic: topic, Title: c.Subject, Message: c.Short(), Priority: 3 + notify.SeverityRank(msg), Tags: tags(msg)}
	if priority != nil {
		p.Priority = *priority
	}
	acts := c.Actions()
	if len(acts) > 0 {
		p.Click = acts[0].Href
	}
	for i, l := range acts {
		if i == maxActions {
			break
		}
		p.Actions = append(p.Actions, Action{Action: "view", Label: l.Text, URL: l.Href})
	}
	return p
}

// tags are ntfy's emoji short codes (shown before the title) for the
// message's state, then the severity as a plain tag.
func tags(msg notify.Message) []string {
	var t []string
	switch {
	case msg.Event == notify.EventTest:
		t = append(t, "test_tube")
	case msg.Event == notify.EventAlertResolved:
		t = append(t, "white_check_mark")
	case notify.SeverityRank(msg) == 2:
		t = append(t, "rotating_light")
	default:
		t = append(t, "warning")
	}
	if sev := string(msg.Alert.Severity); sev != "" {
		t = append(t, sev)
	}
	return t
}
