package accounts_test

import (
	"context"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/accounts"
	"github.com/nightjar-dev/nightjar/password"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	owner  = nightjar.RoleOwner
	admin  = nightjar.RoleAdmin
	member = nightjar.RoleMember
	viewer = nightjar.RoleViewer
)

// newAccounts is db's accounts, hashing passwords at the cheap test cost.
func newAccounts(db *store.DB) *accounts.Store {
	return accounts.New(db, password.New(password.TestCost, 0))
}

var wantCode = storetest.WantCode

func TestUsersAndMemberships(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		as := newAccounts(db)
		a, b := storetest.NewProject(t, db, "A", t0), storetest.NewProject(t, db, "B", t0)
		alice, err := as.CreateUser(ctx, " Alice@Example.com ", "correct horse battery", a.ID, owner, t0)
		if err != nil || alice.Email != "alice@example.com" {
			t.Fatalf("create: %+v %v", alice, err)
		}
		_, err = as.CreateUser(ctx, "alice@example.com", "another password", "", "", t0)
		wantCode(t, err, nightjar.ECONFLICT)
		_, err = as.CreateUser(ctx, "not-an-email", "long enough password", "", "", t0)
		wantCode(t, err, nightjar.EINVALID)
		_, err = as.CreateUser(ctx, "short@example.com", "short", "", "", t0)
		wantCode(t, err, nightjar.EINVALID)
		_, err = as.CreateUser(ctx, "nobody@example.com", "long enough password", a.ID, "god", t0)
		wantCode(t, err, nightjar.EINVALID)
		bob, err := as.CreateUser(ctx, "bob@example.com", "bob's long password", a.ID, viewer, t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := as.AddMember(ctx, owner, b.ID, bob.ID, admin, t0); err != nil {
			t.Fatal(err)
		}
		wantCode(t, as.AddMember(ctx, owner, b.ID, bob.ID, admin, t0), nightjar.ECONFLICT)

		if u, err := as.Authenticate(ctx, "ALICE@example.com", "correct horse battery"); err != nil || u.ID != alice.ID {
			t.Fatalf("login: %v", err)
		}
		_, err = as.Authenticate(ctx, "alice@example.com", "wrong password!")
		wantCode(t, err, nightjar.EUNAUTHORIZED)
		_, err = as.Authenticate(ctx, "nobody@example.com", "whatever password")
		wantCode(t, err, nightjar.EUNAUTHORIZED)

		ms, _ := as.Memberships(ctx, bob.ID)
		if len(ms) != 2 || ms[0].ProjectName != "A" || ms[0].Role != viewer || ms[1].Role != admin {
			t.Fatalf("memberships: %+v", ms)
		}
		if _, err := as.Membership(ctx, b.ID, alice.ID); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("alice in B: %v", err)
		}
		// The last owner cannot leave or be demoted.
		_, err = as.RemoveMember(ctx, owner, a.ID, alice.ID)
		wantCode(t, err, nightjar.ECONFLICT)
		_, err = as.SetRole(ctx, owner, a.ID, alice.ID, admin)
		wantCode(t, err, nightjar.ECONFLICT)
		if before, err := as.SetRole(ctx, owner, a.ID, bob.ID, owner); err != nil || before.Role != viewer || before.Email != "bob@example.com" {
			t.Fatalf("make bob owner: %+v %v", before, err)
		}
		if _, err := as.SetRole(ctx, owner, a.ID, alice.ID, member); err != nil {
			t.Fatalf("demote with another owner: %v", err)
		}
		_, err = as.SetRole(ctx, owner, a.ID, bob.ID, "god")
		wantCode(t, err, nightjar.EINVALID)
		_, err = as.SetRole(ctx, owner, b.ID, alice.ID, viewer) // not a member of B
		wantCode(t, err, nightjar.ENOTFOUND)
		if removed, err := as.RemoveMember(ctx, owner, a.ID, alice.ID); err != nil || removed.Role != member {
			t.Fatalf("remove alice: %+v %v", removed, err)
		}
		_, err = as.RemoveMember(ctx, owner, a.ID, alice.ID)
		wantCode(t, err, nightjar.ENOTFOUND)
		members, _ := as.Members(ctx, a.ID)
		if len(members) != 1 || members[0].Email != "bob@example.com" {
			t.Fatalf("members: %+v", members)
		}
	})
}

