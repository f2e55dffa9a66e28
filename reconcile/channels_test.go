package reconcile

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/config"
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
		dry, err := Apply(ctx, db, cfg, getenv, now, true)
		if err != nil || len(dry) != 4 {
			t.Fatalf("dry run before the channels exist: %v %v", dry, err)
		}
		if _, err := Apply(ctx, db, cfg, getenv, now, false); err != nil {
			t.Fatal(err)
		}
		p, _ := db.ProjectByName(ctx, "Ops")
		chs, _ := db.Channels(ctx, p.ID)
		checks, _ := db.Checks(ctx, p.ID, store.CheckFilter{Slug: "backup"})
		c := checks[0]
		var mailID string
		for _, ch := range chs {
			if ch.Name == "mail" {
				mailID = ch.ID
			}
		}
		if len(c.Channels) != 1 || c.Channels[0] != mailID || !c.FilterBody || c.SuccessKeywords != "OK" || c.FailureKeywords != "ERROR" {
			t.Fatalf("check: %+v", c)
		}
		if changes, err := Apply(ctx, db, cfg, getenv, now, false); err != nil || len(changes) != 0 {
			t.Fatalf("second apply: %v %v", changes, err)
		}
		cfg.Projects[0].Checks[0].Channels = nil
		changes, err := Apply(ctx, db, cfg, getenv, now, false)
		if err != nil || len(changes) != 1 || !strings.Contains(changes[0].String(), "channels") {
			t.Fatalf("back to all channels: %v %v", changes, err)
		}
		cfg.Projects[0].Checks[0].Channels = []string{"pager"}
		if _, err := Apply(ctx, db, cfg, getenv, now, false); err == nil || !strings.Contains(err.Error(), `no channel named "pager"`) {
			t.Fatalf("unknown channel: %v", err)
		}
	})
}
