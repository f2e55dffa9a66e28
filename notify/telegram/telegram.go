// Package telegram is the Telegram channel of Nightjar's delivery stage
// (signals → evaluation → alerts → incidents → delivery): it sends a
// message through the Bot API's sendMessage method to one chat, in the
// API's HTML parse mode with every text escaped.
package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
)

// Message limits: the Bot API takes at most 4096 characters of text;
// details are cut well before that.
const (
	maxText   = 4096
	maxDetail = 200
)

// Notifier sends to one chat as one bot. It is safe for concurrent use.
type Notifier struct {
	base, token, chat string
	client            *http.Client
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier for the channel's bot token and chat, at its base
// URL (the public Bot API by default), sending through client (nil:
// notify.DefaultClient).
func New(ch *nightjar.Channel, client *http.Client) notify.Notifier {
	return &Notifier{base: ch.BaseURL(), token: ch.Config.Token, chat: ch.Config.ChatID, client: notify.DefaultClient(client)}
}

// Notify sends msg. A wrong token gets 401 and a chat the bot is not in
// 400 or 403, all permanent; 429 carries parameters.retry_after.
func (n *Notifier) Notify(ctx context.Context, msg notify.Message) (bool, error) {
	body, err := notify.EncodeJSON(NewPayload(msg, n.chat))
	if err != nil {
		return false, err
	}
	// The token is part of the path; notify.Send never shows the path.
	url := n.base + "/bot" + n.token + "/sendMessage"
	answer, retry, err := notify.Send(ctx, n.client, notify.Request{Service: "telegram", URL: url, Body: body, RetryHint: retryAfter}, time.Now())
	if err != nil {
		return retry, err
	}
	var r result
	if json.Unmarshal(answer, &r) != nil || !r.OK {
		return false, fmt.Errorf("telegram %s did not accept the message: %s", notify.Endpoint(n.base), notify.CleanText(answer))
	}
	return false, nil
}

// result is the envelope of every Bot API answer.
type result struct {
	OK          bool   `json:"ok"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter *float64 `json:"retry_after"`
	} `json:"parameters"`
}

// retryAfter reads the seconds a 429 answer asks to wait.
func retryAfter(body []byte) (time.Duration, bool) {
	var r result
	if json.Unmarshal(body, &r) != nil || r.Parameters.RetryAfter == nil {
		return 0, false
	}
	return notify.SecondsDelay(*r.Parameters.RetryAfter)
}

// Payload is sendMessage's parameters.
type Payload struct {
	ChatID             string             `json:"chat_id"`
	Text               string             `json:"text"`
	ParseMode          string             `json:"parse_mode"`
	LinkPreviewOptions LinkPreviewOptions `json:"link_preview_options"`
}

// LinkPreviewOptions turns off the preview of the first link, which would
// otherwise push the alert's text out of sight.
type LinkPreviewOptions struct {
	IsDisabled bool `json:"is_disabled"`
}

// NewPayload renders msg for chat as HTML; when that is too long, the
// details are left out.
func NewPayload(msg notify.Message, chat string) Payload {
	c := notify.Compose(msg)
	text := c.HTML("\n", maxDetail)
	if utf8.RuneCountInString(text) > maxText {
		c.Details = nil
		text = c.HTML("\n", maxDetail)
	}
	return Payload{ChatID: chat, Text: text, ParseMode: "HTML", LinkPreviewOptions: LinkPreviewOptions{IsDisabled: true}}
}
