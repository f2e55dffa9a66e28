package slack_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/notifytest"
	"github.com/nightjar-dev/nightjar/notify/slack"
)

func build(url string, client *http.Client) notify.Notifier {
	return slack.New(&nightjar.Channel{Kind: nightjar.ChannelSlack, Config: nightjar.ChannelConfig{URL: url + "/services/T000/B000/XXXX"}}, client)
}

// wire is an incoming webhook's payload as Slack's Block Kit reference
// describes it, written independently of the package's types.
type wire struct {
	Text   string `json:"text"`
	Blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Type  string `json:"type"`
			Text  string `json:"text"`
			Emoji bool   `json:"emoji"`
		} `json:"text"`
		Fields []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"fields"`
		Elements []struct {
			Type string `json:"type"`
			Text any    `json:"text"`
			URL  string `json:"url"`
		} `json:"elements"`
	} `json:"blocks"`
}

func TestDelivers(t *testing.T) {
	for _, m := range notifytest.Messages() {
		t.Run(m.Name, func(t *testing.T) {
			req := notifytest.Deliver(t, build, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }, m.Msg)
			if req.Method != http.MethodPost || req.Path != "/services/T000/B000/XXXX" || req.Header.Get("Content-Type") != "application/json" {
				t.Errorf("request %s %s %s, want a JSON POST to the webhook URL", req.Method, req.Path, req.Header.Get("Content-Type"))
			}
			var p wire
			req.JSON(t, &p)
			if p.Text == "" || len(p.Blocks) == 0 || len(p.Blocks) > 50 {
				t.Fatalf("payload needs a fallback text and 1–50 blocks: %s", req.Body)
			}
			for _, b := range p.Blocks {
				switch b.Type {
				case "header":
					if b.Text == nil || b.Text.Type != "plain_text" || len([]rune(b.Text.Text)) > 150 {
						t.Errorf("header block must have plain_text of at most 150 characters: %+v", b.Text)
					}
				case "section":
					if (b.Text == nil) == (len(b.Fields) == 0) && b.Text == nil || len(b.Fields) > 10 {
						t.Errorf("section needs text or up to 10 fields")
					}
				case "actions":
					for _, e := range b.Elements {
						if e.Type != "button" || !strings.HasPrefix(e.URL, "https://") {
							t.Errorf("actions element %+v is not a link button", e)
						}
					}
				case "context":
				default:
					t.Errorf("unexpected block type %q", b.Type)
				}
			}
			body := string(req.Body)
			if m.Msg.Event == notify.EventAlertFiring {
				for _, want := range []string{"&lt;b&gt;&amp;&lt;/b&gt;", "https://runbooks.example.com/payments#heartbeat", "Runbook", "2025-03-01 12:00:00 UTC"} {
					if !strings.Contains(body, want) {
						t.Errorf("payload lacks %q", want)
					}
				}
				if strings.Contains(body, "javascript:") {
					t.Errorf("payload carries a javascript: link: %s", body)
				}
				for _, b := range p.Blocks {
					if b.Text != nil && b.Text.Type == "mrkdwn" && strings.Contains(b.Text.Text, "<b>") {
						t.Errorf("mrkdwn text %q is not escaped", b.Text.Text)
					}
				}
			}
			notifytest.Golden(t, m.Name, req)
		})
	}
}

func TestFailures(t *testing.T) {
	notifytest.CheckFailures(t, build, "XXXX")
}
