package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/password"
)

// Roles a user can have in a project (aliases of the domain's, for callers
// that only import the store).
const (
	RoleOwner  = nightjar.RoleOwner
	RoleAdmin  = nightjar.RoleAdmin
	RoleMember = nightjar.RoleMember
	RoleViewer = nightjar.RoleViewer
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

func normalizeEmail(email string) (string, error) {
	valid := nightjar.ValidText(email) // before ToLower, which would replace bad bytes
	email = strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndex(email, "@")
	if !valid || at < 1 || at == len(email)-1 || strings.ContainsAny(email, " \t\r\n<>") || len(email) > 254 {
		return "", nightjar.FieldError("email", "must be an email address such as alice@example.com")
	}
	return email, nil
}

func checkPassword(pw string) error {
	if len(pw) < MinPasswordLength {
		return nightjar.FieldError("password", "must be at least %d characters", MinPasswordLength)
	}
	if len(pw) > 1024 {
		return nightjar.FieldError("password", "must be at most 1024 characters")
	}
	return nil
}

// CreateUser stores a user with an argon2id hash of the password and, when
// projectID is set, makes them a member with role.
func (db *DB) CreateUser(ctx context.Context, email, pw, projectID string, role nightjar.Role, now time.Time) (*nightjar.User, error) {
	email, err := normalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(pw); err != nil {
		return nil, err
	}
	if projectID != "" && !role.Valid() {
		return nil, nightjar.FieldError("role", "must be owner, admin, member or viewer")
	}
	hash, err := db.passwords.Hash(ctx, pw)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	u := &nightjar.User{ID: NewID(), Email: email, PasswordHash: hash, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	err = db.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)`, u.ID, u.Email, u.PasswordHash, ms(u.CreatedAt))
		if IsUniqueViolation(err) {
			return nightjar.Errorf(nightjar.ECONFLICT, "a user with email %s exists", email)
		} else if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		if projectID == "" {
			return nil
		}
		return tx.addMember(ctx, projectID, u.ID, role, now)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (tx *Tx) addMember(ctx context.Context, projectID, userID string, role nightjar.Role, now time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO project_members (project_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)`, projectID, userID, string(role), ms(now))
	if IsUniqueViolation(err) {
		return nightjar.Errorf(nightjar.ECONFLICT, "the user is a member already")
	} else if err != nil {
		return fmt.Errorf("add member: %w", err)
	}
	return nil
}

const userColumns = `id, email, password_hash, created_at`

func scanUser(row rowScanner) (*nightjar.User, error) {
	var u nightjar.User
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &created); errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "user not found")
	} else if err != nil {
		return nil, fmt.Errorf("scan user: %w", err)
	}
	u.CreatedAt = tm(created)
	return &u, nil
}

// User returns a user by id.
func (db *DB) User(ctx context.Context, id string) (*nightjar.User, error) {
	return scanUser(db.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

// UserByEmail returns a user by email address. An address that is not
// valid text names no user: every stored one was checked.
func (db *DB) UserByEmail(ctx context.Context, email string) (*nightjar.User, error) {
	if !nightjar.ValidText(email) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "user not found")
	}
	return scanUser(db.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, strings.ToLower(strings.TrimSpace(email))))
}

// Users lists every user, by email.
func (db *DB) Users(ctx context.Context) ([]*nightjar.User, error) {
	return queryAll(ctx, db.r, "list users", `SELECT `+userColumns+` FROM users ORDER BY email`, scanUser)
}

// CountUsers returns how many users exist.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// Passwords returns the hasher the store checks passwords with, so callers
// can report its load.
func (db *DB) Passwords() *password.Hasher { return db.passwords }

// Authenticate checks an email and password. Every failure is the same
// EUNAUTHORIZED error, so it tells nobody which emails exist; a login that
// names no user costs as much as a wrong password. It returns
// password.ErrBusy when too many checks are waiting already.
func (db *DB) Authenticate(ctx context.Context, email, pw string) (*nightjar.User, error) {
	u, err := db.UserByEmail(ctx, email)
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		if err := db.passwords.VerifyNothing(ctx, pw); err != nil {
			return nil, fmt.Errorf("check password: %w", err)
		}
		return nil, nightjar.Errorf(nightjar.EUNAUTHORIZED, "wrong email or password")
	} else if err != nil {
		return nil, err
	}
	if err := db.passwords.Verify(ctx, u.PasswordHash, pw); errors.Is(err, password.ErrMismatch) {
		return nil, nightjar.Errorf(nightjar.EUNAUTHORIZED, "wrong email or password")
	} else if err != nil {
		return nil, fmt.Errorf("verify password of %s: %w", u.ID, err)
	}
	return u, nil
}

