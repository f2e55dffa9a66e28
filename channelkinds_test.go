package nightjar_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
)

// patch builds a channel of kind from settings given as text, the way the
// console's form and configuration files give them.
func patch(t testing.TB, kind string, settings map[string]string) nightjar.ChannelPatch {
	t.Helper()
	p := nightjar.ChannelPatch{Kind: &kind, Name: ptr("ops")}
	for name, v := range settings {
		if err := p.Config.SetText(name, v); err != nil {
			t.Fatalf("SetText(%s): %v", name, err)
		}
	}
	return p
}

// validSettings are a working channel of every kind.
var validSettings = map[string]map[string]string{
	nightjar.ChannelWebhook:   {"url": "https://h.example/x", "secret": "s3cret"},
	nightjar.ChannelEmail:     {"to": "ops@example.com, oncall@example.com"},
	nightjar.ChannelSlack:     {"url": "https://hooks.slack.com/services/T0/B0/XXXX"},
	nightjar.ChannelDiscord:   {"url": "https://discord.com/api/webhooks/1/TOKEN"},
	nightjar.ChannelTeams:     {"url": "https://prod.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=SIG"},
	nightjar.ChannelTelegram:  {"token": "123456:ABC-DEF_ghi", "chat_id": "-1001234567890"},
	nightjar.ChannelNtfy:      {"url": "https://ntfy.sh/my-alerts", "token": "tk_abc", "priority": "4"},
	nightjar.ChannelPushover:  {"token": "azGDORePK8gMaC0QOYAMyEEuzJnyUi", "user_key": "uQiRzpo4DXghDmr9QzzfQu27cmVRsG", "priority": "-1"},
	nightjar.ChannelGotify:    {"base_url": "https://gotify.example.com", "token": "AvKcy9o-yvVhyKd", "priority": "8"},
	nightjar.ChannelMatrix:    {"base_url": "https://matrix.example.org", "token": "syt_abc", "room_id": "!room:example.org"},
	nightjar.ChannelPagerDuty: {"routing_key": "R0UT1NGKEY"},
	nightjar.ChannelOpsgenie:  {"api_key": "eb243592-faa2", "region": "eu"},
}

func TestChannelKindsAllValid(t *testing.T) {
	kinds := nightjar.ChannelKinds()
	if len(kinds) != len(validSettings) {
		t.Fatalf("%d kinds described, %d tested", len(kinds), len(validSettings))
	}
	for _, k := range kinds {
		t.Run(k.Name, func(t *testing.T) {
			var ch nightjar.Channel
			if err := ch.Apply(patch(t, k.Name, validSettings[k.Name])); err != nil {
				t.Fatalf("Apply = %v", err)
			}
			// Listings never show a secret setting's value.
			shown := ch.WithoutSecrets()
			js, _ := json.Marshal(shown)
			for _, s := range k.Settings {
				v := ch.Config.Text(s.Name)
				if s.Secret && v != "" && strings.Contains(string(js), v) {
					t.Errorf("WithoutSecrets shows %s: %s", s.Name, js)
				}
				if s.Secret != (s.Type == nightjar.SettingSecret) {
					t.Errorf("setting %s: secret %v but type %s", s.Name, s.Secret, s.Type)
				}
			}
			// Sending the listing back unchanged is refused, not stored.
			if back := shown; k.Name != nightjar.ChannelEmail && hasSecret(k) {
				if err := back.Validate(); nightjar.ErrorCode(err) != nightjar.EINVALID || !strings.Contains(nightjar.ErrorMessage(err), "placeholder") {
					t.Errorf("a listing sent back validates: %v", err)
				}
			}
			// Every required setting is required.
			for _, s := range k.Settings {
				if !s.Required {
					continue
				}
				without := map[string]string{}
				for n, v := range validSettings[k.Name] {
					if n != s.Name {
						without[n] = v
					}
				}
				var ch nightjar.Channel
				if err := ch.Apply(patch(t, k.Name, without)); nightjar.ErrorField(err) != "config."+s.Name {
					t.Errorf("without %s: Apply = %v, want an error naming config.%s", s.Name, err, s.Name)
				}
			}
		})
	}
}

func hasSecret(k nightjar.ChannelKind) bool {
	for _, s := range k.Settings {
		if s.Secret {
			return true
		}
	}
	return false
}

