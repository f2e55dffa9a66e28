package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// Invitation is an open offer to join a project.
type Invitation struct {
	// ID is the hash of the link's token; the token itself is not kept.
	ID        string
	ProjectID string
	Email     string
	Role      nightjar.Role
	// InvitedBy is the email of who made the invitation.
	InvitedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateInvitation makes an invitation to join a project with role, as
// actor (whose email is by), and returns the token for its link, shown
// only this once.
func (s *Store) CreateInvitation(ctx context.Context, actor nightjar.Role, projectID, email string, role nightjar.Role, by string, now time.Time, ttl time.Duration) (string, error) {
	if err := nightjar.CheckGrant(actor, role); err != nil {
		return "", err
	}
	email, err := normalizeEmail(email)
	if err != nil {
		return "", err
	}
	token := store.NewSecret(24)
	_, err = s.db.Exec(ctx, `INSERT INTO invitations (id, project_id, email, role, invited_by, created_at, expires_at, accepted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0)`,
		store.HashSecret(token), projectID, email, string(role), by, store.Millis(now), store.Millis(now.Add(ttl)))
	if err != nil {
		return "", fmt.Errorf("insert invitation: %w", err)
	}
	return token, nil
}

const invitationColumns = `id, project_id, email, role, invited_by, created_at, expires_at`

func scanInvitation(row store.Row) (*Invitation, error) {
	var inv Invitation
	var role string
	var created, expires int64
	if err := row.Scan(&inv.ID, &inv.ProjectID, &inv.Email, &role, &inv.InvitedBy, &created, &expires); errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "this invitation does not exist, was used already or was withdrawn")
	} else if err != nil {
		return nil, fmt.Errorf("scan invitation: %w", err)
	}
	inv.Role, inv.CreatedAt, inv.ExpiresAt = nightjar.Role(role), store.Time(created), store.Time(expires)
	return &inv, nil
}

// Invitation returns the open invitation of a link token.
func (s *Store) Invitation(ctx context.Context, token string, now time.Time) (*Invitation, error) {
	inv, err := scanInvitation(s.db.QueryRow(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE id = $1 AND accepted_at = 0`, store.HashSecret(token)))
	if err != nil {
		return nil, err
	}
	if !now.Before(inv.ExpiresAt) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "this invitation has expired; ask for a new one")
	}
	return inv, nil
}

// Invitations lists a project's open invitations, oldest first.
func (s *Store) Invitations(ctx context.Context, projectID string, now time.Time) ([]*Invitation, error) {
	return store.QueryAll(ctx, s.db, "list invitations", `SELECT `+invitationColumns+` FROM invitations
		WHERE project_id = $1 AND accepted_at = 0 AND expires_at > $2 ORDER BY created_at`, scanInvitation, projectID, store.Millis(now))
}

// DeleteInvitation withdraws an invitation of a project; another
// project's is not found.
func (s *Store) DeleteInvitation(ctx context.Context, projectID, id string) error {
	res, err := s.db.Exec(ctx, `DELETE FROM invitations WHERE id = $1 AND project_id = $2`, id, projectID)
	if err != nil {
		return fmt.Errorf("delete invitation: %w", err)
	}
	return store.MustAffect(res, "invitation")
}

// AcceptInvitation joins the invited project: an existing user with the
// invited email is added; otherwise a user is created with pw. The
// password is hashed before the transaction that uses the invitation up,
// so no costly hash holds SQLite's one writer.
func (s *Store) AcceptInvitation(ctx context.Context, token, pw string, now time.Time) (*nightjar.User, error) {
	inv, err := s.Invitation(ctx, token, now)
	if err != nil {
		return nil, err
	}
	u, err := s.UserByEmail(ctx, inv.Email)
	switch {
	case nightjar.ErrorCode(err) == nightjar.ENOTFOUND:
		if u, err = s.CreateUser(ctx, inv.Email, pw, "", "", now); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	err = s.db.WithTx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE invitations SET accepted_at = $2 WHERE id = $1 AND accepted_at = 0`, inv.ID, store.Millis(now))
		if err != nil {
			return fmt.Errorf("use invitation: %w", err)
		}
		if err := store.MustAffect(res, "invitation"); err != nil {
			return err
		}
		err = addMember(ctx, tx, inv.ProjectID, u.ID, inv.Role, now)
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
