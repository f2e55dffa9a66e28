package opsgenie_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/notifytest"
	"github.com/nightjar-dev/nightjar/notify/opsgenie"
)

const key = "eb243592-faa2-4ba2-a551q-1afdf565c889"

func build(url string, client *http.Client) notify.Notifier {
	return opsgenie.New(&nightjar.Channel{Kind: nightjar.ChannelOpsgenie, Config: nightjar.ChannelConfig{BaseURL: url, APIKey: key}}, client)
}

// create and closeBody are the Alert API's bodies as Opsgenie documents
// them, written independently of the package's types.
type create struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias"`
	Description string            `json:"description"`
	Entity      string            `json:"entity"`
	Source      string            `json:"source"`
	Priority    string            `json:"priority"`
	Tags        []string          `json:"tags"`
	Details     map[string]string `json:"details"`
}

type closeBody struct {
	Source string `json:"source"`
	Note   string `json:"note"`
}

const accepted = `{"result":"Request will be processed","took":0.302,"requestId":"43a29c5c-3dbf-4fa4-9c26-f4f71023e120"}`

func send(t *testing.T, msg notify.Message) []notifytest.Request {
	t.Helper()
	rc := notifytest.NewReceiver(t, notifytest.Respond(http.StatusAccepted, accepted))
	if retry, err := build(rc.URL, notifytest.Client()).Notify(t.Context(), msg); err != nil {
		t.Fatalf("Notify = (%v, %v)", retry, err)
	}
	reqs := rc.Requests()
	for _, r := range reqs {
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "GenieKey "+key {
			t.Errorf("request %s %s with Authorization %q, want a POST with the GenieKey", r.Method, r.Path, r.Header.Get("Authorization"))
		}
	}
	return reqs
}

func TestCreateAndCloseByAlias(t *testing.T) {
	fire := send(t, notifytest.Firing())
	resolve := send(t, notifytest.Resolved())
	if len(fire) != 1 || fire[0].Path != "/v2/alerts" || len(resolve) != 1 {
		t.Fatalf("requests %+v then %+v", fire, resolve)
	}
	var c create
	fire[0].JSON(t, &c)
	if c.Message == "" || len([]rune(c.Message)) > 130 || c.Alias == "" || len(c.Alias) > 512 || c.Priority != "P1" || c.Source != "Nightjar" || c.Entity != "payments-api" {
		t.Errorf("create %+v", c)
	}
	if c.Details["runbook"] != "https://runbooks.example.com/payments#heartbeat" || !strings.Contains(c.Description, "Runbook: https://runbooks.example.com") {
		t.Errorf("the runbook is missing: details %v", c.Details)
	}
	wantPath := "/v2/alerts/" + url.PathEscape(c.Alias) + "/close"
	if resolve[0].Path != wantPath || resolve[0].RawQuery != "identifierType=alias" {
		t.Errorf("close went to %s?%s, want %s?identifierType=alias", resolve[0].Path, resolve[0].RawQuery, wantPath)
	}
	var cl closeBody
	resolve[0].JSON(t, &cl)
	if cl.Source == "" || cl.Note == "" {
		t.Errorf("close %+v", cl)
	}
}

// A test creates an alert of its own and closes it.
func TestTestEvent(t *testing.T) {
	reqs := send(t, notifytest.Test())
	if len(reqs) != 2 || reqs[0].Path != "/v2/alerts" || !strings.HasSuffix(reqs[1].Path, "/close") {
		t.Fatalf("test requests %+v", reqs)
	}
	var c create
	reqs[0].JSON(t, &c)
	if c.Priority != "P5" || !strings.Contains(reqs[1].Path, url.PathEscape(c.Alias)) {
		t.Errorf("test create %+v closed at %s", c, reqs[1].Path)
	}
}

func TestGolden(t *testing.T) {
	for _, m := range notifytest.Messages() {
		t.Run(m.Name, func(t *testing.T) {
			for i, r := range opsgenie.Requests(m.Msg) {
				body, err := notify.EncodeJSON(r.Body)
				if err != nil {
					t.Fatal(err)
				}
				notifytest.Golden(t, m.Name+"_"+[]string{"first", "second"}[i], notifytest.Request{Body: body})
			}
		})
	}
}

// The region picks the API when no base URL is set.
func TestRegion(t *testing.T) {
	for region, want := range map[string]string{"": "https://api.opsgenie.com", "us": "https://api.opsgenie.com", "eu": "https://api.eu.opsgenie.com"} {
		ch := nightjar.Channel{Kind: nightjar.ChannelOpsgenie, Config: nightjar.ChannelConfig{Region: region}}
		if got := ch.BaseURL(); got != want {
			t.Errorf("region %q: base URL %s, want %s", region, got, want)
		}
	}
}

func TestFailures(t *testing.T) {
	notifytest.CheckFailures(t, build, key)
}

// Long details are cut to Opsgenie's total for extra properties, after
// the links.
func TestLongDetails(t *testing.T) {
	m := notifytest.Firing()
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		m.Alert.Details[k] = strings.Repeat("x", 3000)
	}
	c := opsgenie.Requests(m)[0].Body.(opsgenie.Create)
	total := 0
	for k, v := range c.Details {
		total += len([]rune(k)) + len([]rune(v))
	}
	if total > 8000 || c.Details["runbook"] == "" {
		t.Errorf("details of %d characters, runbook %q", total, c.Details["runbook"])
	}
}