// SetPassword changes a user's password and ends their other sessions
// (keepSession, if set, stays).
func (db *DB) SetPassword(ctx context.Context, userID, pw, keepSession string) error {
	if err := checkPassword(pw); err != nil {
		return err
	}
	hash, err := db.passwords.Hash(ctx, pw)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	return db.WithTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if err := mustAffect(res, "user"); err != nil {
			return err
		}
		_, err = tx.exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, sessionID(keepSession))
		return err
	})
}

// Memberships lists the projects a user belongs to, by project name.
func (db *DB) Memberships(ctx context.Context, userID string) ([]*nightjar.Membership, error) {
	return queryAll(ctx, db.r, "list memberships", `SELECT m.project_id, p.name, m.user_id, u.email, m.role FROM project_members m
		JOIN projects p ON p.id = m.project_id JOIN users u ON u.id = m.user_id WHERE m.user_id = $1 ORDER BY p.name, p.id`, scanMembership, userID)
}

// Members lists a project's members, by email.
func (db *DB) Members(ctx context.Context, projectID string) ([]*nightjar.Membership, error) {
	return queryAll(ctx, db.r, "list members", `SELECT m.project_id, p.name, m.user_id, u.email, m.role FROM project_members m
		JOIN projects p ON p.id = m.project_id JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 ORDER BY u.email`, scanMembership, projectID)
}

// Membership returns a user's role in a project; ENOTFOUND when they are
// not a member, which callers answer as if the project did not exist.
func (db *DB) Membership(ctx context.Context, projectID, userID string) (*nightjar.Membership, error) {
	return scanMembership(db.r.QueryRowContext(ctx, `SELECT m.project_id, p.name, m.user_id, u.email, m.role FROM project_members m
		JOIN projects p ON p.id = m.project_id JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 AND m.user_id = $2`, projectID, userID))
}

func scanMembership(row rowScanner) (*nightjar.Membership, error) {
	var m nightjar.Membership
	var role string
	if err := row.Scan(&m.ProjectID, &m.ProjectName, &m.UserID, &m.Email, &role); errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "not found")
	} else if err != nil {
		return nil, fmt.Errorf("scan membership: %w", err)
	}
	m.Role = nightjar.Role(role)
	return &m, nil
}

// AddMember gives an existing user a role in a project.
func (db *DB) AddMember(ctx context.Context, projectID, userID string, role nightjar.Role, now time.Time) error {
	if !role.Valid() {
		return nightjar.FieldError("role", "must be owner, admin, member or viewer")
	}
	return db.WithTx(ctx, func(tx *Tx) error { return tx.addMember(ctx, projectID, userID, role, now) })
}

// SetRole changes a member's role. A project always keeps an owner.
func (db *DB) SetRole(ctx context.Context, projectID, userID string, role nightjar.Role) error {
	if !role.Valid() {
		return nightjar.FieldError("role", "must be owner, admin, member or viewer")
	}
	return db.WithTx(ctx, func(tx *Tx) error {
		if role != RoleOwner {
			if err := tx.keepAnOwner(ctx, projectID, userID); err != nil {
				return err
			}
		}
		res, err := tx.exec(ctx, `UPDATE project_members SET role = $3 WHERE project_id = $1 AND user_id = $2`, projectID, userID, string(role))
		if err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		return mustAffect(res, "member")
	})
}

// RemoveMember takes a user out of a project. A project always keeps an
// owner.
func (db *DB) RemoveMember(ctx context.Context, projectID, userID string) error {
	return db.WithTx(ctx, func(tx *Tx) error {
		if err := tx.keepAnOwner(ctx, projectID, userID); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `DELETE FROM project_members WHERE project_id = $1 AND user_id = $2`, projectID, userID)
		if err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		return mustAffect(res, "member")
	})
}