func TestChannelKindSettingsRefused(t *testing.T) {
	with := func(kind string, extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range validSettings[kind] {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name, kind string
		settings   map[string]string
		field, msg string
	}{
		{"other kind's setting", nightjar.ChannelSlack, with(nightjar.ChannelSlack, map[string]string{"chat_id": "1"}), "config.chat_id", "not a setting of slack"},
		{"priority on slack", nightjar.ChannelSlack, with(nightjar.ChannelSlack, map[string]string{"priority": "1"}), "config.priority", "not a setting"},
		{"ntfy priority too high", nightjar.ChannelNtfy, with(nightjar.ChannelNtfy, map[string]string{"priority": "6"}), "config.priority", "from 1 to 5"},
		{"pushover priority too low", nightjar.ChannelPushover, with(nightjar.ChannelPushover, map[string]string{"priority": "-3"}), "config.priority", "from -2 to 2"},
		{"gotify priority", nightjar.ChannelGotify, with(nightjar.ChannelGotify, map[string]string{"priority": "11"}), "config.priority", "from 0 to 10"},
		{"ntfy without topic", nightjar.ChannelNtfy, with(nightjar.ChannelNtfy, map[string]string{"url": "https://ntfy.sh/"}), "config.url", "topic"},
		{"ntfy topic with a query", nightjar.ChannelNtfy, with(nightjar.ChannelNtfy, map[string]string{"url": "https://ntfy.sh/a?auth=x"}), "config.url", "topic"},
		{"telegram token shape", nightjar.ChannelTelegram, with(nightjar.ChannelTelegram, map[string]string{"token": "not-a-token"}), "config.token", "BotFather"},
		{"telegram token with a slash", nightjar.ChannelTelegram, with(nightjar.ChannelTelegram, map[string]string{"token": "1:abc/../x"}), "config.token", "BotFather"},
		{"telegram chat", nightjar.ChannelTelegram, with(nightjar.ChannelTelegram, map[string]string{"chat_id": "general"}), "config.chat_id", "chat number"},
		{"matrix alias", nightjar.ChannelMatrix, with(nightjar.ChannelMatrix, map[string]string{"room_id": "#ops:example.org"}), "config.room_id", "not a room alias"},
		{"matrix homeserver", nightjar.ChannelMatrix, with(nightjar.ChannelMatrix, map[string]string{"base_url": "matrix.example.org"}), "config.base_url", "http or https"},
		{"token with a space", nightjar.ChannelGotify, with(nightjar.ChannelGotify, map[string]string{"token": "a b"}), "config.token", "without spaces"},
		{"token with a line break", nightjar.ChannelMatrix, with(nightjar.ChannelMatrix, map[string]string{"token": "a\r\nX-Evil: 1"}), "config.token", ""},
		{"opsgenie region", nightjar.ChannelOpsgenie, with(nightjar.ChannelOpsgenie, map[string]string{"region": "apac"}), "config.region", "us, eu"},
		{"placeholder key", nightjar.ChannelPagerDuty, map[string]string{"routing_key": nightjar.SecretPlaceholder}, "config.routing_key", "placeholder"},
		{"headers on slack", nightjar.ChannelSlack, validSettings[nightjar.ChannelSlack], "", ""},
		{"unknown kind", "sms", nil, "kind", "slack"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ch nightjar.Channel
			p := patch(t, tc.kind, tc.settings)
			if tc.name == "headers on slack" {
				p.Config.Headers = &map[string]string{"X-A": "1"}
				tc.field, tc.msg = "config.headers", "only webhook"
			}
			err := ch.Apply(p)
			if nightjar.ErrorField(err) != tc.field || !strings.Contains(nightjar.ErrorMessage(err), tc.msg) {
				t.Errorf("Apply = %v, want %s: …%s…", err, tc.field, tc.msg)
			}
		})
	}
}

