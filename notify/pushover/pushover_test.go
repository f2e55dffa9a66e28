package pushover_test

import (
	"net/http"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/notifytest"
	"github.com/nightjar-dev/nightjar/notify/pushover"
)

const (
	token   = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
	userKey = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
)

func buildWith(priority *int) notifytest.Build {
	return func(url string, client *http.Client) notify.Notifier {
		return pushover.New(&nightjar.Channel{Kind: nightjar.ChannelPushover, Config: nightjar.ChannelConfig{BaseURL: url, Token: token, UserKey: userKey, Priority: priority}}, client)
	}
}

// wire is the messages API's parameters as Pushover documents them,
// written independently of the package's types.
type wire struct {
	Token     string `json:"token"`
	User      string `json:"user"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	Priority  int    `json:"priority"`
	Timestamp int64  `json:"timestamp"`
	URL       string `json:"url"`
	URLTitle  string `json:"url_title"`
	Retry     int    `json:"retry"`
	Expire    int    `json:"expire"`
}

const accepted = `{"status":1,"request":"647d2300-702c-4b38-8b2f-d56326ae460b"}`

func TestDelivers(t *testing.T) {
	wantPriority := map[string]int{"firing": 1, "resolved": 0, "test": 0}
	for _, m := range notifytest.Messages() {
		t.Run(m.Name, func(t *testing.T) {
			req := notifytest.Deliver(t, buildWith(nil), notifytest.Respond(200, accepted), m.Msg)
			if req.Method != http.MethodPost || req.Path != "/1/messages.json" {
				t.Errorf("request %s %s, want POST /1/messages.json", req.Method, req.Path)
			}
			var p wire
			req.JSON(t, &p)
			if p.Token != token || p.User != userKey || p.Message == "" || len([]rune(p.Message)) > 1024 || len([]rune(p.Title)) > 250 || p.Priority != wantPriority[m.Name] || p.Retry != 0 {
				t.Errorf("parameters %+v", p)
			}
			if m.Name == "firing" && (p.URL != "https://runbooks.example.com/payments#heartbeat" || p.URLTitle != "Runbook") {
				t.Errorf("url %q (%q), want the runbook", p.URL, p.URLTitle)
			}
			notifytest.Golden(t, m.Name, req)
		})
	}
}

// An emergency priority carries the retry and expire Pushover requires.
func TestEmergency(t *testing.T) {
	two := 2
	req := notifytest.Deliver(t, buildWith(&two), notifytest.Respond(200, accepted), notifytest.Resolved())
	var p wire
	req.JSON(t, &p)
	if p.Priority != 2 || p.Retry < 30 || p.Expire <= 0 || p.Expire > 10800 {
		t.Errorf("emergency parameters %+v", p)
	}
}

func TestFailures(t *testing.T) {
	notifytest.CheckFailures(t, buildWith(nil), token, userKey)
}
