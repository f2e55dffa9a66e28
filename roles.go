package nightjar

import "time"

// Role is what a user may do in a project. Roles are ordered: each can do
// everything the ones below it can.
type Role string

// Roles, from most to least powerful.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

var roleRank = map[Role]int{RoleViewer: 1, RoleMember: 2, RoleAdmin: 3, RoleOwner: 4}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return roleRank[r] > 0 }

// Validate refuses a role that is not one of the four, naming the field.
func (r Role) Validate() error {
	if !r.Valid() {
		return FieldError("role", "must be owner, admin, member or viewer")
	}
	return nil
}

// AtLeast reports whether r includes the rights of min.
func (r Role) AtLeast(min Role) bool { return r.Valid() && roleRank[r] >= roleRank[min] }

// What each kind of action needs. Handlers ask for one of these, so the
// rules live in one place.
const (
	// NeedRead views checks, pings, channels and alerts.
	NeedRead = RoleViewer
	// NeedWrite changes checks and channels.
	NeedWrite = RoleMember
	// NeedManage changes members, API keys and settings, and reads the
	// audit log.
	NeedManage = RoleAdmin
)

// The rules for giving and taking roles. Owners hold a project: only an
// owner may make, unmake or remove owners, so an admin cannot take a
// project over or lock its owners out, and a project always keeps an
// owner, so nobody is left able to manage its members. They are pure
// decisions; the accounts store asks them inside the transaction that
// makes the change, with the roles as that transaction sees them.

// errNeedsOwner refuses a change that would leave a project without an
// owner.
func errNeedsOwner() error {
	return Errorf(ECONFLICT, "a project needs an owner; make someone else owner first")
}

// CheckGrant decides whether actor may give someone role in a project,
// as a new member or by invitation.
func CheckGrant(actor, role Role) error {
	if err := role.Validate(); err != nil {
		return err
	}
	if role == RoleOwner && actor != RoleOwner {
		return FieldError("role", "only an owner can make owners")
	}
	return nil
}

// CheckRoleChange decides whether actor may change a member's role from
// from to to; otherOwners is how many owners the project has besides that
// member.
func CheckRoleChange(actor, from, to Role, otherOwners int) error {
	if err := to.Validate(); err != nil {
		return err
	}
	if (to == RoleOwner || from == RoleOwner) && actor != RoleOwner {
		return FieldError("role", "only an owner can make or unmake owners")
	}
	if from == RoleOwner && to != RoleOwner && otherOwners == 0 {
		return errNeedsOwner()
	}
	return nil
}

// CheckRemoval decides whether actor may take a member whose role is
// member out of a project; otherOwners is how many owners the project has
// besides that member.
func CheckRemoval(actor, member Role, otherOwners int) error {
	if member != RoleOwner {
		return nil
	}
	if actor != RoleOwner {
		return Errorf(EINVALID, "only an owner can remove an owner")
	}
	if otherOwners == 0 {
		return errNeedsOwner()
	}
	return nil
}

// Membership is a user's role in one project.
type Membership struct {
	ProjectID   string `json:"project_id"`
	ProjectName string `json:"project_name"`
	UserID      string `json:"user_id"`
	Email       string `json:"email"`
	Role        Role   `json:"role"`
}

// AuditEntry records one change made through the console or the API.
type AuditEntry struct {
	ProjectID string    `json:"project_id"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	Detail    string    `json:"detail"`
	CreatedAt time.Time `json:"created_at"`
}
