package reconcile

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/accounts"
	"github.com/nightjar-dev/nightjar/checks/checkstest"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/password"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

const incidentYAML = `
projects:
  - name: Ops
    channels:
      - {name: chat, kind: webhook, url: "https://hooks.example/chat"}
    schedules:
      - name: primary
        time_zone: Europe/Berlin
        layers:
          - shift: weekly
            start: "2026-01-05T09:00"
            participants: [alice@example.com, bob@example.com]
    escalation_policies:
      - name: default
        repeat: 1
        steps:
          - delay: 5m
            targets: [{kind: schedule, id: primary}, {kind: channel, id: chat}]
          - delay: 600
            targets: [{kind: user, id: bob@example.com}]
    teams:
      - {name: platform, members: [alice@example.com], policy: default}
    services:
      - name: checkout
        team: platform
        tier: "1"
        labels: {env: prod}
        group_window: 2m
    routes:
      - matchers: ['service="checkout"', 'severity=~"critical|page"']
        policy: default
        urgency: page
    silences:
      - id: deploy-2026-03-01
        matchers: ['service="checkout"']
        starts_at: 2026-03-01T12:00:00Z
        ends_at: 2026-03-01T14:00:00Z
        created_by: alice
        comment: deploying
    maintenance_windows:
      - name: sunday db
        matchers: ['service="db"']
        window: {schedule: "0 2 * * 0", zone: Europe/Berlin, duration: 2h}
`

// A file declaring incident response objects applies in one go, by name
// and email address, idempotently, and a change shows as a diff.
func TestApplyIncidentObjects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		p := storetest.NewProject(t, db, "Ops", now)
		as := accounts.New(db, password.New(password.TestCost, 0))
		for _, email := range []string{"alice@example.com", "bob@example.com"} {
			if _, err := as.CreateUser(ctx, email, "correct horse battery", p.ID, nightjar.RoleMember, now); err != nil {
				t.Fatal(err)
			}
		}
		cfg := *config.Default()
		if err := config.Parse([]byte(incidentYAML), &cfg); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		areas := Areas{Projects: projects.New(db), Checks: checkstest.New(db)}
		getenv := func(string) string { return "" }
		dry, err := Apply(ctx, db, areas, &cfg, getenv, now, true)
		if err != nil || len(dry) != 8 {
			t.Fatalf("dry run: %v %v", dry, err)
		}
		changes, err := Apply(ctx, db, areas, &cfg, getenv, now, false)
		if err != nil || len(changes) != 8 {
			t.Fatalf("apply: %v %v", changes, err)
		}
		s := incidents.New(db)
		svc, err := s.ServiceByName(ctx, p.ID, "checkout")
		if err != nil || svc.Config.GroupWindow != 2*time.Minute || svc.Labels["env"] != "prod" || !svc.Config.AutoResolve {
			t.Fatalf("service %+v %v", svc, err)
		}
		team, err := s.Teams().Get(ctx, p.ID, svc.Team)
		if err != nil || team.Name != "platform" || len(team.Members) != 1 {
			t.Fatalf("team %+v %v", team, err)
		}
		pol, err := s.Policies().Get(ctx, p.ID, team.Policy)
		if err != nil || pol.Steps[0].Delay != 5*time.Minute || pol.Steps[1].Delay != 10*time.Minute || len(pol.Steps[0].Targets) != 2 {
			t.Fatalf("policy %+v %v", pol, err)
		}
		routes, err := s.Routes(ctx, p.ID)
		if err != nil || len(routes) != 1 || routes[0].Policy != pol.ID {
			t.Fatalf("routes %+v %v", routes, err)
		}
		if again, err := Apply(ctx, db, areas, &cfg, getenv, now, false); err != nil || len(again) != 0 {
			t.Fatalf("second apply changed %v %v", again, err)
		}

		// A change is a diff line naming the field.
		cfg.Projects[0].Teams[0].Members = append(cfg.Projects[0].Teams[0].Members, "bob@example.com")
		changes, err = Apply(ctx, db, areas, &cfg, getenv, now, false)
		if err != nil || len(changes) != 1 || changes[0].Op != "~" || !strings.Contains(changes[0].String(), "members") {
			t.Fatalf("member added: %v %v", changes, err)
		}

		// A bad declaration names the object and the field, and writes
		// nothing of the file.
		cfg.Projects[0].Services = append(cfg.Projects[0].Services, cfg.Projects[0].Services[0])
		cfg.Projects[0].Services[1].Name = "search"
		cfg.Projects[0].Services[1].RunbookURL = "ftp://wiki"
		_, err = Apply(ctx, db, areas, &cfg, getenv, now, false)
		if nightjar.ErrorField(err) != "runbook_url" || !strings.Contains(err.Error(), "service Ops/search") {
			t.Fatalf("bad service: %v", err)
		}
		if _, err := s.ServiceByName(ctx, p.ID, "search"); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("a failed apply wrote the service: %v", err)
		}
	})
}
