package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/checks/checkstest"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// newHook makes a webhook channel in p.
func newHook(t *testing.T, db *store.DB, p *nightjar.Project, name string) *nightjar.Channel {
	t.Helper()
	ch := &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelWebhook, Name: name, Config: nightjar.ChannelConfig{URL: "https://" + name + ".example/hook"}}
	if err := db.CreateChannel(context.Background(), ch, t0); err != nil {
		t.Fatal(err)
	}
	return ch
}

// downChecks makes n checks in p that go down at t0+61m, each queueing one
// alert for every channel of p.
func downChecks(t *testing.T, db *store.DB, p *nightjar.Project, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		c := newCheck(t, db, p, fmt.Sprintf("job-%d", i), func(c *nightjar.Check) { c.Timeout, c.Grace = time.Hour, time.Minute })
		ping(t, db, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: t0})
	}
	for _, at := range []time.Duration{time.Hour, 61 * time.Minute} {
		if _, err := checkstest.New(db).ProcessDue(ctx, t0.Add(at), 1000); err != nil {
			t.Fatal(err)
		}
	}
}

func byChannel(items []*store.OutboxItem) map[string]int {
	n := map[string]int{}
	for _, it := range items {
		n[it.Channel.Name]++
	}
	return n
}

// A channel's backlog does not hold back another channel's notification,
// nor one project's channels another project's: each channel and project
// has at most its share of the attempts in flight, counted over every
// sender sharing the database.
func TestClaimOutboxIsFair(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		busy := newProject(t, db, "Busy")
		newHook(t, db, busy, "slow")
		downChecks(t, db, busy, 60) // 60 alerts for the slow channel, all due at once
		other := newHook(t, db, busy, "other")
		quiet := newProject(t, db, "Quiet")
		newHook(t, db, quiet, "healthy")
		downChecks(t, db, quiet, 1)
		// Busy's second channel gets one notification, newer than the rest.
		if _, err := db.EnqueueTest(ctx, other, t0.Add(61*time.Minute+30*time.Second)); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(62 * time.Minute)
		limits := store.OutboxClaim{Limit: 10, Lease: 2 * time.Minute, PerChannel: 2, PerProject: 3}
		first, err := db.ClaimOutbox(ctx, now, limits)
		if err != nil {
			t.Fatal(err)
		}
		got := byChannel(first)
		if got["slow"] != 2 || got["healthy"] != 1 || got["slow"]+got["other"] != 3 || len(first) != 4 {
			t.Fatalf("first claim took %v, want 2 of slow, 1 of other and the healthy one", got)
		}
		// Another sender on the same database: busy is at its share, and
		// the healthy channel has nothing more; nothing to take.
		if again, err := db.ClaimOutbox(ctx, now.Add(time.Second), limits); err != nil || len(again) != 0 {
			t.Fatalf("second claim while the first's leases hold: %v %v", byChannel(again), err)
		}
		// One slow attempt ends: its channel gets one more turn, no more.
		for _, it := range first {
			if it.Channel.Name == "slow" {
				if err := db.FinishOutbox(ctx, it, now.Add(30*time.Second), fmt.Errorf("timed out"), now.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
		next, err := db.ClaimOutbox(ctx, now.Add(31*time.Second), limits)
		if err != nil || len(next) != 1 || next[0].Channel.Name != "slow" {
			t.Fatalf("after one attempt ended: %v %v", byChannel(next), err)
		}
	})
}

// A test button cannot fill the outbox: a channel has one test waiting at a
// time, and a project queues at most store.TestsPerMinute a minute.
func TestEnqueueTestIsLimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := newProject(t, db, "P")
		ch := newHook(t, db, p, "hook")
		id, err := db.EnqueueTest(ctx, ch, t0)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := db.EnqueueTest(ctx, ch, t0.Add(time.Second)); err != nil || again != id {
			t.Fatalf("second test while one waits: %s %v, want %s", again, err, id)
		}
		if n, _ := db.OutboxDepth(ctx); n != 1 {
			t.Fatalf("outbox depth %d, want 1", n)
		}
		// A test waiting for its retry is made due again at once.
		items, err := db.ClaimOutbox(ctx, t0.Add(time.Second), store.OutboxClaim{Limit: 1, Lease: time.Minute, PerChannel: 1, PerProject: 1})
		if err != nil || len(items) != 1 {
			t.Fatalf("claim: %v %v", items, err)
		}
		if err := db.FinishOutbox(ctx, items[0], t0.Add(2*time.Second), fmt.Errorf("503"), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if again, err := db.EnqueueTest(ctx, ch, t0.Add(3*time.Second)); err != nil || again != id {
			t.Fatalf("test again while the first waits to retry: %s %v", again, err)
		}
		if it, _ := db.OutboxEntry(ctx, p.ID, id); !it.NextAttemptAt.Equal(t0.Add(3 * time.Second)) {
			t.Fatalf("test not made due again: next attempt %s", it.NextAttemptAt)
		}
		// Each channel's test counts against the project's limit.
		sent := 1
		for i := 0; sent < store.TestsPerMinute; i++ {
			if _, err := db.EnqueueTest(ctx, newHook(t, db, p, fmt.Sprintf("h%d", i)), t0.Add(10*time.Second)); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		extra := newHook(t, db, p, "extra")
		if _, err := db.EnqueueTest(ctx, extra, t0.Add(20*time.Second)); nightjar.ErrorCode(err) != nightjar.ERATELIMIT {
			t.Fatalf("test over the limit: %v", err)
		}
		if _, err := db.EnqueueTest(ctx, extra, t0.Add(61*time.Second)); err != nil {
			t.Fatalf("test a minute later: %v", err)
		}
	})
}
