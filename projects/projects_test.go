package projects_test

import (
	"context"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var wantCode = storetest.WantCode

func TestProjects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ps := projects.New(db)
		p := storetest.NewProject(t, db, "Alpha", t0)
		if p.PingKey == "" || p.ID == "" {
			t.Fatal("project got no id or ping key")
		}
		got, err := ps.Get(ctx, p.ID)
		if err != nil || got.Name != "Alpha" || got.PingKey != p.PingKey || !got.CreatedAt.Equal(t0) {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		_, err = ps.Get(ctx, "nope")
		wantCode(t, err, nightjar.ENOTFOUND)
		wantCode(t, ps.Create(ctx, &nightjar.Project{Name: ""}, t0), nightjar.EINVALID)
		wantCode(t, ps.Create(ctx, &nightjar.Project{ID: p.ID, Name: "Copy"}, t0), nightjar.ECONFLICT)

		beta := &nightjar.Project{Name: "Beta"}
		if err := ps.Create(ctx, beta, t0.Add(time.Minute)); err != nil { // listed after Alpha
			t.Fatal(err)
		}
		if got, err := ps.ByName(ctx, "Beta"); err != nil || got.ID != beta.ID {
			t.Fatalf("ByName = %+v, %v", got, err)
		}
		_, err = ps.ByName(ctx, "Gamma")
		wantCode(t, err, nightjar.ENOTFOUND)
		renamed := *beta
		renamed.Name = "Gamma"
		if err := ps.Rename(ctx, &renamed); err != nil {
			t.Fatal(err)
		}
		wantCode(t, ps.Rename(ctx, &nightjar.Project{ID: "nope", Name: "X"}), nightjar.ENOTFOUND)
		renamed.Name = " "
		wantCode(t, ps.Rename(ctx, &renamed), nightjar.EINVALID)
		all, err := ps.List(ctx)
		if err != nil || len(all) != 2 || all[0].Name != "Alpha" || all[1].Name != "Gamma" {
			t.Fatalf("List = %+v, %v", all, err)
		}

		// Inside a transaction, a project made is seen at once.
		err = db.WithTx(ctx, func(tx *store.Tx) error {
			d := &nightjar.Project{Name: "Delta"}
			if err := ps.CreateTx(ctx, tx, d, t0); err != nil {
				return err
			}
			got, err := ps.ByNameTx(ctx, tx, "Delta")
			if err == nil && got.ID != d.ID {
				t.Errorf("ByNameTx = %+v", got)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ps := projects.New(db)
		p := storetest.NewProject(t, db, "Alpha", t0)
		secret, err := ps.CreateKey(ctx, &nightjar.APIKey{ProjectID: p.ID, Name: "ci", Scope: nightjar.ScopeReadOnly}, "", t0)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ps.KeyBySecret(ctx, secret)
		if err != nil || k.Scope != nightjar.ScopeReadOnly || k.ProjectID != p.ID || k.Prefix != secret[:7] {
			t.Fatalf("KeyBySecret = %+v, %v", k, err)
		}
		if k.Hash == secret || k.Hash != store.HashSecret(secret) {
			t.Fatal("key is not stored hashed")
		}
		_, err = ps.KeyBySecret(ctx, secret+"x")
		wantCode(t, err, nightjar.ENOTFOUND)
		_, err = ps.CreateKey(ctx, &nightjar.APIKey{ProjectID: p.ID, Name: "short", Scope: nightjar.ScopeReadOnly}, "too-short", t0)
		wantCode(t, err, nightjar.EINVALID)
		_, err = ps.CreateKey(ctx, &nightjar.APIKey{ProjectID: p.ID, Name: "bad", Scope: "root"}, "", t0)
		wantCode(t, err, nightjar.EINVALID)

		// A key's use is written at most once a minute.
		if err := ps.TouchKey(ctx, k, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		used, _ := ps.KeyBySecret(ctx, secret)
		if !used.LastUsedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("last used %v", used.LastUsedAt)
		}
		if err := ps.TouchKey(ctx, used, t0.Add(time.Hour+30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if again, _ := ps.KeyBySecret(ctx, secret); !again.LastUsedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("touched again within a minute: %v", again.LastUsedAt)
		}

		// EnsureKey is idempotent, reports creation once and follows the
		// name and scope it is given.
		for i, want := range []bool{true, false} {
			created, err := ps.EnsureKey(ctx, p.ID, "boot", nightjar.ScopeReadWrite, "bootstrap-key-0123456789", t0)
			if err != nil || created != want {
				t.Fatalf("EnsureKey #%d = %v, %v; want %v", i, created, err, want)
			}
		}
		if created, err := ps.EnsureKey(ctx, p.ID, "boot2", nightjar.ScopeReadOnly, "bootstrap-key-0123456789", t0); err != nil || created {
			t.Fatalf("EnsureKey with a new name = %v, %v", created, err)
		}
		if boot, _ := ps.KeyBySecret(ctx, "bootstrap-key-0123456789"); boot.Name != "boot2" || boot.Scope != nightjar.ScopeReadOnly {
			t.Fatalf("ensured key: %+v", boot)
		}
		other := storetest.NewProject(t, db, "Beta", t0)
		_, err = ps.EnsureKey(ctx, other.ID, "boot", nightjar.ScopeReadWrite, "bootstrap-key-0123456789", t0)
		wantCode(t, err, nightjar.ECONFLICT)
		keys, err := ps.Keys(ctx, p.ID)
		if err != nil || len(keys) != 2 || (keys[0].ID != k.ID && keys[1].ID != k.ID) {
			t.Fatalf("Keys = %+v, %v", keys, err)
		}
		if keys, err := ps.Keys(ctx, other.ID); err != nil || keys == nil || len(keys) != 0 {
			t.Fatalf("another project's keys = %+v, %v", keys, err)
		}

		if err := ps.RevokeKey(ctx, other.ID, k.ID, t0); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("revoking another project's key: %v", err)
		}
		if err := ps.RevokeKey(ctx, p.ID, k.ID, t0); err != nil {
			t.Fatal(err)
		}
		_, err = ps.KeyBySecret(ctx, secret)
		wantCode(t, err, nightjar.ENOTFOUND)
		wantCode(t, ps.RevokeKey(ctx, p.ID, k.ID, t0), nightjar.ENOTFOUND)
		if keys, _ := ps.Keys(ctx, p.ID); len(keys) != 1 {
			t.Fatalf("revoked key listed: %+v", keys)
		}
	})
}

// No text that PostgreSQL cannot store reaches it: a lookup or change
// with a NUL byte or invalid UTF-8 is refused with EINVALID, on both
// databases alike.
func TestRefusesBadText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ps := projects.New(db)
		p := storetest.NewProject(t, db, "Alpha", t0)
		for _, bad := range []string{"a\x00b", "a\xffb", "\xc3\x28"} {
			_, err := ps.ByName(ctx, bad)
			wantCode(t, err, nightjar.EINVALID)
			_, err = ps.Get(ctx, bad)
			wantCode(t, err, nightjar.EINVALID)
			wantCode(t, ps.RevokeKey(ctx, p.ID, bad, t0), nightjar.EINVALID)
			_, err = ps.EnsureKey(ctx, p.ID, bad, nightjar.ScopeReadOnly, "a-key-of-enough-length", t0)
			wantCode(t, err, nightjar.EINVALID)
		}
	})
}
