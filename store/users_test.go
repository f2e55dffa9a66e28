package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

func TestUsersAndMemberships(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := newProject(t, db, "A"), newProject(t, db, "B")
		alice, err := db.CreateUser(ctx, " Alice@Example.com ", "correct horse battery", a.ID, store.RoleOwner, t0)
		if err != nil || alice.Email != "alice@example.com" {
			t.Fatalf("create: %+v %v", alice, err)
		}
		_, err = db.CreateUser(ctx, "alice@example.com", "another password", "", "", t0)
		wantCode(t, err, nightjar.ECONFLICT)
		_, err = db.CreateUser(ctx, "not-an-email", "long enough password", "", "", t0)
		wantCode(t, err, nightjar.EINVALID)
		_, err = db.CreateUser(ctx, "short@example.com", "short", "", "", t0)
		wantCode(t, err, nightjar.EINVALID)
		bob, err := db.CreateUser(ctx, "bob@example.com", "bob's long password", a.ID, store.RoleViewer, t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AddMember(ctx, b.ID, bob.ID, store.RoleAdmin, t0); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.AddMember(ctx, b.ID, bob.ID, store.RoleAdmin, t0), nightjar.ECONFLICT)

		if u, err := db.Authenticate(ctx, "ALICE@example.com", "correct horse battery"); err != nil || u.ID != alice.ID {
			t.Fatalf("login: %v", err)
		}
		_, err = db.Authenticate(ctx, "alice@example.com", "wrong password!")
		wantCode(t, err, nightjar.EUNAUTHORIZED)
		_, err = db.Authenticate(ctx, "nobody@example.com", "whatever password")
		wantCode(t, err, nightjar.EUNAUTHORIZED)

		ms, _ := db.Memberships(ctx, bob.ID)
		if len(ms) != 2 || ms[0].ProjectName != "A" || ms[0].Role != store.RoleViewer || ms[1].Role != store.RoleAdmin {
			t.Fatalf("memberships: %+v", ms)
		}
		if _, err := db.Membership(ctx, b.ID, alice.ID); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("alice in B: %v", err)
		}
		// The last owner cannot leave or be demoted.
		wantCode(t, db.RemoveMember(ctx, a.ID, alice.ID), nightjar.ECONFLICT)
		wantCode(t, db.SetRole(ctx, a.ID, alice.ID, store.RoleAdmin), nightjar.ECONFLICT)
		if err := db.SetRole(ctx, a.ID, bob.ID, store.RoleOwner); err != nil {
			t.Fatal(err)
		}
		if err := db.SetRole(ctx, a.ID, alice.ID, store.RoleMember); err != nil {
			t.Fatalf("demote with another owner: %v", err)
		}
		wantCode(t, db.SetRole(ctx, a.ID, bob.ID, "god"), nightjar.EINVALID)
		if err := db.RemoveMember(ctx, a.ID, alice.ID); err != nil {
			t.Fatal(err)
		}
		members, _ := db.Members(ctx, a.ID)
		if len(members) != 1 || members[0].Email != "bob@example.com" {
			t.Fatalf("members: %+v", members)
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := newProject(t, db, "P")
		u, err := db.CreateUser(ctx, "carol@example.com", "carol's passphrase", p.ID, store.RoleMember, t0)
		if err != nil {
			t.Fatal(err)
		}
		token, s, err := db.CreateSession(ctx, u.ID, p.ID, t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if s.ID == token || len(token) < 40 || len(s.CSRFToken) < 20 {
			t.Fatalf("token %q id %q csrf %q", token, s.ID, s.CSRFToken)
		}
		got, err := db.SessionByToken(ctx, token, t0.Add(30*time.Minute))
		if err != nil || got.UserID != u.ID || got.CSRFToken != s.CSRFToken || got.ProjectID != p.ID {
			t.Fatalf("session: %+v %v", got, err)
		}
		_, err = db.SessionByToken(ctx, token, t0.Add(time.Hour))
		wantCode(t, err, nightjar.EUNAUTHORIZED)
		if err := db.ExtendSession(ctx, got, t0.Add(30*time.Minute), time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SessionByToken(ctx, token, t0.Add(80*time.Minute)); err != nil {
			t.Fatalf("extended session: %v", err)
		}
		_, err = db.SessionByToken(ctx, token+"x", t0)
		wantCode(t, err, nightjar.EUNAUTHORIZED)

		// A password change ends the other sessions, not the current one.
		other, _, _ := db.CreateSession(ctx, u.ID, p.ID, t0, time.Hour)
		if err := db.SetPassword(ctx, u.ID, "carol's new passphrase", token); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SessionByToken(ctx, other, t0.Add(time.Minute)); nightjar.ErrorCode(err) != nightjar.EUNAUTHORIZED {
			t.Fatalf("other session survived the password change: %v", err)
		}
		if _, err := db.SessionByToken(ctx, token, t0.Add(time.Minute)); err != nil {
			t.Fatalf("current session ended: %v", err)
		}
		if _, err := db.Authenticate(ctx, u.Email, "carol's new passphrase"); err != nil {
			t.Fatalf("new password: %v", err)
		}
		if err := db.DeleteSession(ctx, token); err != nil {
			t.Fatal(err)
		}
		_, err = db.SessionByToken(ctx, token, t0)
		wantCode(t, err, nightjar.EUNAUTHORIZED)

		if err := db.Audit(ctx, nightjar.AuditEntry{ProjectID: p.ID, Actor: u.Email, Action: "check.create", Target: "backup", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		log, err := db.AuditLog(ctx, p.ID, 10)
		if err != nil || len(log) != 1 || log[0].Action != "check.create" || !log[0].CreatedAt.Equal(t0) {
			t.Fatalf("audit: %+v %v", log, err)
		}
	})
}

func TestPrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := newProject(t, db, "P")
		u, _ := db.CreateUser(ctx, "old@example.com", "a long passphrase", p.ID, store.RoleViewer, t0)
		_, _, _ = db.CreateSession(ctx, u.ID, p.ID, t0, time.Hour) // expires
		live, _, _ := db.CreateSession(ctx, u.ID, p.ID, t0, 90*24*time.Hour)
		now := t0.Add(31 * 24 * time.Hour)
		// The outbox prunes its own messages (outbox's TestPrune).
		n, err := db.Prune(ctx, now)
		if err != nil || n != 1 {
			t.Fatalf("pruned %d rows, %v; want the expired session", n, err)
		}
		if _, err := db.SessionByToken(ctx, live, now); err != nil {
			t.Fatal("live session pruned")
		}
	})
}
