package ntfy_test

import (
	"net/http"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/notifytest"
	"github.com/nightjar-dev/nightjar/notify/ntfy"
)

const token = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"

func buildWith(priority *int) notifytest.Build {
	return func(url string, client *http.Client) notify.Notifier {
		return ntfy.New(&nightjar.Channel{Kind: nightjar.ChannelNtfy, Config: nightjar.ChannelConfig{URL: url + "/alerts-payments", Token: token, Priority: priority}}, client)
	}
}

// wire is a JSON publish request as ntfy's documentation describes it,
// written independently of the package's types.
type wire struct {
	Topic    string   `json:"topic"`
	Title    string   `json:"title"`
	Message  string   `json:"message"`
	Priority int      `json:"priority"`
	Tags     []string `json:"tags"`
	Click    string   `json:"click"`
	Actions  []struct {
		Action string `json:"action"`
		Label  string `json:"label"`
		URL    string `json:"url"`
	} `json:"actions"`
}

const published = `{"id":"sPs71M8A2T","time":1740830401,"event":"message","topic":"alerts-payments","message":"…"}`

func TestDelivers(t *testing.T) {
	wantPriority := map[string]int{"firing": 5, "resolved": 3, "test": 3, "bundle": 5}
	for _, m := range notifytest.Messages() {
		t.Run(m.Name, func(t *testing.T) {
			req := notifytest.Deliver(t, buildWith(nil), notifytest.Respond(200, published), m.Msg)
			if req.Method != http.MethodPost || req.Path != "/" || req.Header.Get("Authorization") != "Bearer "+token {
				t.Errorf("request %s %s (Authorization %q), want a JSON publish to the server's root with the token", req.Method, req.Path, req.Header.Get("Authorization"))
			}
			var p wire
			req.JSON(t, &p)
			if p.Topic != "alerts-payments" || p.Title == "" || p.Message == "" || p.Priority != wantPriority[m.Name] || len(p.Tags) == 0 || len(p.Actions) > 3 {
				t.Errorf("publish %+v", p)
			}
			for _, a := range p.Actions {
				if a.Action != "view" || a.Label == "" || a.URL == "" {
					t.Errorf("action %+v is not a view button", a)
				}
			}
			if m.Name == "firing" && p.Click != "https://runbooks.example.com/payments#heartbeat" {
				t.Errorf("click = %q, want the runbook", p.Click)
			}
			notifytest.Golden(t, m.Name, req)
		})
	}
}

// A configured priority wins over the one picked from the severity, and a
// topic without a token goes without Authorization.
func TestPriorityAndNoToken(t *testing.T) {
	one := 1
	build := func(url string, client *http.Client) notify.Notifier {
		return ntfy.New(&nightjar.Channel{Kind: nightjar.ChannelNtfy, Config: nightjar.ChannelConfig{URL: url + "/prefix/topic", Priority: &one}}, client)
	}
	req := notifytest.Deliver(t, build, notifytest.Respond(200, published), notifytest.Firing())
	var p wire
	req.JSON(t, &p)
	if p.Priority != 1 || p.Topic != "topic" || req.Path != "/prefix/" || req.Header.Get("Authorization") != "" {
		t.Errorf("published %+v to %s with Authorization %q", p, req.Path, req.Header.Get("Authorization"))
	}
}

func TestFailures(t *testing.T) {
	notifytest.CheckFailures(t, buildWith(nil), token)
}
