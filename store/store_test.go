package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/checks/checkstest"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newProject(t *testing.T, db *store.DB, name string) *nightjar.Project {
	t.Helper()
	p := &nightjar.Project{Name: name}
	if err := db.CreateProject(context.Background(), p, t0); err != nil {
		t.Fatalf("create project: %v", err)
	}
	return p
}

func newCheck(t *testing.T, db *store.DB, p *nightjar.Project, slug string, mod func(c *nightjar.Check)) *nightjar.Check {
	t.Helper()
	return checkstest.Create(t, checkstest.New(db), p.ID, slug, t0, mod)
}

func ping(t *testing.T, db *store.DB, req *checks.PingRequest) checks.PingResult {
	t.Helper()
	return checkstest.Ping(t, checkstest.New(db), req)
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := nightjar.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func TestProjectsAndAPIKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := newProject(t, db, "Alpha")
		if p.PingKey == "" || p.ID == "" {
			t.Fatal("project got no id or ping key")
		}
		got, err := db.Project(ctx, p.ID)
		if err != nil || got.Name != "Alpha" || got.PingKey != p.PingKey || !got.CreatedAt.Equal(t0) {
			t.Fatalf("Project = %+v, %v", got, err)
		}
		_, err = db.Project(ctx, "nope")
		wantCode(t, err, nightjar.ENOTFOUND)
		wantCode(t, db.CreateProject(ctx, &nightjar.Project{Name: ""}, t0), nightjar.EINVALID)

		secret, err := db.CreateAPIKey(ctx, &nightjar.APIKey{ProjectID: p.ID, Name: "ci", Scope: nightjar.ScopeReadOnly}, "", t0)
		if err != nil {
			t.Fatal(err)
		}
		k, err := db.APIKeyBySecret(ctx, secret)
		if err != nil || k.Scope != nightjar.ScopeReadOnly || k.ProjectID != p.ID {
			t.Fatalf("APIKeyBySecret = %+v, %v", k, err)
		}
		if k.Hash == secret || k.Hash != store.HashAPIKey(secret) {
			t.Fatal("key is not stored hashed")
		}
		_, err = db.APIKeyBySecret(ctx, secret+"x")
		wantCode(t, err, nightjar.ENOTFOUND)

		// EnsureAPIKey is idempotent and reports creation once.
		for i, want := range []bool{true, false} {
			created, err := db.EnsureAPIKey(ctx, p.ID, "boot", nightjar.ScopeReadWrite, "bootstrap-key-0123456789", t0)
			if err != nil || created != want {
				t.Fatalf("EnsureAPIKey #%d = %v, %v; want %v", i, created, err, want)
			}
		}
		other := newProject(t, db, "Beta")
		_, err = db.EnsureAPIKey(ctx, other.ID, "boot", nightjar.ScopeReadWrite, "bootstrap-key-0123456789", t0)
		wantCode(t, err, nightjar.ECONFLICT)

		if err := db.RevokeAPIKey(ctx, other.ID, k.ID, t0); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("revoking another project's key: %v", err)
		}
		if err := db.RevokeAPIKey(ctx, p.ID, k.ID, t0); err != nil {
			t.Fatal(err)
		}
		_, err = db.APIKeyBySecret(ctx, secret)
		wantCode(t, err, nightjar.ENOTFOUND)
	})
}

// Two workers claiming at once never get the same notification.
func TestOutboxConcurrentClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const n = 40
		for i := 0; i < n; i++ {
			p := newProject(t, db, fmt.Sprintf("P%d", i))
			ch := &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelWebhook, Name: "hook", Config: nightjar.ChannelConfig{URL: "http://example.com/hook"}}
			if err := db.CreateChannel(ctx, ch, t0); err != nil {
				t.Fatal(err)
			}
			if _, err := db.EnqueueTest(ctx, ch, t0); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					items, err := db.ClaimOutbox(ctx, t0, store.OutboxClaim{Limit: 3, Lease: time.Hour, PerChannel: 1, PerProject: 1})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, it := range items {
						seen[it.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("notification %s claimed %d times", id, n)
			}
		}
		// Whatever the workers skipped while others held it is claimed now.
		rest, err := db.ClaimOutbox(ctx, t0, store.OutboxClaim{Limit: n, Lease: time.Hour, PerChannel: 1, PerProject: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range rest {
			if seen[it.ID] > 0 {
				t.Fatalf("notification %s claimed again while leased", it.ID)
			}
			seen[it.ID]++
		}
		if len(seen) != n {
			t.Fatalf("claimed %d distinct notifications, want %d", len(seen), n)
		}
	})
}
