package checks_test

import (
	"context"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// The hot paths run prepared statements only: recording pings of every
// form, with a flip, an alert and its notifications, and the deadline scan
// that takes a check late and down. A statement added to these paths
// without being declared with store.Hot makes this fail.
func TestHotPathsUsePreparedStatements(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	svc := checksOf(db)
	ctx := context.Background()
	p := newProject(t, db, "Alpha")
	if err := channels.New(db).Create(ctx, &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelWebhook, Name: "hook",
		Config: nightjar.ChannelConfig{URL: "https://hooks.example/"}}, t0); err != nil {
		t.Fatal(err)
	}
	c := newCheck(t, svc, p, "job", nil)
	cron := newCheck(t, svc, p, "cron", func(c *nightjar.Check) { c.Kind, c.Schedule, c.TZ = nightjar.KindCron, "0 3 * * *", "Europe/Berlin" })
	exit := 2
	before := db.UnpreparedStatements()
	at := t0.Add(time.Minute)
	for _, req := range []*checks.PingRequest{
		{CheckID: c.ID, Kind: nightjar.PingStart, RID: "r1"},
		{CheckID: c.ID, Kind: nightjar.PingSuccess, RID: "r1"},
		{CheckID: c.ID, Kind: nightjar.PingSuccess, RID: "r0"}, // looks up its run's start
		{CheckID: c.ID, Kind: nightjar.PingFail},               // down: flip, alert, notification
		{CheckID: c.ID, Kind: nightjar.PingSuccess, Body: []byte("ok")},
		{CheckID: cron.ID, Kind: nightjar.PingSuccess, ExitStatus: &exit},
		{PingKey: p.PingKey, Slug: "job", Kind: nightjar.PingLog},
	} {
		req.At, req.Method = at, "POST"
		if res := svc.RecordPings(ctx, []*checks.PingRequest{req}, 0)[0]; res.Err != nil {
			t.Fatalf("ping %+v: %v", req, res.Err)
		}
		at = at.Add(time.Second)
	}
	for _, d := range []time.Duration{2 * time.Hour, 3 * time.Hour, 48 * time.Hour} {
		if _, err := svc.ProcessDue(ctx, t0.Add(d), 500); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := svc.Get(ctx, p.ID, c.ID); err != nil || got.State.Status != nightjar.StatusDown {
		t.Fatalf("the deadline scan did not take the check down: %+v %v", got, err)
	}
	if n := db.UnpreparedStatements() - before; n != 0 {
		t.Fatalf("the hot paths ran %d statements that were not prepared; declare them with store.Hot", n)
	}
}

// Every hot statement of the checks area, the alert stage and the outbox
// prepares on every dialect: a typo in one fails here rather than at a
// replica's start.
func TestHotStatementsPrepare(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if err := db.PrepareHotStatements(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}
