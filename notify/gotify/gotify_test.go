package gotify_test

import (
	"net/http"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/gotify"
	"github.com/nightjar-dev/nightjar/notify/notifytest"
)

const token = "AvKcy9o-yvVhyKd"

func build(url string, client *http.Client) notify.Notifier {
	return gotify.New(&nightjar.Channel{Kind: nightjar.ChannelGotify, Config: nightjar.ChannelConfig{BaseURL: url + "/gotify/", Token: token}}, client)
}

// wire is a message as Gotify's API documents it, written independently of
// the package's types.
type wire struct {
	Title    string `json:"title"`
	Message  string `json:"message"`
	Priority int    `json:"priority"`
	Extras   struct {
		Display struct {
			ContentType string `json:"contentType"`
		} `json:"client::display"`
		Notification *struct {
			Click struct {
				URL string `json:"url"`
			} `json:"click"`
		} `json:"client::notification"`
	} `json:"extras"`
}

func TestDelivers(t *testing.T) {
	wantPriority := map[string]int{"firing": 8, "resolved": 2, "test": 2, "bundle": 8}
	for _, m := range notifytest.Messages() {
		t.Run(m.Name, func(t *testing.T) {
			req := notifytest.Deliver(t, build, notifytest.Respond(200, `{"id":25,"appid":5,"message":"…","title":"…","priority":8,"date":"2025-03-01T12:00:01Z"}`), m.Msg)
			if req.Method != http.MethodPost || req.Path != "/gotify/message" || req.Header.Get("X-Gotify-Key") != token || req.RawQuery != "" {
				t.Errorf("request %s %s?%s, want POST <server>/message with the token in X-Gotify-Key", req.Method, req.Path, req.RawQuery)
			}
			var p wire
			req.JSON(t, &p)
			if p.Title == "" || p.Message == "" || p.Priority != wantPriority[m.Name] || p.Extras.Display.ContentType != "text/plain" {
				t.Errorf("message %+v", p)
			}
			if m.Name == "firing" && (p.Extras.Notification == nil || p.Extras.Notification.Click.URL != "https://runbooks.example.com/payments#heartbeat") {
				t.Errorf("click does not open the runbook: %s", req.Body)
			}
			notifytest.Golden(t, m.Name, req)
		})
	}
}

func TestFailures(t *testing.T) {
	notifytest.CheckFailures(t, build, token)
}
