package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/password"
)

// Roles a user can have in a project.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleViewer = "viewer"
)

// CreateUser stores a user with an argon2id hash of the password and, when
// projectID is set, makes them a member with role.
func (db *DB) CreateUser(ctx context.Context, email, pw, projectID, role string, now time.Time) (*nightjar.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if !strings.Contains(email, "@") {
		return nil, nightjar.FieldError("email", "must be an email address")
	}
	if len(pw) < 8 {
		return nil, nightjar.FieldError("password", "must be at least 8 characters")
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return nil, err
	}
	u := &nightjar.User{ID: NewID(), Email: email, PasswordHash: hash, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	err = db.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)`, u.ID, u.Email, u.PasswordHash, ms(u.CreatedAt))
		if isUniqueViolation(err) {
			return nightjar.Errorf(nightjar.ECONFLICT, "a user with email %s exists", email)
		} else if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		if projectID == "" {
			return nil
		}
		_, err = tx.exec(ctx, `INSERT INTO project_members (project_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)`, projectID, u.ID, role, ms(now))
		if err != nil {
			return fmt.Errorf("add member: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// CountUsers returns how many users exist.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}
