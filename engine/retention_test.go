package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/accounts"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/password"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// prunerFunc is an area whose Prune is a function.
type prunerFunc func(ctx context.Context, now time.Time) (int64, error)

func (f prunerFunc) Prune(ctx context.Context, now time.Time) (int64, error) { return f(ctx, now) }

// The retention module prunes the outbox's finished messages (waiting ones
// stay) and asks each area to prune its own records; an area that fails
// does not stop the others.
func TestRetentionPrunesEveryArea(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p, _ := setup(t, db, "", "", 0)
		ids := enqueueAt(t, db, t0, firingTo(p, outbox.Destination{Kind: outbox.ToContact, ID: "person-1"}),
			firingTo(p, outbox.Destination{Kind: outbox.ToContact, ID: "person-2"}))
		ob := outbox.New(db)
		items, err := ob.Claim(ctx, t0, outbox.Claim{Limit: 1, Lease: time.Minute, PerDestination: 1, PerProject: 1})
		if err != nil || len(items) != 1 {
			t.Fatalf("claim: %v %v", items, err)
		}
		if err := ob.Finish(ctx, items[0], t0, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
		sent, waiting := items[0].ID, ids[0]
		if waiting == sent {
			waiting = ids[1]
		}
		as := accounts.New(db, password.New(password.TestCost, 0))
		u, err := as.CreateUser(ctx, "old@example.com", "a long passphrase", p.ID, nightjar.RoleViewer, t0)
		if err != nil {
			t.Fatal(err)
		}
		expired, _, _ := as.CreateSession(ctx, u.ID, p.ID, t0, time.Hour)
		live, _, _ := as.CreateSession(ctx, u.ID, p.ID, t0, 90*24*time.Hour)

		broken := errors.New("the other area's database is gone")
		var asked []string
		failing := prunerFunc(func(context.Context, time.Time) (int64, error) {
			asked = append(asked, "failing")
			return 0, broken
		})
		r := &engine.Retention{Outbox: ob, Areas: []engine.Pruner{failing, as}}
		now := t0.Add(31 * 24 * time.Hour)
		if err := r.Step(ctx, now); !errors.Is(err, broken) {
			t.Fatalf("step: %v, want the failing area's error", err)
		}
		if len(asked) != 1 {
			t.Fatalf("the failing area was asked %d times", len(asked))
		}
		if _, err := ob.Entry(ctx, p.ID, sent); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("sent message kept: %v", err)
		}
		if _, err := ob.Entry(ctx, p.ID, waiting); err != nil {
			t.Fatalf("waiting message pruned: %v", err)
		}
		if _, err := as.SessionByToken(ctx, expired, t0); nightjar.ErrorCode(err) != nightjar.EUNAUTHORIZED {
			t.Fatalf("expired session kept: %v", err)
		}
		if _, err := as.SessionByToken(ctx, live, now); err != nil {
			t.Fatalf("live session pruned: %v", err)
		}
	})
}
