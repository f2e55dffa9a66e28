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
