package pagerduty_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/notifytest"
	"github.com/nightjar-dev/nightjar/notify/pagerduty"
)

const key = "R0UT1NGKEY0f32charsxxxxxxxxxxxxx"

func build(url string, client *http.Client) notify.Notifier {
	return pagerduty.New(&nightjar.Channel{Kind: nightjar.ChannelPagerDuty, Config: nightjar.ChannelConfig{BaseURL: url, RoutingKey: key}}, client)
}

// wire is an Events API v2 event as PagerDuty documents it, written
// independently of the package's types.
type wire struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary       string            `json:"summary"`
		Source        string            `json:"source"`
		Severity      string            `json:"severity"`
		Timestamp     string            `json:"timestamp"`
		Component     string            `json:"component"`
		Group         string            `json:"group"`
		Class         string            `json:"class"`
		CustomDetails map[string]string `json:"custom_details"`
	} `json:"payload"`
	Links []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
	Images []struct {
		Src  string `json:"src"`
		Href string `json:"href"`
		Alt  string `json:"alt"`
	} `json:"images"`
	Client    string `json:"client"`
	ClientURL string `json:"client_url"`
}

const accepted = `{"status":"success","message":"Event processed","dedup_key":"k"}`

func send(t *testing.T, msg notify.Message) []wire {
	t.Helper()
	rc := notifytest.NewReceiver(t, notifytest.Respond(http.StatusAccepted, accepted))
	if retry, err := build(rc.URL, notifytest.Client()).Notify(t.Context(), msg); err != nil {
		t.Fatalf("Notify = (%v, %v)", retry, err)
	}
	var out []wire
	for _, req := range rc.Requests() {
		if req.Method != http.MethodPost || req.Path != "/v2/enqueue" {
			t.Errorf("request %s %s, want POST /v2/enqueue", req.Method, req.Path)
		}
		var ev wire
		req.JSON(t, &ev)
		if ev.RoutingKey != key || ev.DedupKey == "" || len(ev.DedupKey) > 255 {
			t.Errorf("event %+v lacks its routing key or a dedup key of at most 255 characters", ev)
		}
		switch ev.EventAction {
		case "trigger":
			p := ev.Payload
			if p == nil || p.Summary == "" || len(p.Summary) > 1024 || p.Source == "" || !strings.Contains(" critical error warning info ", " "+p.Severity+" ") {
				t.Fatalf("trigger payload %+v breaks the Events API's rules", p)
			}
			if p.Timestamp != "" {
				if _, err := time.Parse(time.RFC3339, p.Timestamp); err != nil {
					t.Errorf("timestamp %q is not ISO 8601", p.Timestamp)
				}
			}
		case "resolve":
			if ev.Payload != nil {
				t.Errorf("resolve carries a payload")
			}
		default:
			t.Errorf("event_action %q", ev.EventAction)
		}
		out = append(out, ev)
	}
	return out
}

func TestTriggerAndResolveShareTheDedupKey(t *testing.T) {
	fire := send(t, notifytest.Firing())
	again := send(t, notifytest.Firing())
	resolve := send(t, notifytest.Resolved())
	if len(fire) != 1 || fire[0].EventAction != "trigger" || len(resolve) != 1 || resolve[0].EventAction != "resolve" {
		t.Fatalf("events %+v then %+v", fire, resolve)
	}
	if fire[0].DedupKey != again[0].DedupKey || fire[0].DedupKey != resolve[0].DedupKey {
		t.Errorf("dedup keys %q, %q, %q: a retry or the resolve would miss the incident", fire[0].DedupKey, again[0].DedupKey, resolve[0].DedupKey)
	}
	p := fire[0].Payload
	if p.Severity != "critical" || p.Source != "payments-api" || p.CustomDetails["check"] != "payments-heartbeat" {
		t.Errorf("trigger payload %+v", p)
	}
	if len(fire[0].Links) == 0 || fire[0].Links[0].Text != "Runbook" || fire[0].ClientURL == "" {
		t.Errorf("links %+v, client_url %q", fire[0].Links, fire[0].ClientURL)
	}
}

// A test triggers and resolves an incident of its own.
func TestTestEvent(t *testing.T) {
	evs := send(t, notifytest.Test())
	if len(evs) != 2 || evs[0].EventAction != "trigger" || evs[1].EventAction != "resolve" || evs[0].DedupKey != evs[1].DedupKey || evs[0].Payload.Severity != "info" {
		t.Fatalf("test events %+v", evs)
	}
	if evs[0].DedupKey == send(t, notifytest.Firing())[0].DedupKey {
		t.Errorf("a test shares a real alert's dedup key")
	}
}

func TestGolden(t *testing.T) {
	for _, m := range notifytest.Messages() {
		t.Run(m.Name, func(t *testing.T) {
			for _, ev := range pagerduty.Events(m.Msg, key) {
				body, err := notify.EncodeJSON(ev)
				if err != nil {
					t.Fatal(err)
				}
				notifytest.Golden(t, m.Name+"_"+ev.EventAction, notifytest.Request{Body: body})
			}
		})
	}
}

// An image link shows on the incident; one that is no web address does not.
func TestImages(t *testing.T) {
	m := notifytest.Firing()
	m.Alert.Links = append(m.Alert.Links, nightjar.Link{Href: "https://grafana.example.com/d/abc", Image: "https://grafana.example.com/render/abc.png", Text: "Latency"},
		nightjar.Link{Href: "javascript:x", Image: "data:image/png;base64,AAAA"})
	evs := pagerduty.Events(m, key)
	if len(evs[0].Images) != 1 || evs[0].Images[0].Src != "https://grafana.example.com/render/abc.png" {
		t.Errorf("images %+v", evs[0].Images)
	}
}

func TestFailures(t *testing.T) {
	notifytest.CheckFailures(t, build, key)
}
