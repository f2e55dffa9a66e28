package console

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// Two incidents that page one person at once go to their contact method
// as one message; each incident's timeline says its page went in it.
func TestTimelineShowsBundledDelivery(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		in := e.areas.Incidents
		member := e.userID("member@a.test")
		m := &incident.ContactMethod{UserID: member, Kind: incident.ContactWebhook, Value: "https://hooks.example.com/member"}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(in.CreateContactMethod(ctx, m, t0))
		must(in.SendVerificationCode(ctx, e.a.ID, member, m.ID, t0))
		items, err := e.areas.Outbox.ByProject(ctx, e.a.ID, 10)
		must(err)
		code := regexp.MustCompile(regexp.QuoteMeta(incidents.VerificationPrefix) + `([^\s.]+)`).FindStringSubmatch(items[0].Alert.Summary)
		if code == nil {
			t.Fatalf("no code in %+v", items)
		}
		must(in.Verify(ctx, member, m.ID, code[1], t0))

		pol := &incident.Policy{Name: "Wake", Steps: []incident.Step{{Delay: time.Hour, Targets: []incident.Target{{Kind: incident.TargetUser, ID: member}}}}}
		must(in.Policies().Create(ctx, e.a.ID, pol, t0))
		team := &incident.Team{Name: "SRE", Members: []string{member}, Policy: pol.ID}
		must(in.Teams().Create(ctx, e.a.ID, team, t0))
		stage := alerting.New(db, incidents.AlertRoute{Store: in})
		for _, name := range []string{"api", "db"} {
			must(in.Services().Create(ctx, e.a.ID, &incident.Service{Name: name, Team: team.ID, Config: incident.DefaultServiceConfig()}, t0))
			a := &nightjar.Alert{ProjectID: e.a.ID, DedupKey: name, Source: "test", Service: name, Severity: nightjar.SeverityPage,
				Summary: name + " is down", Status: nightjar.AlertFiring, StartsAt: t0}
			must(db.WithTx(ctx, func(tx *store.Tx) error { return stage.Handle(ctx, tx, alerting.Change{Alert: a, At: t0}) }))
		}
		claimed, err := e.areas.Outbox.Claim(ctx, t0, outbox.Claim{Limit: 10, Lease: time.Minute, PerDestination: 2, PerProject: 10,
			Bundle: outbox.Bundling{Kinds: []string{outbox.ToContact}, Events: []string{notify.EventIncidentPage}, Window: time.Second, Max: 10}})
		must(err)
		bundles := 0
		for _, it := range claimed {
			if len(it.Bundled) == 1 {
				bundles++
			}
			must(e.areas.Outbox.Finish(ctx, it, t0, nil, time.Time{}))
		}
		if bundles != 1 {
			t.Fatalf("claimed %d bundles of the two pages, want 1", bundles)
		}
		owner := e.login("owner@a.test")
		for _, path := range []string{"/incidents/1", "/incidents/2"} {
			if _, body := owner.get(path); !strings.Contains(body, "one of 2 in one message") {
				t.Fatalf("%s's timeline does not say its page was bundled:\n%s", path, body)
			}
		}
	})
}