// A stored credential is never carried to a new destination: changing a
// server's address or region asks for the credentials again.
func TestChannelCredentialsStayWithTheirDestination(t *testing.T) {
	var ch nightjar.Channel
	if err := ch.Apply(patch(t, nightjar.ChannelMatrix, validSettings[nightjar.ChannelMatrix])); err != nil {
		t.Fatal(err)
	}
	moved := ch
	if err := moved.Apply(nightjar.ChannelPatch{Config: nightjar.ChannelConfigPatch{BaseURL: ptr("https://evil.example")}}); nightjar.ErrorField(err) != "config.token" {
		t.Fatalf("moving the homeserver alone = %v, want config.token asked again", err)
	}
	moved = ch
	if err := moved.Apply(nightjar.ChannelPatch{Config: nightjar.ChannelConfigPatch{BaseURL: ptr("https://matrix2.example.org"), Token: ptr("syt_new")}}); err != nil || moved.Config.Token != "syt_new" {
		t.Fatalf("moving with a new token = %v", err)
	}
	same := ch
	if err := same.Apply(nightjar.ChannelPatch{Config: nightjar.ChannelConfigPatch{RoomID: ptr("!other:example.org")}}); err != nil || same.Config.Token != "syt_abc" {
		t.Fatalf("another room on the same server keeps the token: %v", err)
	}

	var og nightjar.Channel
	if err := og.Apply(patch(t, nightjar.ChannelOpsgenie, validSettings[nightjar.ChannelOpsgenie])); err != nil {
		t.Fatal(err)
	}
	if err := og.Apply(nightjar.ChannelPatch{Config: nightjar.ChannelConfigPatch{Region: ptr("us")}}); nightjar.ErrorField(err) != "config.api_key" {
		t.Fatalf("changing the region alone = %v, want config.api_key asked again", err)
	}
}

// Viewers see base URLs with their tokens masked, like webhook URLs.
func TestChannelRedactedMasksBaseURL(t *testing.T) {
	ch := nightjar.Channel{Kind: nightjar.ChannelGotify, Config: nightjar.ChannelConfig{BaseURL: "https://gotify.example.com/AbC123token", Token: "t"}}
	r := ch.Redacted()
	if r.Config.BaseURL != "https://gotify.example.com/…" || r.Config.Token != nightjar.SecretPlaceholder {
		t.Errorf("Redacted = %+v", r.Config)
	}
}

func TestSetTextPriority(t *testing.T) {
	var p nightjar.ChannelConfigPatch
	if err := p.SetText("priority", "high"); nightjar.ErrorField(err) != "config.priority" {
		t.Errorf("SetText(priority, high) = %v", err)
	}
	if err := p.SetText("nonsense", "1"); nightjar.ErrorField(err) != "config.nonsense" {
		t.Errorf("SetText(nonsense) = %v", err)
	}
	if err := p.SetText("priority", ""); err != nil || p.Priority == nil || *p.Priority != nil {
		t.Errorf("SetText(priority, \"\") = %v, want the priority removed", err)
	}
}

// FuzzChannelSettings feeds arbitrary settings of every kind through the
// one input path. Apply must never panic; a channel it accepts must
// validate again after a trip through JSON (as it is stored), and its
// listing must not show any secret setting's value.
func FuzzChannelSettings(f *testing.F) {
	for kind, settings := range validSettings {
		for name, v := range settings {
			f.Add(kind, name, v, "priority", "3")
		}
	}
	f.Add("telegram", "token", "1:a", "chat_id", "@channel_name")
	f.Add("ntfy", "url", "https://ntfy.sh/a/b/", "token", "\x00")
	f.Add("matrix", "room_id", "!", "base_url", "http://[::1]:80")
	f.Add("opsgenie", "region", "eu", "base_url", "https://x.example/%zz")
	f.Add("pushover", "priority", "99999999999999999999", "user_key", "<redacted>")
	f.Fuzz(func(t *testing.T, kind, n1, v1, n2, v2 string) {
		p := nightjar.ChannelPatch{Kind: &kind, Name: ptr("ops")}
		for name, v := range validSettings[kind] {
			_ = p.Config.SetText(name, v)
		}
		if p.Config.SetText(n1, v1) != nil || p.Config.SetText(n2, v2) != nil {
			return
		}
		var ch nightjar.Channel
		if ch.Apply(p) != nil {
			return
		}
		js, err := json.Marshal(ch)
		if err != nil {
			t.Fatal(err)
		}
		var back nightjar.Channel
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("a stored channel no longer validates: %v\n%s", err, js)
		}
		k, _ := nightjar.LookupChannelKind(kind)
		shown := ch.WithoutSecrets().Config
		for _, s := range k.Settings {
			if s.Secret && ch.Config.Text(s.Name) != "" && shown.Text(s.Name) != nightjar.SecretPlaceholder {
				t.Fatalf("listing shows secret %s=%q", s.Name, shown.Text(s.Name))
			}
		}
	})
}
