package nightjar_test

import (
	"testing"

	"github.com/nightjar-dev/nightjar"
)

const (
	owner  = nightjar.RoleOwner
	admin  = nightjar.RoleAdmin
	member = nightjar.RoleMember
	viewer = nightjar.RoleViewer
)

// wantRoleRule checks one decision: allowed, or refused with code and a
// message that says why.
func wantRoleRule(t *testing.T, name string, err error, code, msg string) {
	t.Helper()
	if got := nightjar.ErrorCode(err); got != code {
		t.Errorf("%s: code %q (%v), want %q", name, got, err, code)
	} else if code != "" && nightjar.ErrorMessage(err) != msg {
		t.Errorf("%s: message %q, want %q", name, nightjar.ErrorMessage(err), msg)
	}
}

const (
	msgBadRole     = "role: must be owner, admin, member or viewer"
	msgMakeOwners  = "role: only an owner can make owners"
	msgUnmake      = "role: only an owner can make or unmake owners"
	msgRemoveOwner = "only an owner can remove an owner"
	msgNeedsOwner  = "a project needs an owner; make someone else owner first"
)

func TestCheckGrant(t *testing.T) {
	for _, tc := range []struct {
		actor, role nightjar.Role
		code, msg   string
	}{
		{owner, owner, "", ""},
		{owner, admin, "", ""},
		{owner, viewer, "", ""},
		{admin, admin, "", ""},
		{admin, member, "", ""},
		{admin, viewer, "", ""},
		{admin, owner, nightjar.EINVALID, msgMakeOwners},
		{member, owner, nightjar.EINVALID, msgMakeOwners},
		{owner, "god", nightjar.EINVALID, msgBadRole},
		{admin, "", nightjar.EINVALID, msgBadRole},
	} {
		wantRoleRule(t, string(tc.actor)+" grants "+string(tc.role), nightjar.CheckGrant(tc.actor, tc.role), tc.code, tc.msg)
	}
}

func TestCheckRoleChange(t *testing.T) {
	for _, tc := range []struct {
		actor, from, to nightjar.Role
		otherOwners     int
		code, msg       string
	}{
		// Owners make and unmake owners while another owner is left.
		{owner, admin, owner, 1, "", ""},
		{owner, viewer, owner, 0, "", ""}, // making an owner never leaves the project without one
		{owner, owner, admin, 1, "", ""},
		{owner, owner, viewer, 2, "", ""},
		{owner, owner, owner, 0, "", ""}, // no change keeps the owner
		// The last owner cannot be demoted, not even by themselves.
		{owner, owner, admin, 0, nightjar.ECONFLICT, msgNeedsOwner},
		{owner, owner, viewer, 0, nightjar.ECONFLICT, msgNeedsOwner},
		// Admins manage everyone but owners.
		{admin, viewer, admin, 1, "", ""},
		{admin, admin, member, 1, "", ""},
		{admin, member, owner, 1, nightjar.EINVALID, msgUnmake},
		{admin, owner, admin, 1, nightjar.EINVALID, msgUnmake},
		{admin, owner, admin, 0, nightjar.EINVALID, msgUnmake},
		{member, owner, viewer, 3, nightjar.EINVALID, msgUnmake},
		// A role that does not exist is refused first.
		{owner, member, "god", 1, nightjar.EINVALID, msgBadRole},
		{admin, owner, "", 1, nightjar.EINVALID, msgBadRole},
	} {
		name := string(tc.actor) + " changes " + string(tc.from) + " to " + string(tc.to)
		wantRoleRule(t, name, nightjar.CheckRoleChange(tc.actor, tc.from, tc.to, tc.otherOwners), tc.code, tc.msg)
	}
}

func TestCheckRemoval(t *testing.T) {
	for _, tc := range []struct {
		actor, member nightjar.Role
		otherOwners   int
		code, msg     string
	}{
		{owner, owner, 1, "", ""},
		{owner, admin, 0, "", ""},
		{admin, admin, 1, "", ""},
		{admin, viewer, 0, "", ""},
		{owner, owner, 0, nightjar.ECONFLICT, msgNeedsOwner},
		{admin, owner, 1, nightjar.EINVALID, msgRemoveOwner},
		{admin, owner, 0, nightjar.EINVALID, msgRemoveOwner},
		{member, owner, 2, nightjar.EINVALID, msgRemoveOwner},
	} {
		name := string(tc.actor) + " removes " + string(tc.member)
		wantRoleRule(t, name, nightjar.CheckRemoval(tc.actor, tc.member, tc.otherOwners), tc.code, tc.msg)
	}
}
