package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

func TestPrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := newProject(t, db, "P")
		ch := &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelWebhook, Name: "h", Config: nightjar.ChannelConfig{URL: "https://x.example"}}
		if err := db.CreateChannel(ctx, ch, t0); err != nil {
			t.Fatal(err)
		}
		sent, _ := db.EnqueueTest(ctx, ch, t0)
		items, err := db.ClaimOutbox(ctx, t0, store.OutboxClaim{Limit: 1, Lease: time.Minute, PerChannel: 1, PerProject: 1})
		if err != nil || len(items) != 1 || items[0].ID != sent {
			t.Fatalf("claim: %v %v", items, err)
		}
		if err := db.FinishOutbox(ctx, items[0], t0, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
		pending, _ := db.EnqueueTest(ctx, ch, t0)
		now := t0.Add(31 * 24 * time.Hour)
		n, err := db.Prune(ctx, now, store.Retention{Notifications: 30 * 24 * time.Hour})
		if err != nil || n != 1 {
			t.Fatalf("pruned %d rows, %v; want the sent notification", n, err)
		}
		if _, err := db.OutboxEntry(ctx, p.ID, sent); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatal("sent notification kept")
		}
		if _, err := db.OutboxEntry(ctx, p.ID, pending); err != nil {
			t.Fatal("pending notification pruned")
		}
	})
}
