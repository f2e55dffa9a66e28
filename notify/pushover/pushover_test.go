package pushover_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/goldentest"
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

// wire reads the messages API's parameters from a request's form body,
// as Pushover's documentation describes them, failing on a parameter it
// does not know.
type wire struct {
	Token, User, Title, Message, URL, URLTitle string
	Priority, Retry, Expire                    int
	Timestamp                                  int64
}

func decode(t *testing.T, req notifytest.Request) wire {
	t.Helper()
	if ct := req.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Fatalf("Content-Type %q, want a form", ct)
	}
	v, err := url.ParseQuery(string(req.Body))
	if err != nil {
		t.Fatal(err)
	}
	num := func(k string) int {
		if v.Get(k) == "" {
			return 0
		}
		n, err := strconv.Atoi(v.Get(k))
		if err != nil {
			t.Fatalf("%s=%q is not a number", k, v.Get(k))
		}
		return n
	}
	for k := range v {
		if !slices.Contains([]string{"token", "user", "title", "message", "priority", "timestamp", "url", "url_title", "retry", "expire"}, k) {
			t.Errorf("unknown parameter %s", k)
		}
	}
	return wire{Token: v.Get("token"), User: v.Get("user"), Title: v.Get("title"), Message: v.Get("message"), URL: v.Get("url"), URLTitle: v.Get("url_title"),
		Priority: num("priority"), Retry: num("retry"), Expire: num("expire"), Timestamp: int64(num("timestamp"))}
}

// golden writes the form one parameter a line, so a diff shows which
// changed.
func golden(t *testing.T, name string, req notifytest.Request) {
	t.Helper()
	v, _ := url.ParseQuery(string(req.Body))
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(v)) {
		fmt.Fprintf(&b, "%s=%q\n", k, v.Get(k))
	}
	goldentest.Compare(t, filepath.Join("testdata", name+".golden"), b.String())
}

const accepted = `{"status":1,"request":"647d2300-702c-4b38-8b2f-d56326ae460b"}`

func TestDelivers(t *testing.T) {
	wantPriority := map[string]int{"firing": 1, "resolved": 0, "test": 0, "bundle": 1}
	for _, m := range notifytest.Messages() {
		t.Run(m.Name, func(t *testing.T) {
			req := notifytest.Deliver(t, buildWith(nil), notifytest.Respond(200, accepted), m.Msg)
			if req.Method != http.MethodPost || req.Path != "/1/messages.json" {
				t.Errorf("request %s %s, want POST /1/messages.json", req.Method, req.Path)
			}
			p := decode(t, req)
			if p.Token != token || p.User != userKey || p.Message == "" || len([]rune(p.Message)) > 1024 || len([]rune(p.Title)) > 250 || p.Priority != wantPriority[m.Name] || p.Retry != 0 {
				t.Errorf("parameters %+v", p)
			}
			if m.Name == "firing" && (p.URL != "https://runbooks.example.com/payments#heartbeat" || p.URLTitle != "Runbook") {
				t.Errorf("url %q (%q), want the runbook", p.URL, p.URLTitle)
			}
			golden(t, m.Name, req)
		})
	}
}

// An emergency priority carries the retry and expire Pushover requires.
func TestEmergency(t *testing.T) {
	two := 2
	req := notifytest.Deliver(t, buildWith(&two), notifytest.Respond(200, accepted), notifytest.Resolved())
	p := decode(t, req)
	if p.Priority != 2 || p.Retry < 30 || p.Expire <= 0 || p.Expire > 10800 {
		t.Errorf("emergency parameters %+v", p)
	}
}

func TestFailures(t *testing.T) {
	notifytest.CheckFailures(t, buildWith(nil), token, userKey)
}
