package config_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/config"
	"go.yaml.in/yaml/v3"
)

// A declaration states its check whole: what it leaves out is the default,
// also over an existing check that had something else.
func TestCheckConfigPatch(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	channels := []*nightjar.Channel{{ID: "ch-mail", Name: "mail"}}
	zero := config.Duration(0)
	for _, tc := range []struct {
		name string
		cc   config.CheckConfig
		want func(c *nightjar.Check)
	}{
		{"only a slug", config.CheckConfig{Slug: "sitemap"}, func(c *nightjar.Check) { c.Name, c.Slug = "sitemap", "sitemap" }},
		{"a schedule", config.CheckConfig{Slug: "n", Name: "Nightly", Schedule: "30 2 * * *", TZ: "Europe/Berlin", EarlyTolerance: &zero},
			func(c *nightjar.Check) {
				c.Name, c.Slug, c.Kind, c.Schedule, c.TZ, c.EarlyTolerance = "Nightly", "n", nightjar.KindCron, "30 2 * * *", "Europe/Berlin", 0
			}},
		{"every setting", config.CheckConfig{Slug: "w", Tags: []string{"a"}, Desc: "d", Service: "s", Timeout: config.Duration(90 * time.Minute),
			Grace: config.Duration(2 * time.Minute), MaxRuntime: config.Duration(time.Hour), MinRuntime: config.Duration(time.Minute), FailureThreshold: 3,
			RealertInterval: config.Duration(6 * time.Hour), Methods: "POST", ManualResume: true, MetricRules: []string{"bytes > 0"},
			Channels: []string{"mail"}, FilterBody: true, FilterHTTPBody: true, FilterDefaultFail: true, StartKw: "go", SuccessKw: "ok", FailureKw: "err"},
			func(c *nightjar.Check) {
				c.Name, c.Slug, c.Tags, c.Desc, c.Service, c.Timeout, c.Grace = "w", "w", []string{"a"}, "d", "s", 90*time.Minute, 2*time.Minute
				c.MaxRuntime, c.MinRuntime, c.FailureThreshold, c.RealertInterval = time.Hour, time.Minute, 3, 6*time.Hour
				c.Methods, c.ManualResume, c.MetricRules, c.Channels = "POST", true, []string{"bytes > 0"}, []string{"ch-mail"}
				c.FilterBody, c.FilterHTTPBody, c.FilterDefaultFail = true, true, true
				c.StartKeywords, c.SuccessKeywords, c.FailureKeywords = "go", "ok", "err"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.cc.Patch()
			got, err := p.NewCheck("p", channels, now)
			if err != nil {
				t.Fatal(err)
			}
			want := nightjar.NewCheck("p", "")
			tc.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("new check:\n got %+v\nwant %+v", got, want)
			}
			// Over a check that was set otherwise, the declaration puts
			// back what it does not state.
			other := &config.CheckConfig{Slug: "other", Schedule: "0 * * * *", TZ: "Asia/Tokyo", Grace: config.Duration(time.Hour * 5),
				FailureThreshold: 7, Tags: []string{"x"}, Channels: []string{"mail"}, Methods: "POST"}
			op := other.Patch()
			existing, err := op.NewCheck("p", channels, now)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Apply(existing, channels, now); err != nil || !reflect.DeepEqual(existing, want) {
				t.Errorf("over an existing check:\n got %+v (%v)\nwant %+v", existing, err, want)
			}
		})
	}
}

