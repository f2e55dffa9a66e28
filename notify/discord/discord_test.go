package discord_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/discord"
	"github.com/nightjar-dev/nightjar/notify/notifytest"
)

func build(url string, client *http.Client) notify.Notifier {
	return discord.New(&nightjar.Channel{Kind: nightjar.ChannelDiscord, Config: nightjar.ChannelConfig{URL: url + "/api/webhooks/123/TOKEN"}}, client)
}

// wire is an execute-webhook body as Discord's reference describes it,
// written independently of the package's types.
type wire struct {
	Content string `json:"content"`
	Embeds  []struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		URL         string `json:"url"`
		Color       int    `json:"color"`
		Fields      []struct {
			Name   string `json:"name"`
			Value  string `json:"value"`
			Inline bool   `json:"inline"`
		} `json:"fields"`
		Footer    struct{ Text string } `json:"footer"`
		Timestamp string                `json:"timestamp"`
	} `json:"embeds"`
	AllowedMentions struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
}

func TestDelivers(t *testing.T) {
	for _, m := range notifytest.Messages() {
		t.Run(m.Name, func(t *testing.T) {
			req := notifytest.Deliver(t, build, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, m.Msg)
			if req.Method != http.MethodPost || req.Path != "/api/webhooks/123/TOKEN" {
				t.Errorf("request %s %s, want a POST to the webhook URL", req.Method, req.Path)
			}
			var p wire
			req.JSON(t, &p)
			if len(p.Embeds) != 1 || p.AllowedMentions.Parse == nil || len(p.AllowedMentions.Parse) != 0 {
				t.Fatalf("want one embed and no mentions allowed: %s", req.Body)
			}
			e := p.Embeds[0]
			total := len([]rune(e.Title)) + len([]rune(e.Description)) + len([]rune(e.Footer.Text))
			for _, f := range e.Fields {
				total += len([]rune(f.Name)) + len([]rune(f.Value))
				if f.Name == "" || f.Value == "" {
					t.Errorf("field %+v: Discord refuses empty names and values", f)
				}
			}
			if e.Title == "" || total > 6000 || len(e.Fields) > 25 {
				t.Errorf("embed breaks Discord's limits: %d characters, %d fields", total, len(e.Fields))
			}
			if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil {
				t.Errorf("timestamp %q is not ISO 8601", e.Timestamp)
			}
			if m.Msg.Event == notify.EventAlertFiring {
				if !strings.Contains(e.Description, "[Runbook](https://runbooks.example.com/payments#heartbeat)") {
					t.Errorf("description lacks the runbook link: %s", e.Description)
				}
				if !strings.Contains(e.Description, `\@channel`) || !strings.Contains(e.Description, `\*payments\*`) {
					t.Errorf("description does not escape markdown: %s", e.Description)
				}
			}
			notifytest.Golden(t, m.Name, req)
		})
	}
}

func TestFailures(t *testing.T) {
	notifytest.CheckFailures(t, build, "TOKEN")
}

// Discord says how long to wait in the body of a 429 too, with a fraction
// of a second.
func TestRateLimitBody(t *testing.T) {
	notifytest.CheckRetryHint(t, build, `{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`, 1500*time.Millisecond)
}

// Details with an empty key or value still make fields Discord accepts.
func TestEmptyDetails(t *testing.T) {
	m := notifytest.Firing()
	m.Alert.Details = map[string]string{"": "x", "stderr": " "}
	for _, f := range discord.NewPayload(m).Embeds[0].Fields {
		if strings.TrimSpace(f.Name) == "" || strings.TrimSpace(f.Value) == "" {
			t.Errorf("field %+v would be refused", f)
		}
	}
}

// However many long details an alert has, the embed stays within
// Discord's limits.
func TestManyLongDetails(t *testing.T) {
	m := notifytest.Firing()
	for i := range 40 {
		m.Alert.Details[strings.Repeat("k", i+1)] = strings.Repeat("v", 2000)
	}
	e := discord.NewPayload(m).Embeds[0]
	total := len([]rune(e.Title)) + len([]rune(e.Description)) + len([]rune(e.Footer.Text))
	for _, f := range e.Fields {
		total += len([]rune(f.Name)) + len([]rune(f.Value))
	}
	if total > 6000 || len(e.Fields) > 25 || len(e.Fields) < 5 {
		t.Errorf("embed of %d characters and %d fields", total, len(e.Fields))
	}
}
