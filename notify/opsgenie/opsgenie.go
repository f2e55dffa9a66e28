// Package opsgenie forwards Nightjar's alerts to Opsgenie through its
// Alert API, for teams that keep Opsgenie for paging. It sits in the
// delivery stage (signals → evaluation → alerts → incidents → delivery).
// A firing alert creates an Opsgenie alert and its resolution closes it,
// both naming it by one alias (notify.AlertKey): Opsgenie does not open a
// second alert for an alias that is open, so a retried create is harmless.
package opsgenie

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
)

// Limits of the Alert API's fields.
const (
	maxMessage     = 130
	maxDescription = 15000
	maxEntity      = 512
	maxDetails     = 8000 // characters of all extra properties together
)

// Notifier sends to one Opsgenie API integration. It is safe for
// concurrent use.
type Notifier struct {
	base, key string
	client    *http.Client
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for the channel's API key, at its base URL (the
// region's API by default), sending through client (nil:
// notify.DefaultClient).
func New(ch *nightjar.Channel, client *http.Client) notify.Notifier {
	return &Notifier{base: ch.BaseURL(), key: ch.Config.APIKey, client: notify.DefaultClient(client)}
}

// Notify creates the alert for a firing message, closes it for a resolved
// one, and for a test creates one and closes it again. Opsgenie answers
// 202 and processes the request later; a wrong key gets 401 or 403 and an
// invalid request 422, permanent; 429 means too many requests.
func (n *Notifier) Notify(ctx context.Context, msg notify.Message) (bool, error) {
	h := http.Header{"Authorization": {"GenieKey " + n.key}}
	for _, r := range Requests(msg) {
		body, err := notify.EncodeJSON(r.Body)
		if err != nil {
			return false, err
		}
		if _, retry, err := notify.Send(ctx, n.client, notify.Request{Service: "opsgenie", URL: n.base + r.Path, Header: h, Body: body}, time.Now()); err != nil {
			return retry, err
		}
	}
	return false, nil
}

// Request is one call of the Alert API: a path under the base URL and its
// JSON body.
type Request struct {
	Path string
	Body any
}

// Create is the body of a create-alert request.
type Create struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias"`
	Description string            `json:"description"`
	Entity      string            `json:"entity,omitempty"`
	Source      string            `json:"source"`
	Priority    string            `json:"priority"`
	Tags        []string          `json:"tags"`
	Details     map[string]string `json:"details,omitempty"`
}

// Close is the body of a close-alert request.
type Close struct {
	Source string `json:"source"`
	Note   string `json:"note"`
}

// Requests are the calls made for msg.
func Requests(msg notify.Message) []Request {
	alias := notify.AlertKey(msg)
	c := notify.Compose(msg)
	closeReq := Request{
		Path: "/v2/alerts/" + url.PathEscape(alias) + "/close?identifierType=alias",
		Body: Close{Source: "Nightjar", Note: notify.Truncate(c.Headline, maxDescription)},
	}
	if msg.Event == notify.EventAlertResolved {
		return []Request{closeReq}
	}
	_, body := notify.RenderText(msg)
	create := Create{
		Message:     notify.Truncate(c.Summary, maxMessage),
		Alias:       alias,
		Description: notify.Truncate(body, maxDescription),
		Entity:      notify.Truncate(msg.Alert.Service, maxEntity),
		Source:      "Nightjar",
		Priority:    []string{"P5", "P3", "P1"}[notify.SeverityRank(msg)],
		Tags:        []string{"nightjar"},
	}
	if sev := string(msg.Alert.Severity); sev != "" {
		create.Tags = append(create.Tags, sev)
	}
	if len(c.Details) > 0 || len(c.Actions()) > 0 {
		create.Details = map[string]string{}
		// Links first, so long details never push the runbook out.
		left := maxDetails
		put := func(k, v string) {
			v = notify.Truncate(v, left-utf8.RuneCountInString(k))
			if v != "" {
				create.Details[k] = v
				left -= utf8.RuneCountInString(k) + utf8.RuneCountInString(v)
			}
		}
		for i, l := range c.Actions() {
			key := strings.ToLower(l.Text)
			if l.Text == l.Href {
				key = "link " + strconv.Itoa(i+1)
			}
			put(key, l.Href)
		}
		for _, f := range c.Details {
			put(f.Label, f.Value)
		}
	}
	if msg.Event == notify.EventTest {
		return []Request{{Path: "/v2/alerts", Body: create}, closeReq}
	}
	return []Request{{Path: "/v2/alerts", Body: create}}
}