func TestChannelAndKeyConfigPatch(t *testing.T) {
	ch := &nightjar.Channel{ProjectID: "p"}
	env := map[string]string{"HOOK_SECRET": "s3cret"}
	getenv := func(k string) string { return env[k] }
	patch := func(cc config.ChannelConfig) nightjar.ChannelPatch {
		t.Helper()
		p, err := cc.Patch(getenv)
		if err != nil {
			t.Fatalf("Patch: %v", err)
		}
		return p
	}
	cc := config.ChannelConfig{Name: "hook", Kind: "webhook", URL: "https://h.example/x", SecretEnv: "HOOK_SECRET", Headers: map[string]string{"X-Team": "ops"}}
	if err := ch.Apply(patch(cc)); err != nil || !reflect.DeepEqual(*ch, nightjar.Channel{ProjectID: "p", Kind: "webhook", Name: "hook",
		Config: nightjar.ChannelConfig{URL: "https://h.example/x", Secret: "s3cret", Headers: map[string]string{"X-Team": "ops"}}}) {
		t.Fatalf("channel: %+v %v", ch, err)
	}
	// A new URL without a secret is the file's whole statement: the
	// secret and headers go.
	cc = config.ChannelConfig{Name: "hook", Kind: "webhook", URL: "https://other.example/x"}
	if err := ch.Apply(patch(cc)); err != nil || ch.Config.Secret != "" || ch.Config.Headers != nil {
		t.Fatalf("restated channel: %+v %v", ch, err)
	}
	k := &nightjar.APIKey{}
	if err := (config.APIKeyConfig{Name: "ci", Scope: "read-only"}).Patch().Apply(k); err != nil || k.Name != "ci" || k.Scope != nightjar.ScopeReadOnly {
		t.Fatalf("key: %+v %v", k, err)
	}
	if err := (config.APIKeyConfig{Name: "ci", Scope: "admin"}).Patch().Apply(k); nightjar.ErrorField(err) != "scope" {
		t.Fatalf("bad scope: %v", err)
	}
}

// Every kind's settings come through the file by their API names, secrets
// through the environment variable NAME_env names; a setting left out of
// the file is cleared, and a secret written in the file is refused.
func TestChannelConfigKinds(t *testing.T) {
	env := map[string]string{"TG_TOKEN": "123456:Token_xyz", "PD_KEY": "R0UTING"}
	getenv := func(k string) string { return env[k] }
	var y struct {
		Channels []config.ChannelConfig `yaml:"channels"`
	}
	src := `
channels:
  - name: tg
    kind: telegram
    token_env: TG_TOKEN
    chat_id: "-100123"
  - name: pd
    kind: pagerduty
    routing_key_env: PD_KEY
  - name: phone
    kind: ntfy
    url: https://ntfy.sh/alerts
    priority: 5
`
	if err := yaml.Unmarshal([]byte(src), &y); err != nil {
		t.Fatal(err)
	}
	want := []nightjar.ChannelConfig{
		{Token: "123456:Token_xyz", ChatID: "-100123"},
		{RoutingKey: "R0UTING"},
		{URL: "https://ntfy.sh/alerts", Priority: ptr(5)},
	}
	for i, cc := range y.Channels {
		p, err := cc.Patch(getenv)
		if err != nil {
			t.Fatalf("%s: %v", cc.Name, err)
		}
		var ch nightjar.Channel
		if err := ch.Apply(p); err != nil || !reflect.DeepEqual(ch.Config, want[i]) {
			t.Errorf("%s: %+v (%v), want %+v", cc.Name, ch.Config, err, want[i])
		}
		// Restated without its optional settings, the channel loses them.
		if cc.Name == "phone" {
			delete(cc.Settings, "priority")
			p, _ := cc.Patch(getenv)
			if err := ch.Apply(p); err != nil || ch.Config.Priority != nil {
				t.Errorf("priority left out: %+v %v", ch.Config, err)
			}
		}
	}
	for _, tc := range []struct {
		settings map[string]string
		want     string
	}{
		{map[string]string{"token": "123456:inline", "chat_id": "1"}, "token_env"},
		{map[string]string{"token_env": "UNSET", "chat_id": "1"}, "UNSET (token_env) is empty"},
		{map[string]string{"chat": "1"}, "chat is not a setting of telegram"},
		{map[string]string{"room_id": "!a:b"}, "room_id is not a setting of telegram"},
	} {
		_, err := config.ChannelConfig{Name: "tg", Kind: "telegram", Settings: tc.settings}.Patch(getenv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: Patch = %v, want …%s…", tc.settings, err, tc.want)
		}
	}
}
func ptr[T any](v T) *T { return &v }
