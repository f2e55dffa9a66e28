// Package accounts stores the people who use the console: users and their
// passwords, their memberships of projects with a role each, their
// logged-in sessions and the invitations that bring new people in. It
// sits beside the flow: the console resolves a session to a user and a
// role here before any page runs.
//
// Passwords are hashed with argon2id through one bounded password.Hasher,
// so however many logins arrive at once, memory stays bounded. Session and
// invitation tokens are stored only as hashes; the token itself is shown
// once.
package accounts

import (
	"context"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar/password"
	"github.com/nightjar-dev/nightjar/store"
)

// Store reads and writes users, memberships, sessions and invitations.
// Its methods own their transaction.
type Store struct {
	db        *store.DB
	passwords *password.Hasher
}

// New returns the accounts of db, hashing and checking passwords with
// passwords; nil is a Hasher at password.DefaultCost. Tests pass one at
// password.TestCost.
func New(db *store.DB, passwords *password.Hasher) *Store {
	if passwords == nil {
		passwords = password.New(password.DefaultCost, 0)
	}
	return &Store{db: db, passwords: passwords}
}

// Passwords returns the hasher passwords are checked with, so callers can
// report its load.
func (s *Store) Passwords() *password.Hasher { return s.passwords }

// Prune deletes expired sessions and invitations that expired or were
// used, and reports how many rows went; the engine's retention module
// calls it.
func (s *Store) Prune(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range []string{
		`DELETE FROM sessions WHERE expires_at <= $1`,
		`DELETE FROM invitations WHERE expires_at <= $1 OR accepted_at > 0`,
	} {
		res, err := s.db.Exec(ctx, q, store.Millis(now))
		if err != nil {
			return total, fmt.Errorf("prune accounts: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
