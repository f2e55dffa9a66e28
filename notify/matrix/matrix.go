// Package matrix is the Matrix channel of Nightjar's delivery stage
// (signals → evaluation → alerts → incidents → delivery): it sends an
// m.room.message event to one room through a homeserver's client-server
// API, as plain text with an HTML rendering. The event's transaction id is
// the message's idempotency key, so the homeserver drops a retry of a
// message it already took instead of posting it twice.
package matrix

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
)

// maxDetail cuts long detail values in the HTML rendering.
const maxDetail = 300

// Notifier posts to one room as one account. It is safe for concurrent
// use.
type Notifier struct {
	base, token, room string
	client            *http.Client
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for the channel's homeserver, access token and
// room, sending through client (nil: notify.DefaultClient).
func New(ch *nightjar.Channel, client *http.Client) notify.Notifier {
	return &Notifier{base: ch.BaseURL(), token: ch.Config.Token, room: ch.Config.RoomID, client: notify.DefaultClient(client)}
}

// Notify sends msg with PUT, under the transaction id msg.Key(). A wrong
// token gets 401 (M_UNKNOWN_TOKEN) and a room the account has not joined
// 403 (M_FORBIDDEN), both permanent; 429 carries retry_after_ms.
func (n *Notifier) Notify(ctx context.Context, msg notify.Message) (bool, error) {
	body, err := notify.EncodeJSON(NewPayload(msg))
	if err != nil {
		return false, err
	}
	u := n.base + "/_matrix/client/v3/rooms/" + url.PathEscape(n.room) + "/send/m.room.message/" + url.PathEscape(msg.Key())
	h := http.Header{"Authorization": {"Bearer " + n.token}}
	_, retry, err := notify.Send(ctx, n.client, notify.Request{Service: "matrix", Method: http.MethodPut, URL: u, Header: h, Body: body, RetryHint: retryAfter}, time.Now())
	return retry, err
}

// retryAfter reads the milliseconds a 429 answer (M_LIMIT_EXCEEDED) asks
// to wait.
func retryAfter(body []byte) (time.Duration, bool) {
	var v struct {
		RetryAfterMS *float64 `json:"retry_after_ms"`
	}
	if json.Unmarshal(body, &v) != nil || v.RetryAfterMS == nil {
		return 0, false
	}
	return notify.SecondsDelay(*v.RetryAfterMS / 1000)
}

// Payload is the content of an m.room.message event of msgtype m.text
// (m.notice would be quieter, but clients' default push rules silence it,
// and an alert should be heard).
type Payload struct {
	MsgType       string `json:"msgtype"`
	Body          string `json:"body"`
	Format        string `json:"format"`
	FormattedBody string `json:"formatted_body"`
}

// NewPayload renders msg as plain text, for clients without HTML, and as
// HTML.
func NewPayload(msg notify.Message) Payload {
	c := notify.Compose(msg)
	return Payload{MsgType: "m.text", Body: c.Short(), Format: "org.matrix.custom.html", FormattedBody: c.HTML("<br>", maxDetail)}
}
