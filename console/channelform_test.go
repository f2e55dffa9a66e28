package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/browsertest"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// The channel form is drawn from the domain's descriptions of the kinds:
// every kind and each of its settings has a field, named after the kind,
// and saving reads only the chosen kind's.
func TestChannelFormEveryKind(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		m := e.login("member@a.test")
		status, body := m.get("/channels/new")
		if status != http.StatusOK {
			t.Fatalf("new channel page: %d", status)
		}
		for _, k := range nightjar.ChannelKinds() {
			if !strings.Contains(body, `id="kind-`+k.Name+`"`) || !strings.Contains(body, `data-kind="`+k.Name+`"`) {
				t.Errorf("the form lacks the kind %s", k.Name)
			}
			for _, s := range k.Settings {
				if !strings.Contains(body, `name="`+k.Name+`.`+s.Name+`"`) {
					t.Errorf("the form lacks %s.%s", k.Name, s.Name)
				}
			}
		}

		// Another kind's filled-in fields are ignored.
		form := url.Values{"kind": {"telegram"}, "name": {"tg"}, "telegram.token": {"123456:Bot-Token_XYZ"}, "telegram.chat_id": {"-100123"},
			"slack.url": {"https://hooks.slack.com/services/T/B/C"}, "ntfy.priority": {"9"}}
		if status, body := m.post("/channels/new", form); status != http.StatusSeeOther {
			t.Fatalf("create telegram: %d\n%s", status, body)
		}
		chs, _ := channels.New(db).List(ctx, e.a.ID)
		if len(chs) != 1 || chs[0].Kind != "telegram" || chs[0].Config.Token != "123456:Bot-Token_XYZ" || chs[0].Config.ChatID != "-100123" || chs[0].Config.URL != "" {
			t.Fatalf("stored %+v", chs)
		}
		ch := chs[0]

		_, list := m.get("/channels")
		if !strings.Contains(list, "chat -100123") || strings.Contains(list, "Bot-Token_XYZ") {
			t.Errorf("the list should name the chat and never the token")
		}
		_, edit := m.get("/channels/" + ch.ID + "/edit")
		if strings.Contains(edit, "Bot-Token_XYZ") || !strings.Contains(edit, "leave empty to keep it") || !strings.Contains(edit, `value="-100123"`) {
			t.Errorf("the edit form shows the token or loses the chat")
		}

		// An empty token field keeps the token; a bad chat is refused with
		// the field named, and the form keeps what was entered.
		if status, _ := m.post("/channels/"+ch.ID+"/edit", url.Values{"kind": {"telegram"}, "name": {"tg2"}, "telegram.token": {""}, "telegram.chat_id": {"-100999"}}); status != http.StatusSeeOther {
			t.Fatalf("edit keeping the token: %d", status)
		}
		if got, _ := channels.New(db).Get(ctx, e.a.ID, ch.ID); got.Name != "tg2" || got.Config.Token != "123456:Bot-Token_XYZ" || got.Config.ChatID != "-100999" {
			t.Fatalf("after edit: %+v", got)
		}
		status, body = m.post("/channels/"+ch.ID+"/edit", url.Values{"kind": {"telegram"}, "name": {"tg2"}, "telegram.chat_id": {"general"}})
		if status != http.StatusBadRequest || !strings.Contains(body, "config.chat_id") || !strings.Contains(body, `value="general"`) {
			t.Fatalf("bad chat: %d", status)
		}

		// A priority that is no number is refused on the form, naming it.
		status, body = m.post("/channels/new", url.Values{"kind": {"ntfy"}, "name": {"phone"}, "ntfy.url": {"https://ntfy.sh/alerts"}, "ntfy.priority": {"high"}})
		if status != http.StatusBadRequest || !strings.Contains(body, "config.priority") {
			t.Fatalf("priority high: %d", status)
		}
		if status, _ := m.post("/channels/new", url.Values{"kind": {"ntfy"}, "name": {"phone"}, "ntfy.url": {"https://ntfy.sh/alerts"}, "ntfy.priority": {"5"}, "ntfy.token": {"tk_secret"}}); status != http.StatusSeeOther {
			t.Fatalf("create ntfy: %d", status)
		}
		// Removing an optional secret takes its box.
		chs, _ = channels.New(db).List(ctx, e.a.ID)
		var phone *nightjar.Channel
		for _, c := range chs {
			if c.Name == "phone" {
				phone = c
			}
		}
		if phone == nil || *phone.Config.Priority != 5 || phone.Config.Token != "tk_secret" {
			t.Fatalf("ntfy stored %+v", phone)
		}
		if status, _ := m.post("/channels/"+phone.ID+"/edit", url.Values{"kind": {"ntfy"}, "name": {"phone"}, "ntfy.url": {"https://ntfy.sh/alerts"}, "ntfy.priority": {""}, "ntfy.remove_token": {"1"}}); status != http.StatusSeeOther {
			t.Fatalf("remove token: %d", status)
		}
		if got, _ := channels.New(db).Get(ctx, e.a.ID, phone.ID); got.Config.Token != "" || got.Config.Priority != nil {
			t.Fatalf("after removing: %+v", got.Config)
		}

		v := e.login("viewer@a.test")
		if status, _ := v.get("/channels/new"); status == http.StatusOK {
			t.Errorf("a viewer gets the new channel form")
		}
	})
}

// In a real browser the channel form shows only the chosen kind's
// settings, and a channel of a new kind is saved from it.
func TestChannelFormInBrowser(t *testing.T) {
	t.Parallel()
	takeBrowserTurn(t)
	b := browsertest.New(t)
	db := storetest.Open(t, "sqlite")
	p := acme(t, db)
	srv := startStack(t, db)

	page := b.NewPage(t)
	page.Navigate(srv.URL + "/channels/new")
	page.WaitVisible("#email")
	page.Fill("#email", "owner@acme.test")
	page.Fill("#password", pw)
	page.Submit("form[action='/login']")
	page.WaitText("h1", "Add a channel")

	visible := func() []string {
		var kinds []string
		page.Eval(`[...document.querySelectorAll("fieldset.channel-kind")].filter(f => !f.hidden && f.offsetParent !== null).map(f => f.dataset.kind)`, &kinds)
		return kinds
	}
	if got := visible(); len(got) != 1 || got[0] != "webhook" {
		t.Fatalf("visible settings %v, want only the webhook's", got)
	}
	page.Click("#kind-pagerduty")
	if got := visible(); len(got) != 1 || got[0] != "pagerduty" {
		t.Fatalf("visible settings after choosing PagerDuty %v", got)
	}
	page.Fill("#ch-name", "oncall")
	page.Fill(`[id="ch-pagerduty.routing_key"]`, "R0utingKeyFromTheBrowser")
	page.Submit("form.channel-form")
	page.WaitText("h1", "Notification channels")
	page.WaitText("main", "PagerDuty")

	chs, err := channels.New(db).List(context.Background(), p.ID)
	if err != nil || len(chs) != 1 || chs[0].Kind != nightjar.ChannelPagerDuty || chs[0].Config.RoutingKey != "R0utingKeyFromTheBrowser" {
		t.Fatalf("stored %+v %v", chs, err)
	}
}
