package telegram_test

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/notifytest"
	"github.com/nightjar-dev/nightjar/notify/telegram"
)

const token = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"

func build(url string, client *http.Client) notify.Notifier {
	return telegram.New(&nightjar.Channel{Kind: nightjar.ChannelTelegram, Config: nightjar.ChannelConfig{BaseURL: url, Token: token, ChatID: "-1001234567890"}}, client)
}

// wire is sendMessage's parameters as the Bot API documents them, written
// independently of the package's types.
type wire struct {
	ChatID             string `json:"chat_id"`
	Text               string `json:"text"`
	ParseMode          string `json:"parse_mode"`
	LinkPreviewOptions struct {
		IsDisabled bool `json:"is_disabled"`
	} `json:"link_preview_options"`
}

func ok(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"ok":true,"result":{"message_id":7,"chat":{"id":-1001234567890,"type":"supergroup"},"date":1740830400,"text":"…"}}`))
}

func TestDelivers(t *testing.T) {
	for _, m := range notifytest.Messages() {
		t.Run(m.Name, func(t *testing.T) {
			req := notifytest.Deliver(t, build, ok, m.Msg)
			if req.Method != http.MethodPost || req.Path != "/bot"+token+"/sendMessage" {
				t.Errorf("request %s %s, want POST /bot<token>/sendMessage", req.Method, req.Path)
			}
			var p wire
			req.JSON(t, &p)
			if p.ChatID != "-1001234567890" || p.ParseMode != "HTML" || !p.LinkPreviewOptions.IsDisabled {
				t.Errorf("parameters %+v", p)
			}
			notifytest.CheckHTML(t, p.Text, "b", "i", "a", "code")
			if len([]rune(p.Text)) > 4096 {
				t.Errorf("text has %d characters, over the Bot API's 4096", len([]rune(p.Text)))
			}
			if m.Msg.Event == notify.EventAlertFiring {
				if plain := html.UnescapeString(p.Text); !strings.Contains(plain, m.Msg.Alert.Summary) {
					t.Errorf("the summary does not survive escaping: %s", p.Text)
				}
				if !strings.Contains(p.Text, `<a href="https://runbooks.example.com/payments#heartbeat">Runbook</a>`) {
					t.Errorf("text lacks the runbook link: %s", p.Text)
				}
			}
			notifytest.Golden(t, m.Name, req)
		})
	}
}

// Long details are left out rather than making Telegram refuse the text.
func TestLongDetails(t *testing.T) {
	m := notifytest.Firing()
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z"} {
		m.Alert.Details[k] = strings.Repeat("<&>", 100)
	}
	p := telegram.NewPayload(m, "1")
	if n := len([]rune(html.UnescapeString(p.Text))); n > 4096 || !strings.Contains(p.Text, "Runbook") {
		t.Errorf("text has %d characters or lost its links", n)
	}
}

func TestFailures(t *testing.T) {
	notifytest.CheckFailures(t, build, token)
}

func TestRateLimitBody(t *testing.T) {
	notifytest.CheckRetryHint(t, build, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}}`, 35*time.Second)
}

// An answer that is 200 but not ok is a refusal.
func TestNotOK(t *testing.T) {
	rc := notifytest.NewReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"ok":false,"description":"Bad Request: chat not found"}`))
	})
	retry, err := build(rc.URL, notifytest.Client()).Notify(context.Background(), notifytest.Firing())
	if retry || err == nil || !strings.Contains(err.Error(), "chat not found") || strings.Contains(err.Error(), token) {
		t.Fatalf("Notify = (%v, %v)", retry, err)
	}
}
