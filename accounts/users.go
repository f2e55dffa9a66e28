package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/password"
	"github.com/nightjar-dev/nightjar/store"
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// maxPasswordLength bounds a password: hashing a huge one costs the
// server, not whoever sent it.
const maxPasswordLength = 1024

// normalizeEmail returns email as stored: trimmed and lower case.
func normalizeEmail(email string) (string, error) {
	valid := nightjar.ValidText(email) // before ToLower, which would replace bad bytes
	email = strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndex(email, "@")
	if !valid || at < 1 || at == len(email)-1 || strings.ContainsAny(email, " \t\r\n<>") || len(email) > 254 {
		return "", nightjar.FieldError("email", "must be an email address such as alice@example.com")
	}
	return email, nil
}

// checkPassword refuses a new password that is too short or too long.
func checkPassword(pw string) error {
	if len(pw) < MinPasswordLength {
		return nightjar.FieldError("password", "must be at least %d characters", MinPasswordLength)
	}
	if len(pw) > maxPasswordLength {
		return nightjar.FieldError("password", "must be at most %d characters", maxPasswordLength)
	}
	return nil
}

// CreateUser stores a user with an argon2id hash of the password and, when
// projectID is set, makes them a member with role. It takes no actor: it
// serves the operator's command line and invitations, which were checked
// when they were made.
func (s *Store) CreateUser(ctx context.Context, email, pw, projectID string, role nightjar.Role, now time.Time) (*nightjar.User, error) {
	email, err := normalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(pw); err != nil {
		return nil, err
	}
	if projectID != "" {
		if err := role.Validate(); err != nil {
			return nil, err
		}
	}
	hash, err := s.passwords.Hash(ctx, pw)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	u := &nightjar.User{ID: store.NewID(), Email: email, PasswordHash: hash, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)`, u.ID, u.Email, u.PasswordHash, store.Millis(u.CreatedAt))
		if store.IsUniqueViolation(err) {
			return nightjar.Errorf(nightjar.ECONFLICT, "a user with email %s exists", email)
		} else if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		if projectID == "" {
			return nil
		}
		return addMember(ctx, tx, projectID, u.ID, role, now)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

const userColumns = `id, email, password_hash, created_at`

func scanUser(row store.Row) (*nightjar.User, error) {
	var u nightjar.User
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &created); err != nil {
		return nil, store.ScanError(err, "user")
	}
	u.CreatedAt = store.Time(created)
	return &u, nil
}

// User returns a user by id.
func (s *Store) User(ctx context.Context, id string) (*nightjar.User, error) {
	return scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

// UserByEmail returns a user by email address. An address that is not
// valid text names no user: every stored one was checked.
func (s *Store) UserByEmail(ctx context.Context, email string) (*nightjar.User, error) {
	if !nightjar.ValidText(email) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "user not found")
	}
	return scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, strings.ToLower(strings.TrimSpace(email))))
}

// Users lists every user, by email.
func (s *Store) Users(ctx context.Context) ([]*nightjar.User, error) {
	return store.QueryAll(ctx, s.db, "list users", `SELECT `+userColumns+` FROM users ORDER BY email`, scanUser)
}

// CountUsers returns how many users exist.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// Authenticate checks an email and password. Every failure is the same
// EUNAUTHORIZED error, so it tells nobody which emails exist; a login that
// names no user costs as much as a wrong password. It returns
// password.ErrBusy when too many checks are waiting already.
func (s *Store) Authenticate(ctx context.Context, email, pw string) (*nightjar.User, error) {
	u, err := s.UserByEmail(ctx, email)
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		if err := s.passwords.VerifyNothing(ctx, pw); err != nil {
			return nil, fmt.Errorf("check password: %w", err)
		}
		return nil, nightjar.Errorf(nightjar.EUNAUTHORIZED, "wrong email or password")
	} else if err != nil {
		return nil, err
	}
	if err := s.passwords.Verify(ctx, u.PasswordHash, pw); errors.Is(err, password.ErrMismatch) {
		return nil, nightjar.Errorf(nightjar.EUNAUTHORIZED, "wrong email or password")
	} else if err != nil {
		return nil, fmt.Errorf("verify password of %s: %w", u.ID, err)
	}
	return u, nil
}

// SetPassword changes a user's password and ends their other sessions
// (keepSession, if set, stays).
func (s *Store) SetPassword(ctx context.Context, userID, pw, keepSession string) error {
	if err := checkPassword(pw); err != nil {
		return err
	}
	hash, err := s.passwords.Hash(ctx, pw)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	return s.db.WithTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, userID)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if err := store.MustAffect(res, "user"); err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, store.HashSecret(keepSession)); err != nil {
			return fmt.Errorf("end other sessions: %w", err)
		}
		return nil
	})
}
