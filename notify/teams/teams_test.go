package teams_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/notifytest"
	"github.com/nightjar-dev/nightjar/notify/teams"
)

func build(url string, client *http.Client) notify.Notifier {
	return teams.New(&nightjar.Channel{Kind: nightjar.ChannelTeams, Config: nightjar.ChannelConfig{URL: url + "/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SIGNATURE"}}, client)
}

// wire is a workflow webhook's message with an Adaptive Card attachment,
// as Microsoft's documentation describes it, written independently of the
// package's types.
type wire struct {
	Type        string `json:"type"`
	Attachments []struct {
		ContentType string  `json:"contentType"`
		ContentURL  *string `json:"contentUrl"`
		Content     struct {
			Schema  string `json:"$schema"`
			Type    string `json:"type"`
			Version string `json:"version"`
			Body    []struct {
				Type     string `json:"type"`
				Text     string `json:"text"`
				Weight   string `json:"weight"`
				Size     string `json:"size"`
				Color    string `json:"color"`
				IsSubtle bool   `json:"isSubtle"`
				Wrap     bool   `json:"wrap"`
				Facts    []struct {
					Title string `json:"title"`
					Value string `json:"value"`
				} `json:"facts"`
			} `json:"body"`
			Actions []struct {
				Type  string `json:"type"`
				Title string `json:"title"`
				URL   string `json:"url"`
			} `json:"actions"`
			MSTeams struct {
				Width string `json:"width"`
			} `json:"msteams"`
		} `json:"content"`
	} `json:"attachments"`
}

func TestDelivers(t *testing.T) {
	for _, m := range notifytest.Messages() {
		t.Run(m.Name, func(t *testing.T) {
			req := notifytest.Deliver(t, build, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }, m.Msg)
			if req.Method != http.MethodPost || !strings.Contains(req.RawQuery, "sig=SIGNATURE") {
				t.Errorf("request %s %s?%s, want a POST to the workflow URL with its query", req.Method, req.Path, req.RawQuery)
			}
			var p wire
			req.JSON(t, &p)
			if p.Type != "message" || len(p.Attachments) != 1 {
				t.Fatalf("want a message with one attachment: %s", req.Body)
			}
			a := p.Attachments[0]
			if a.ContentType != "application/vnd.microsoft.card.adaptive" || a.Content.Type != "AdaptiveCard" || a.Content.Version == "" || a.Content.Schema != "http://adaptivecards.io/schemas/adaptive-card.json" {
				t.Errorf("attachment is not an Adaptive Card: %+v", a)
			}
			for _, b := range a.Content.Body {
				if b.Type != "TextBlock" && b.Type != "FactSet" {
					t.Errorf("unexpected element %q", b.Type)
				}
			}
			for _, act := range a.Content.Actions {
				if act.Type != "Action.OpenUrl" || !strings.HasPrefix(act.URL, "https://") {
					t.Errorf("action %+v is not a link", act)
				}
			}
			if m.Msg.Event == notify.EventAlertFiring && (len(a.Content.Actions) == 0 || a.Content.Actions[0].Title != "Runbook") {
				t.Errorf("the runbook is not the first action: %+v", a.Content.Actions)
			}
			notifytest.Golden(t, m.Name, req)
		})
	}
}

func TestFailures(t *testing.T) {
	notifytest.CheckFailures(t, build, "SIGNATURE")
}