// Only an owner makes, unmakes or removes owners: the accounts store asks
// the domain's rules with the actor's role, whoever calls it.
func TestOwnerRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		as := newAccounts(db)
		p := storetest.NewProject(t, db, "P", t0)
		user := func(email string, role nightjar.Role) *nightjar.User {
			t.Helper()
			u, err := as.CreateUser(ctx, email, "a long enough passphrase", p.ID, role, t0)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		// Two owners, so only the owner rule, not the last-owner one, can
		// refuse an admin's change to an owner.
		olga, otto := user("olga@example.com", owner), user("otto@example.com", owner)
		ann, vic := user("ann@example.com", admin), user("vic@example.com", viewer)
		outsider, err := as.CreateUser(ctx, "out@example.com", "a long enough passphrase", "", "", t0)
		if err != nil {
			t.Fatal(err)
		}

		_, err = as.SetRole(ctx, admin, p.ID, vic.ID, owner)
		wantCode(t, err, nightjar.EINVALID)
		_, err = as.SetRole(ctx, admin, p.ID, olga.ID, admin)
		wantCode(t, err, nightjar.EINVALID)
		_, err = as.RemoveMember(ctx, admin, p.ID, olga.ID)
		wantCode(t, err, nightjar.EINVALID)
		wantCode(t, as.AddMember(ctx, admin, p.ID, outsider.ID, owner, t0), nightjar.EINVALID)
		_, err = as.CreateInvitation(ctx, admin, p.ID, "new@example.com", owner, "ann@example.com", t0, time.Hour)
		wantCode(t, err, nightjar.EINVALID)
		for _, u := range []*nightjar.User{olga, otto} {
			if m, err := as.Membership(ctx, p.ID, u.ID); err != nil || m.Role != owner {
				t.Fatalf("%s after the refusals: %+v %v", u.Email, m, err)
			}
		}
		if m, _ := as.Membership(ctx, p.ID, vic.ID); m.Role != viewer {
			t.Fatalf("vic after the refusals: %+v", m)
		}
		if _, err := as.Membership(ctx, p.ID, outsider.ID); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("outsider joined: %v", err)
		}
		if open, _ := as.Invitations(ctx, p.ID, t0); len(open) != 0 {
			t.Fatalf("invitations after the refusal: %+v", open)
		}

		// Admins manage everyone else.
		if _, err := as.SetRole(ctx, admin, p.ID, vic.ID, member); err != nil {
			t.Fatal(err)
		}
		if err := as.AddMember(ctx, admin, p.ID, outsider.ID, viewer, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := as.RemoveMember(ctx, admin, p.ID, outsider.ID); err != nil {
			t.Fatal(err)
		}
		// Owners make and remove owners while one is left.
		if _, err := as.SetRole(ctx, owner, p.ID, ann.ID, owner); err != nil {
			t.Fatal(err)
		}
		if _, err := as.RemoveMember(ctx, owner, p.ID, otto.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := as.RemoveMember(ctx, owner, p.ID, olga.ID); err != nil {
			t.Fatal(err)
		}
		// Ann is the last owner now.
		_, err = as.SetRole(ctx, owner, p.ID, ann.ID, viewer)
		wantCode(t, err, nightjar.ECONFLICT)
		_, err = as.RemoveMember(ctx, owner, p.ID, ann.ID)
		wantCode(t, err, nightjar.ECONFLICT)
	})
}

func TestSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		as := newAccounts(db)
		p, q := storetest.NewProject(t, db, "P", t0), storetest.NewProject(t, db, "Q", t0)
		u, err := as.CreateUser(ctx, "carol@example.com", "carol's passphrase", p.ID, member, t0)
		if err != nil {
			t.Fatal(err)
		}
		token, s, err := as.CreateSession(ctx, u.ID, p.ID, t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if s.ID == token || len(token) < 40 || len(s.CSRFToken) < 20 {
			t.Fatalf("token %q id %q csrf %q", token, s.ID, s.CSRFToken)
		}
		got, err := as.SessionByToken(ctx, token, t0.Add(30*time.Minute))
		if err != nil || got.UserID != u.ID || got.CSRFToken != s.CSRFToken || got.ProjectID != p.ID {
			t.Fatalf("session: %+v %v", got, err)
		}
		_, err = as.SessionByToken(ctx, token, t0.Add(time.Hour))
		wantCode(t, err, nightjar.EUNAUTHORIZED)
		if err := as.ExtendSession(ctx, got, t0.Add(30*time.Minute), time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := as.SessionByToken(ctx, token, t0.Add(80*time.Minute)); err != nil {
			t.Fatalf("extended session: %v", err)
		}
		_, err = as.SessionByToken(ctx, token+"x", t0)
		wantCode(t, err, nightjar.EUNAUTHORIZED)
		if err := as.SetSessionProject(ctx, got, q.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := as.SessionByToken(ctx, token, t0.Add(time.Minute)); err != nil || got.ProjectID != q.ID {
			t.Fatalf("switched session: %+v %v", got, err)
		}

		// A password change ends the other sessions, not the current one.
		other, _, _ := as.CreateSession(ctx, u.ID, p.ID, t0, time.Hour)
		if err := as.SetPassword(ctx, u.ID, "carol's new passphrase", token); err != nil {
			t.Fatal(err)
		}
		if _, err := as.SessionByToken(ctx, other, t0.Add(time.Minute)); nightjar.ErrorCode(err) != nightjar.EUNAUTHORIZED {
			t.Fatalf("other session survived the password change: %v", err)
		}
		if _, err := as.SessionByToken(ctx, token, t0.Add(time.Minute)); err != nil {
			t.Fatalf("current session ended: %v", err)
		}
		if _, err := as.Authenticate(ctx, u.Email, "carol's new passphrase"); err != nil {
			t.Fatalf("new password: %v", err)
		}
		wantCode(t, as.SetPassword(ctx, u.ID, "short", ""), nightjar.EINVALID)
		wantCode(t, as.SetPassword(ctx, "nobody", "a long enough passphrase", ""), nightjar.ENOTFOUND)
		if err := as.DeleteSession(ctx, token); err != nil {
			t.Fatal(err)
		}
		_, err = as.SessionByToken(ctx, token, t0)
		wantCode(t, err, nightjar.EUNAUTHORIZED)
	})
}

func TestInvitations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		as := newAccounts(db)
		p, q := storetest.NewProject(t, db, "P", t0), storetest.NewProject(t, db, "Q", t0)
		if _, err := as.CreateUser(ctx, "olga@example.com", "olga's passphrase", p.ID, owner, t0); err != nil {
			t.Fatal(err)
		}
		token, err := as.CreateInvitation(ctx, owner, p.ID, " Dave@Example.com", member, "olga@example.com", t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		_, err = as.CreateInvitation(ctx, owner, p.ID, "not an email", member, "olga@example.com", t0, time.Hour)
		wantCode(t, err, nightjar.EINVALID)
		inv, err := as.Invitation(ctx, token, t0)
		if err != nil || inv.Email != "dave@example.com" || inv.Role != member || inv.ProjectID != p.ID || inv.ID == token {
			t.Fatalf("invitation: %+v %v", inv, err)
		}
		if open, err := as.Invitations(ctx, p.ID, t0); err != nil || len(open) != 1 || open[0].ID != inv.ID {
			t.Fatalf("open invitations: %+v %v", open, err)
		}
		_, err = as.Invitation(ctx, token, t0.Add(time.Hour))
		wantCode(t, err, nightjar.ENOTFOUND)
		// Another project's invitation cannot be withdrawn.
		wantCode(t, as.DeleteInvitation(ctx, q.ID, inv.ID), nightjar.ENOTFOUND)

		// A new user is made with the password; the link works once.
		_, err = as.AcceptInvitation(ctx, token, "short", t0)
		wantCode(t, err, nightjar.EINVALID)
		dave, err := as.AcceptInvitation(ctx, token, "dave's passphrase", t0)
		if err != nil || dave.Email != "dave@example.com" {
			t.Fatalf("accept: %+v %v", dave, err)
		}
		if m, err := as.Membership(ctx, p.ID, dave.ID); err != nil || m.Role != member {
			t.Fatalf("dave's membership: %+v %v", m, err)
		}
		_, err = as.AcceptInvitation(ctx, token, "dave's passphrase", t0)
		wantCode(t, err, nightjar.ENOTFOUND)

		// An existing user joins; one who is a member already uses it up.
		again, _ := as.CreateInvitation(ctx, owner, q.ID, "dave@example.com", viewer, "olga@example.com", t0, time.Hour)
		if u, err := as.AcceptInvitation(ctx, again, "ignored for existing users", t0); err != nil || u.ID != dave.ID {
			t.Fatalf("existing user accepts: %+v %v", u, err)
		}
		twice, _ := as.CreateInvitation(ctx, owner, q.ID, "dave@example.com", admin, "olga@example.com", t0, time.Hour)
		if _, err := as.AcceptInvitation(ctx, twice, "", t0); err != nil {
			t.Fatalf("member accepts again: %v", err)
		}
		if m, _ := as.Membership(ctx, q.ID, dave.ID); m.Role != viewer {
			t.Fatalf("a second invitation changed the role: %+v", m)
		}
		_, err = as.Invitation(ctx, twice, t0)
		wantCode(t, err, nightjar.ENOTFOUND)
		withdrawn, _ := as.CreateInvitation(ctx, owner, p.ID, "erin@example.com", viewer, "olga@example.com", t0, time.Hour)
		wi, _ := as.Invitation(ctx, withdrawn, t0)
		if err := as.DeleteInvitation(ctx, p.ID, wi.ID); err != nil {
			t.Fatal(err)
		}
		_, err = as.Invitation(ctx, withdrawn, t0)
		wantCode(t, err, nightjar.ENOTFOUND)
	})
}

