package reconcile

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/checks/checkstest"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

func TestCheckChannelsAndKeywords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		cfg := &config.Config{Projects: []config.ProjectConfig{{
			Name: "Ops",
			Channels: []config.ChannelConfig{
				{Name: "hook", Kind: "webhook", URL: "https://hooks.example/a"},
				{Name: "mail", Kind: "email", To: []string{"ops@example.com"}},
			},
			Checks: []config.CheckConfig{{Slug: "backup", Channels: []string{"mail"}, FilterBody: true, SuccessKw: "OK", FailureKw: "ERROR"}},
		}}}
		getenv := func(string) string { return "" }
		dry, err := Apply(ctx, db, Areas{Projects: projects.New(db), Checks: checkstest.New(db)}, cfg, getenv, now, true)
		if err != nil || len(dry) != 4 {
			t.Fatalf("dry run before the channels exist: %v %v", dry, err)
		}
		if _, err := Apply(ctx, db, Areas{Projects: projects.New(db), Checks: checkstest.New(db)}, cfg, getenv, now, false); err != nil {
			t.Fatal(err)
		}
		p, _ := projects.New(db).ByName(ctx, "Ops")
		chs, _ := channels.New(db).List(ctx, p.ID)
		found, _ := checkstest.New(db).List(ctx, p.ID, checks.Filter{Slug: "backup"})
		c := found[0]
		var mailID string
		for _, ch := range chs {
			if ch.Name == "mail" {
				mailID = ch.ID
			}
		}
		if len(c.Channels) != 1 || c.Channels[0] != mailID || !c.FilterBody || c.SuccessKeywords != "OK" || c.FailureKeywords != "ERROR" {
			t.Fatalf("check: %+v", c)
		}
		if changes, err := Apply(ctx, db, Areas{Projects: projects.New(db), Checks: checkstest.New(db)}, cfg, getenv, now, false); err != nil || len(changes) != 0 {
			t.Fatalf("second apply: %v %v", changes, err)
		}
		cfg.Projects[0].Checks[0].Channels = nil
		changes, err := Apply(ctx, db, Areas{Projects: projects.New(db), Checks: checkstest.New(db)}, cfg, getenv, now, false)
		if err != nil || len(changes) != 1 || !strings.Contains(changes[0].String(), "channels") {
			t.Fatalf("back to all channels: %v %v", changes, err)
		}
		cfg.Projects[0].Checks[0].Channels = []string{"pager"}
		if _, err := Apply(ctx, db, Areas{Projects: projects.New(db), Checks: checkstest.New(db)}, cfg, getenv, now, false); nightjar.ErrorField(err) != "channels" || !strings.Contains(err.Error(), `no channel with id or name "pager"`) {
			t.Fatalf("unknown channel: %v", err)
		}
	})
}

// apply refuses the channel settings the API and the console refuse, with
// the same rule, before writing anything.
func TestApplyRefusesBadChannelSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		for _, tc := range []struct {
			ch   config.ChannelConfig
			want string
		}{
			{config.ChannelConfig{Name: "hook", Kind: "webhook", URL: "https://hooks.example/a", Headers: map[string]string{"X-Nightjar-Signature": "v1=00"}}, "X-Nightjar-Signature cannot be set"},
			{config.ChannelConfig{Name: "hook", Kind: "webhook", URL: "https://hooks.example/a", Headers: map[string]string{"Transfer-Encoding": "chunked"}}, "hop-by-hop"},
			{config.ChannelConfig{Name: "hook", Kind: "webhook", URL: "https://hooks.example/a", Headers: map[string]string{"X-Token": "a\nb"}}, "line breaks"},
			{config.ChannelConfig{Name: "hook", Kind: "webhook", URL: "https://hooks.example/a", Headers: map[string]string{"X Token": "1"}}, "not a valid header name"},
			{config.ChannelConfig{Name: "hook", Kind: "webhook", URL: "https://user:pass@hooks.example/a"}, "user name or password"},
		} {
			cfg := &config.Config{Projects: []config.ProjectConfig{{Name: "Ops", Channels: []config.ChannelConfig{tc.ch}}}}
			_, err := Apply(ctx, db, Areas{Projects: projects.New(db), Checks: checkstest.New(db)}, cfg, func(string) string { return "" }, now, false)
			if err == nil || !strings.Contains(err.Error(), "channel Ops/hook") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%+v: %v, want an error about channel Ops/hook mentioning %q", tc.ch, err, tc.want)
			}
		}
		if ps, _ := projects.New(db).List(ctx); len(ps) != 0 {
			t.Fatalf("a refused apply wrote projects: %+v", ps)
		}
	})
}
