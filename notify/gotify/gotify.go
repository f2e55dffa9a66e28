// Package gotify is the Gotify channel of Nightjar's delivery stage
// (signals → evaluation → alerts → incidents → delivery): it creates a
// message on a self-hosted Gotify server as one application, with a
// priority and the runbook (or the console) as the URL a click opens.
package gotify

import (
	"context"
	"net/http"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
)

// Notifier sends to one Gotify server as one application. It is safe for
// concurrent use.
type Notifier struct {
	base, token string
	priority    *int
	client      *http.Client
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for the channel's server and application token,
// sending through client (nil: notify.DefaultClient).
func New(ch *nightjar.Channel, client *http.Client) notify.Notifier {
	return &Notifier{base: ch.BaseURL(), token: ch.Config.Token, priority: ch.Config.Priority, client: notify.DefaultClient(client)}
}

// Notify creates the message. The token goes in the X-Gotify-Key header,
// never in the URL; a wrong one gets 401 or 403, permanent.
func (n *Notifier) Notify(ctx context.Context, msg notify.Message) (bool, error) {
	body, err := notify.EncodeJSON(NewPayload(msg, n.priority))
	if err != nil {
		return false, err
	}
	h := http.Header{"X-Gotify-Key": {n.token}}
	_, retry, err := notify.Send(ctx, n.client, notify.Request{Service: "gotify", URL: n.base + "/message", Header: h, Body: body}, time.Now())
	return retry, err
}

// Payload is a message as Gotify's API creates it.
type Payload struct {
	Title    string         `json:"title"`
	Message  string         `json:"message"`
	Priority int            `json:"priority"`
	Extras   map[string]any `json:"extras"`
}

// NewPayload renders msg. Without a configured priority, a firing page is
// 8 (Gotify's clients alert loudly from 8), a ticket 5 and the rest 2.
func NewPayload(msg notify.Message, priority *int) Payload {
	c := notify.Compose(msg)
	p := Payload{Title: c.Subject, Message: c.Short(), Priority: []int{2, 5, 8}[notify.SeverityRank(msg)]}
	if priority != nil {
		p.Priority = *priority
	}
	p.Extras = map[string]any{"client::display": map[string]string{"contentType": "text/plain"}}
	if acts := c.Actions(); len(acts) > 0 {
		p.Extras["client::notification"] = map[string]any{"click": map[string]string{"url": acts[0].Href}}
	}
	return p
}