// keepAnOwner fails when userID is the project's last owner.
func (tx *Tx) keepAnOwner(ctx context.Context, projectID, userID string) error {
	var others int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM project_members WHERE project_id = $1 AND role = 'owner' AND user_id <> $2`, projectID, userID).Scan(&others)
	if err != nil {
		return fmt.Errorf("count owners: %w", err)
	}
	var role string
	err = tx.queryRow(ctx, `SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2`, projectID, userID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return nightjar.Errorf(nightjar.ENOTFOUND, "member not found")
	} else if err != nil {
		return err
	}
	if role == string(RoleOwner) && others == 0 {
		return nightjar.Errorf(nightjar.ECONFLICT, "a project needs an owner; make someone else owner first")
	}
	return nil
}

// Session is a logged-in browser.
type Session struct {
	ID        string // hash of the cookie token
	UserID    string
	CSRFToken string
	ProjectID string
	CreatedAt time.Time
	ExpiresAt time.Time
	LastSeen  time.Time
}

func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateSession starts a session and returns the cookie token, which is
// shown only this once; the database keeps its hash.
func (db *DB) CreateSession(ctx context.Context, userID, projectID string, now time.Time, ttl time.Duration) (string, *Session, error) {
	token := randomToken(32)
	s := &Session{ID: sessionID(token), UserID: userID, CSRFToken: randomToken(20), ProjectID: projectID,
		CreatedAt: now, ExpiresAt: now.Add(ttl), LastSeen: now}
	_, err := db.w.ExecContext(ctx, `INSERT INTO sessions (id, user_id, csrf_token, project_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		s.ID, s.UserID, s.CSRFToken, s.ProjectID, ms(now), ms(s.ExpiresAt), ms(now))
	if err != nil {
		return "", nil, fmt.Errorf("insert session: %w", err)
	}
	return token, s, nil
}

// SessionByToken returns the live session of a cookie token.
func (db *DB) SessionByToken(ctx context.Context, token string, now time.Time) (*Session, error) {
	var s Session
	var created, expires, seen int64
	err := db.r.QueryRowContext(ctx, `SELECT id, user_id, csrf_token, project_id, created_at, expires_at, last_seen_at FROM sessions WHERE id = $1`,
		sessionID(token)).Scan(&s.ID, &s.UserID, &s.CSRFToken, &s.ProjectID, &created, &expires, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.EUNAUTHORIZED, "not logged in")
	} else if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt, s.LastSeen = tm(created), tm(expires), tm(seen)
	if !now.Before(s.ExpiresAt) {
		return nil, nightjar.Errorf(nightjar.EUNAUTHORIZED, "session expired")
	}
	return &s, nil
}

// ExtendSession slides a session's expiry; it writes at most once a
// minute per session.
func (db *DB) ExtendSession(ctx context.Context, s *Session, now time.Time, ttl time.Duration) error {
	if now.Sub(s.LastSeen) < time.Minute {
		return nil
	}
	_, err := db.w.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE id = $1`, s.ID, ms(now), ms(now.Add(ttl)))
	return err
}

// SetSessionProject switches the project a session looks at.
func (db *DB) SetSessionProject(ctx context.Context, s *Session, projectID string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE sessions SET project_id = $2 WHERE id = $1`, s.ID, projectID)
	return err
}

// DeleteSession logs a session out.
func (db *DB) DeleteSession(ctx context.Context, token string) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, sessionID(token))
	return err
}