// Prune deletes expired sessions and invitations that expired or were
// used, and nothing that still works.
func TestPrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		as := newAccounts(db)
		p := storetest.NewProject(t, db, "P", t0)
		u, _ := as.CreateUser(ctx, "old@example.com", "a long passphrase", p.ID, viewer, t0)
		_, _, _ = as.CreateSession(ctx, u.ID, p.ID, t0, time.Hour) // expires
		live, _, _ := as.CreateSession(ctx, u.ID, p.ID, t0, 90*24*time.Hour)
		_, _ = as.CreateInvitation(ctx, owner, p.ID, "late@example.com", viewer, "old@example.com", t0, time.Hour) // expires
		used, _ := as.CreateInvitation(ctx, owner, p.ID, "used@example.com", viewer, "old@example.com", t0, 90*24*time.Hour)
		if _, err := as.AcceptInvitation(ctx, used, "a long passphrase", t0); err != nil {
			t.Fatal(err)
		}
		open, _ := as.CreateInvitation(ctx, owner, p.ID, "open@example.com", viewer, "old@example.com", t0, 90*24*time.Hour)
		now := t0.Add(31 * 24 * time.Hour)
		n, err := as.Prune(ctx, now)
		if err != nil || n != 3 {
			t.Fatalf("pruned %d rows, %v; want the expired session and the expired and the used invitation", n, err)
		}
		if _, err := as.SessionByToken(ctx, live, now); err != nil {
			t.Fatal("live session pruned")
		}
		if _, err := as.Invitation(ctx, open, now); err != nil {
			t.Fatal("open invitation pruned")
		}
		if n, err := as.Prune(ctx, now); err != nil || n != 0 {
			t.Fatalf("second prune: %d rows, %v", n, err)
		}
	})
}

// No text that PostgreSQL cannot store reaches it: an email that is not
// valid text names no user and makes none, on both databases alike.
func TestRefusesBadText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		as := newAccounts(db)
		p := storetest.NewProject(t, db, "Alpha", t0)
		for _, bad := range []string{"a\x00b", "a\xffb", "\xc3\x28"} {
			_, err := as.UserByEmail(ctx, bad+"@x.test")
			wantCode(t, err, nightjar.ENOTFOUND)
			_, err = as.Authenticate(ctx, bad+"@x.test", "a long enough passphrase")
			wantCode(t, err, nightjar.EUNAUTHORIZED)
			_, err = as.CreateUser(ctx, bad+"@x.test", "a long enough passphrase", p.ID, member, t0)
			wantCode(t, err, nightjar.EINVALID)
			_, err = as.CreateInvitation(ctx, owner, p.ID, bad+"@x.test", member, "olga@example.com", t0, time.Hour)
			wantCode(t, err, nightjar.EINVALID)
			_, err = as.Membership(ctx, p.ID, bad)
			wantCode(t, err, nightjar.EINVALID)
		}
		if n, _ := as.CountUsers(ctx); n != 0 {
			t.Fatalf("%d users made from bad text", n)
		}
	})
}
