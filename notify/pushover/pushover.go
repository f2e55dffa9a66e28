// Package pushover is the Pushover channel of Nightjar's delivery stage
// (signals → evaluation → alerts → incidents → delivery): it sends a
// message through Pushover's messages API to one user or group, with a
// priority, and the runbook (or the console) as the message's URL.
package pushover

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
)

// Pushover's limits on a message's fields.
const (
	maxMessage  = 1024
	maxTitle    = 250
	maxURL      = 512
	maxURLTitle = 100
)

// Emergency messages (priority 2) are repeated every retry seconds until
// acknowledged, for at most expire seconds; Pushover requires both.
const (
	emergencyRetry  = 60
	emergencyExpire = 3600
)

// Notifier sends to one user or group as one application. It is safe for
// concurrent use.
type Notifier struct {
	base, token, user string
	priority          *int
	client            *http.Client
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for the channel's application token and user key,
// at its base URL (Pushover's API by default), sending through client
// (nil: notify.DefaultClient).
func New(ch *nightjar.Channel, client *http.Client) notify.Notifier {
	return &Notifier{base: ch.BaseURL(), token: ch.Config.Token, user: ch.Config.UserKey, priority: ch.Config.Priority, client: notify.DefaultClient(client)}
}

// Notify sends msg. An invalid token or user key gets a 4xx answer listing
// the errors, permanent; 429 means the application's monthly quota is used
// up, which a later retry may get past.
func (n *Notifier) Notify(ctx context.Context, msg notify.Message) (bool, error) {
	body := NewPayload(msg, n.token, n.user, n.priority).Form().Encode()
	_, retry, err := notify.Send(ctx, n.client, notify.Request{Service: "pushover", URL: n.base + "/1/messages.json",
		ContentType: "application/x-www-form-urlencoded", Body: []byte(body)}, time.Now())
	return retry, err
}

// Payload is the messages API's parameters, sent as an HTML form, the
// encoding Pushover's documentation gives.
type Payload struct {
	Token, User, Title, Message string
	Priority                    int
	Timestamp                   int64
	URL, URLTitle               string
	Retry, Expire               int
}

// Form encodes the parameters, leaving out the optional ones not set.
func (p Payload) Form() url.Values {
	v := url.Values{"token": {p.Token}, "user": {p.User}, "title": {p.Title}, "message": {p.Message}, "priority": {strconv.Itoa(p.Priority)}}
	if p.Timestamp != 0 {
		v.Set("timestamp", strconv.FormatInt(p.Timestamp, 10))
	}
	if p.URL != "" {
		v.Set("url", p.URL)
		v.Set("url_title", p.URLTitle)
	}
	if p.Retry != 0 {
		v.Set("retry", strconv.Itoa(p.Retry))
		v.Set("expire", strconv.Itoa(p.Expire))
	}
	return v
}

// NewPayload renders msg. Without a configured priority, a firing page is
// 1 (high, bypassing quiet hours) and the rest 0. The timestamp is when
// the change happened, so a late delivery shows the right time.
func NewPayload(msg notify.Message, token, user string, priority *int) Payload {
	c := notify.Compose(msg)
	p := Payload{Token: token, User: user, Title: notify.Truncate(c.Subject, maxTitle), Message: notify.Truncate(c.Short(), maxMessage)}
	if notify.SeverityRank(msg) == 2 {
		p.Priority = 1
	}
	if priority != nil {
		p.Priority = *priority
	}
	if p.Priority == 2 {
		p.Retry, p.Expire = emergencyRetry, emergencyExpire
	}
	if !msg.CreatedAt.IsZero() {
		p.Timestamp = msg.CreatedAt.Unix()
	}
	for _, l := range c.Actions() {
		if len(l.Href) <= maxURL {
			p.URL, p.URLTitle = l.Href, notify.Truncate(l.Text, maxURLTitle)
			break
		}
	}
	return p
}