// Audit records a change. What it says comes partly from requests (paths,
// names), so it is made storable rather than refused: a change is never
// left unrecorded over a stray byte.
func (db *DB) Audit(ctx context.Context, e nightjar.AuditEntry) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO audit_log (project_id, actor, action, target, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.ProjectID, nightjar.CleanText(e.Actor, 1000), nightjar.CleanText(e.Action, 1000), nightjar.CleanText(e.Target, 1000),
		nightjar.CleanText(e.Detail, 1000), ms(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	return nil
}

// AuditLog lists a project's audit entries, newest first.
func (db *DB) AuditLog(ctx context.Context, projectID string, limit int) ([]*nightjar.AuditEntry, error) {
	return queryAll(ctx, db.r, "list audit log", `SELECT project_id, actor, action, target, detail, created_at FROM audit_log
		WHERE project_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, func(row rowScanner) (*nightjar.AuditEntry, error) {
		var e nightjar.AuditEntry
		var at int64
		if err := row.Scan(&e.ProjectID, &e.Actor, &e.Action, &e.Target, &e.Detail, &at); err != nil {
			return nil, fmt.Errorf("scan audit entry: %w", err)
		}
		e.CreatedAt = tm(at)
		return &e, nil
	}, projectID, limit)
}

// Invitation is an open offer to join a project.
type Invitation struct {
	ID        string
	ProjectID string
	Email     string
	Role      nightjar.Role
	InvitedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateInvitation makes an invitation and returns the token for its link,
// shown only this once.
func (db *DB) CreateInvitation(ctx context.Context, projectID, email string, role nightjar.Role, by string, now time.Time, ttl time.Duration) (string, error) {
	email, err := normalizeEmail(email)
	if err != nil {
		return "", err
	}
	if !role.Valid() {
		return "", nightjar.FieldError("role", "must be owner, admin, member or viewer")
	}
	token := randomToken(24)
	_, err = db.w.ExecContext(ctx, `INSERT INTO invitations (id, project_id, email, role, invited_by, created_at, expires_at, accepted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0)`,
		sessionID(token), projectID, email, string(role), by, ms(now), ms(now.Add(ttl)))
	if err != nil {
		return "", fmt.Errorf("insert invitation: %w", err)
	}
	return token, nil
}

func scanInvitation(row rowScanner) (*Invitation, error) {
	var inv Invitation
	var role string
	var created, expires int64
	if err := row.Scan(&inv.ID, &inv.ProjectID, &inv.Email, &role, &inv.InvitedBy, &created, &expires); errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "this invitation does not exist, was used already or was withdrawn")
	} else if err != nil {
		return nil, fmt.Errorf("scan invitation: %w", err)
	}
	inv.Role, inv.CreatedAt, inv.ExpiresAt = nightjar.Role(role), tm(created), tm(expires)
	return &inv, nil
}

const invitationColumns = `id, project_id, email, role, invited_by, created_at, expires_at`

// Invitation returns the open invitation of a link token.
func (db *DB) Invitation(ctx context.Context, token string, now time.Time) (*Invitation, error) {
	inv, err := scanInvitation(db.r.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE id = $1 AND accepted_at = 0`, sessionID(token)))
	if err != nil {
		return nil, err
	}
	if !now.Before(inv.ExpiresAt) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "this invitation has expired; ask for a new one")
	}
	return inv, nil
}

// Invitations lists a project's open invitations.
func (db *DB) Invitations(ctx context.Context, projectID string, now time.Time) ([]*Invitation, error) {
	return queryAll(ctx, db.r, "list invitations", `SELECT `+invitationColumns+` FROM invitations
		WHERE project_id = $1 AND accepted_at = 0 AND expires_at > $2 ORDER BY created_at`, scanInvitation, projectID, ms(now))
}

// DeleteInvitation withdraws an invitation of a project.
func (db *DB) DeleteInvitation(ctx context.Context, projectID, id string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM invitations WHERE id = $1 AND project_id = $2`, id, projectID)
	if err != nil {
		return fmt.Errorf("delete invitation: %w", err)
	}
	return mustAffect(res, "invitation")
}

// AcceptInvitation joins the invited project: an existing user with the
// invited email is added; otherwise a user is created with pw.
func (db *DB) AcceptInvitation(ctx context.Context, token, pw string, now time.Time) (*nightjar.User, error) {
	inv, err := db.Invitation(ctx, token, now)
	if err != nil {
		return nil, err
	}
	u, err := db.UserByEmail(ctx, inv.Email)
	switch {
	case nightjar.ErrorCode(err) == nightjar.ENOTFOUND:
		if u, err = db.CreateUser(ctx, inv.Email, pw, "", "", now); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	err = db.WithTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE invitations SET accepted_at = $2 WHERE id = $1 AND accepted_at = 0`, inv.ID, ms(now))
		if err != nil {
			return err
		}
		if err := mustAffect(res, "invitation"); err != nil {
			return err
		}
		err = tx.addMember(ctx, inv.ProjectID, u.ID, inv.Role, now)
		if nightjar.ErrorCode(err) == nightjar.ECONFLICT {
			return nil // already a member: the invitation is simply used up
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
