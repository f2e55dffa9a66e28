package reconcile_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// A file declares chat and paging channels by their settings' names, with
// secrets from the environment; applying it again changes nothing, and
// taking a setting out of the file removes it.
func TestApplyServiceChannels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.env["PD_KEY"] = "Routing-Key-From-Env"
		f.env["TG_TOKEN"] = "123456:Bot-Token_from_env"
		y := `
projects:
  - name: Delta
    channels:
      - name: oncall
        kind: pagerduty
        routing_key_env: PD_KEY
      - name: chat
        kind: telegram
        token_env: TG_TOKEN
        chat_id: "-100123"
      - name: phones
        kind: ntfy
        url: https://ntfy.sh/delta
        priority: 4
`
		got := f.apply(t, y, false)
		sameLines(t, "first apply", got, []string{"+ project Delta", "+ channel Delta/oncall: pagerduty", "+ channel Delta/chat: telegram", "+ channel Delta/phones: ntfy"})
		if strings.Contains(strings.Join(got, "\n"), "from-env") || strings.Contains(strings.Join(got, "\n"), "From-Env") {
			t.Error("the diff shows a secret")
		}
		sameLines(t, "second apply", f.apply(t, y, false), nil)

		chs, err := channels.New(db).List(context.Background(), project(t, db, "Delta").ID)
		if err != nil || len(chs) != 3 {
			t.Fatalf("channels %v %v", chs, err)
		}
		byName := map[string]int{}
		for i, ch := range chs {
			byName[ch.Name] = i
		}
		if ch := chs[byName["oncall"]]; ch.Config.RoutingKey != "Routing-Key-From-Env" {
			t.Errorf("oncall: %+v", ch.Config)
		}
		if ch := chs[byName["phones"]]; ch.Config.Priority == nil || *ch.Config.Priority != 4 {
			t.Errorf("phones: %+v", ch.Config)
		}

		without := strings.Replace(y, "        priority: 4\n", "", 1)
		sameLines(t, "priority taken out", f.apply(t, without, false), []string{"~ channel Delta/phones: settings changed"})
		sameLines(t, "again", f.apply(t, without, false), nil)

		// A secret written in the file is refused, naming the channel.
		inline := strings.Replace(y, "routing_key_env: PD_KEY", "routing_key: Routing-Key-Inline", 1)
		if err := f.applyErr(t, inline, false); !strings.Contains(err.Error(), "channel Delta/oncall") || !strings.Contains(err.Error(), "routing_key_env") {
			t.Errorf("inline secret: %v", err)
		}
	})
}
