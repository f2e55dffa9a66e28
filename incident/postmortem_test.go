package incident_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/goldentest"
	"github.com/nightjar-dev/nightjar/incident"
)

// TestPostmortem renders the drafts of incidents played through real
// timelines and compares them with the golden files under testdata/.
func TestPostmortem(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("resolved", func(t *testing.T) {
		w := newWorld(t)
		w.run([]step{
			{at: 0, do: fire("check:c1", func(a *nightjar.Alert) {
				a.Summary = `Check "db backup" is down`
				a.StartsAt = base.Add(-2 * m)
			}), sent: []string{"#1 page step 1: alice"}},
			{at: 2 * m, do: fire("am:3f2a", func(a *nightjar.Alert) { a.Summary = "Replication lag above 30s" })},
			{at: 5 * m, do: nothing, sent: []string{"#1 page step 2: bob"}},
			{at: 6 * m, do: ack(1, "bob"), sent: []string{"#1 acknowledged: alice"}},
			{at: 7 * m, do: both(
				func(w *world, now time.Time) error {
					w.apply(incident.SetCommander(w.incident(1), "carol", "bob", now), now)
					return nil
				}), sent: nil},
			{at: 30 * m, do: resolves("am:3f2a")},
			{at: 42 * m, do: resolves("check:c1"), sent: []string{"#1 resolved: alice, bob"}},
		})
		inc := w.incident(1)
		changes := []*nightjar.Change{{Summary: "deploy v1.4.2 | canary", Source: "github-actions", At: base.Add(-20 * m)},
			{Summary: "flag checkout-v2 on", At: base.Add(-3 * h)}}
		got := incident.Postmortem(inc, w.timelines[inc], changes, berlin, base.Add(24*h))
		goldentest.Compare(t, filepath.Join("testdata", "postmortem_resolved.md"), got)
	})
	t.Run("open, with text that is not Markdown", func(t *testing.T) {
		w := newWorld(t)
		w.run([]step{
			{at: 0, do: fire("am:x|y", func(a *nightjar.Alert) {
				a.Summary = "Disk | full <script>alert(1)</script>\n*now* [link](javascript:x) #1 `rm` & ~~gone~~ _x_ \\"
			}), sent: []string{"#1 page step 1: alice"}},
			{at: 5 * m, do: nothing, sent: []string{"#1 page step 2: bob"}},
			{at: 20 * m, do: ack(1, "alice"), sent: []string{"#1 acknowledged: bob"}},
		})
		inc := w.incident(1)
		got := incident.Postmortem(inc, w.timelines[inc], nil, time.UTC, base.Add(90*m+30*s))
		goldentest.Compare(t, filepath.Join("testdata", "postmortem_open.md"), got)
		for _, bad := range []string{"<script>", "Disk | full", "\n*now*", "[link](", "`rm`"} {
			if strings.Contains(got, bad) {
				t.Errorf("draft holds %q unescaped", bad)
			}
		}
	})
}
