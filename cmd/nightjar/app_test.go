package main

import (
	"context"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// serve's retention module prunes the areas' records too: an expired
// session goes, a live one stays.
func TestRetentionPrunesAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := newApp(db, nil, 0)
		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		p := storetest.NewProject(t, db, "P", t0)
		u, err := a.accounts.CreateUser(ctx, "old@example.com", "a long passphrase", p.ID, nightjar.RoleViewer, t0)
		if err != nil {
			t.Fatal(err)
		}
		expired, _, _ := a.accounts.CreateSession(ctx, u.ID, p.ID, t0, time.Hour)
		live, _, _ := a.accounts.CreateSession(ctx, u.ID, p.ID, t0, 90*24*time.Hour)
		now := t0.Add(31 * 24 * time.Hour)
		if err := a.retention().Step(ctx, now); err != nil {
			t.Fatal(err)
		}
		// Asked as of before it expired, a session still stored would answer.
		if _, err := a.accounts.SessionByToken(ctx, expired, t0); nightjar.ErrorCode(err) != nightjar.EUNAUTHORIZED {
			t.Fatalf("expired session kept: %v", err)
		}
		if _, err := a.accounts.SessionByToken(ctx, live, now); err != nil {
			t.Fatalf("live session pruned: %v", err)
		}
	})
}
