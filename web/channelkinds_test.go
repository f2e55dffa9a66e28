package web

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// Every kind of channel is created through the one input path of the API,
// its answers never show a credential, and a bad setting is a 400 naming
// the field.
func TestChannelAPIEveryKind(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		secrets := []string{"Slack-Token-XYZ", "123456:Bot-Token-XYZ", "Ntfy-Token-XYZ", "Push-App-XYZ", "Push-User-XYZ", "Gotify-Token-XYZ", "syt_Matrix-Token-XYZ", "Routing-Key-XYZ", "Genie-Key-XYZ"}
		for kind, cfg := range map[string]map[string]any{
			"slack":     {"url": "https://hooks.slack.com/services/T0/B0/Slack-Token-XYZ"},
			"discord":   {"url": "https://discord.com/api/webhooks/1/AbC"},
			"teams":     {"url": "https://prod.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=AbC"},
			"telegram":  {"token": "123456:Bot-Token-XYZ", "chat_id": "-100123"},
			"ntfy":      {"url": "https://ntfy.sh/alerts", "token": "Ntfy-Token-XYZ", "priority": 4},
			"pushover":  {"token": "Push-App-XYZ", "user_key": "Push-User-XYZ", "priority": 2},
			"gotify":    {"base_url": "https://gotify.example.com", "token": "Gotify-Token-XYZ"},
			"matrix":    {"base_url": "https://matrix.example.org", "token": "syt_Matrix-Token-XYZ", "room_id": "!room:example.org"},
			"pagerduty": {"routing_key": "Routing-Key-XYZ"},
			"opsgenie":  {"api_key": "Genie-Key-XYZ", "region": "eu"},
		} {
			r := e.do("POST", "/api/v1/channels", e.rw, map[string]any{"kind": kind, "name": kind, "config": cfg})
			if r.status != http.StatusCreated {
				t.Fatalf("create %s: %d %s", kind, r.status, r.body)
			}
		}
		list := e.do("GET", "/api/v1/channels", e.rw, nil)
		for _, s := range secrets {
			if strings.Contains(string(list.body), s) {
				t.Errorf("the list shows %s: %s", s, list.body)
			}
		}
		for _, want := range []string{`"chat_id":"-100123"`, `"room_id":"!room:example.org"`, `"region":"eu"`, `"priority":4`, `"routing_key":"<redacted>"`} {
			if !strings.Contains(string(list.body), want) {
				t.Errorf("the list lacks %s", want)
			}
		}
		for _, tc := range []struct {
			cfg   map[string]any
			field string
		}{
			{map[string]any{"url": "https://ntfy.sh/alerts", "priority": 9}, "config.priority"},
			{map[string]any{"url": "https://ntfy.sh/alerts", "priority": "high"}, "config.priority"},
			{map[string]any{"url": "https://ntfy.sh/"}, "config.url"},
			{map[string]any{"url": "https://ntfy.sh/alerts", "chat_id": "1"}, "config.chat_id"},
		} {
			r := e.do("POST", "/api/v1/channels", e.rw, map[string]any{"kind": "ntfy", "name": "bad", "config": tc.cfg})
			if r.status != http.StatusBadRequest || r.json(t)["field"] != tc.field {
				t.Errorf("%v: %d %s, want 400 naming %s", tc.cfg, r.status, r.body, tc.field)
			}
		}
	})
}

// The OpenAPI document lists every kind and every setting the domain
// describes, in the channel and in its update.
func TestOpenAPIDescribesEveryChannelKind(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties struct {
					Kind struct {
						Enum []string `json:"enum"`
					} `json:"kind"`
					Config struct {
						Properties map[string]any `json:"properties"`
					} `json:"config"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	for _, schema := range []string{"Channel", "ChannelUpdate"} {
		s := doc.Components.Schemas[schema]
		for _, k := range nightjar.ChannelKinds() {
			if !slices.Contains(s.Properties.Kind.Enum, k.Name) {
				t.Errorf("%s: kind %s is not in the enum", schema, k.Name)
			}
			for _, set := range k.Settings {
				if _, ok := s.Properties.Config.Properties[set.Name]; !ok {
					t.Errorf("%s: config.%s (%s) is not described", schema, set.Name, k.Name)
				}
			}
		}
	}
}

// Healthchecks' v3 API names some kinds its own way; its clients see those
// names.
func TestV3ChannelKindNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		for kind, cfg := range map[string]map[string]any{
			"pagerduty": {"routing_key": "k"},
			"pushover":  {"token": "t", "user_key": "u"},
			"teams":     {"url": "https://prod.westus.logic.azure.com/workflows/abc"},
			"slack":     {"url": "https://hooks.slack.com/services/T/B/C"},
		} {
			if r := e.do("POST", "/api/v1/channels", e.rw, map[string]any{"kind": kind, "name": kind, "config": cfg}); r.status != http.StatusCreated {
				t.Fatalf("create %s: %d %s", kind, r.status, r.body)
			}
		}
		var got struct {
			Channels []struct{ Name, Kind string } `json:"channels"`
		}
		r := e.do("GET", "/api/v3/channels/", e.rw, nil)
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"pagerduty": "pd", "pushover": "po", "teams": "msteams", "slack": "slack"}
		for _, ch := range got.Channels {
			if want[ch.Name] != ch.Kind {
				t.Errorf("%s listed as %q, want %q", ch.Name, ch.Kind, want[ch.Name])
			}
		}
	})
}

// The kinds' descriptions are served as the domain gives them, to any key.
func TestChannelKindsEndpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		r := e.do("GET", "/api/v1/channel-kinds", e.rw, nil)
		var got struct {
			Kinds []nightjar.ChannelKind `json:"kinds"`
		}
		if err := json.Unmarshal(r.body, &got); err != nil || r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if want := nightjar.ChannelKinds(); !reflect.DeepEqual(got.Kinds, want) {
			t.Errorf("kinds differ from the domain's:\n got %+v\nwant %+v", got.Kinds, want)
		}
	})
}
