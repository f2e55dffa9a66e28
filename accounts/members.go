package accounts

import (
	"context"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// The changes to memberships take the role of the member making them (the
// actor) and decide with the domain's rules (nightjar.CheckGrant,
// CheckRoleChange, CheckRemoval) inside their transaction, so the roles
// judged are the ones the change is made to.

const membershipQuery = `SELECT m.project_id, p.name, m.user_id, u.email, m.role FROM project_members m
	JOIN projects p ON p.id = m.project_id JOIN users u ON u.id = m.user_id `

func scanMembership(row store.Row) (*nightjar.Membership, error) {
	var m nightjar.Membership
	var role string
	if err := row.Scan(&m.ProjectID, &m.ProjectName, &m.UserID, &m.Email, &role); err != nil {
		return nil, store.ScanError(err, "member")
	}
	m.Role = nightjar.Role(role)
	return &m, nil
}

// Memberships lists the projects a user belongs to, by project name.
func (s *Store) Memberships(ctx context.Context, userID string) ([]*nightjar.Membership, error) {
	return store.QueryAll(ctx, s.db, "list memberships", membershipQuery+`WHERE m.user_id = $1 ORDER BY p.name, p.id`, scanMembership, userID)
}

// Members lists a project's members, by email.
func (s *Store) Members(ctx context.Context, projectID string) ([]*nightjar.Membership, error) {
	return store.QueryAll(ctx, s.db, "list members", membershipQuery+`WHERE m.project_id = $1 ORDER BY u.email`, scanMembership, projectID)
}

// Membership returns a user's role in a project; ENOTFOUND when they are
// not a member, which callers answer as if the project did not exist.
func (s *Store) Membership(ctx context.Context, projectID, userID string) (*nightjar.Membership, error) {
	return membership(ctx, s.db, projectID, userID)
}

func membership(ctx context.Context, q store.Querier, projectID, userID string) (*nightjar.Membership, error) {
	return scanMembership(q.QueryRow(ctx, membershipQuery+`WHERE m.project_id = $1 AND m.user_id = $2`, projectID, userID))
}

// AddMember gives an existing user a role in a project, as actor.
func (s *Store) AddMember(ctx context.Context, actor nightjar.Role, projectID, userID string, role nightjar.Role, now time.Time) error {
	if err := nightjar.CheckGrant(actor, role); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(tx *store.Tx) error { return addMember(ctx, tx, projectID, userID, role, now) })
}

// addMember adds a member; ECONFLICT when the user is one already. It does
// not let the insert fail on the key: on PostgreSQL that would abort the
// transaction, which a caller that accepts the conflict (an invitation
// used by a member) still wants to commit.
func addMember(ctx context.Context, tx *store.Tx, projectID, userID string, role nightjar.Role, now time.Time) error {
	res, err := tx.Exec(ctx, `INSERT INTO project_members (project_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (project_id, user_id) DO NOTHING`, projectID, userID, string(role), store.Millis(now))
	if err != nil {
		return fmt.Errorf("add member: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("add member: %w", err)
	} else if n == 0 {
		return nightjar.Errorf(nightjar.ECONFLICT, "the user is a member already")
	}
	return nil
}

// SetRole changes a member's role, as actor, and returns the membership as
// it was before.
func (s *Store) SetRole(ctx context.Context, actor nightjar.Role, projectID, userID string, role nightjar.Role) (*nightjar.Membership, error) {
	var before *nightjar.Membership
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		m, others, err := memberAndOtherOwners(ctx, tx, projectID, userID)
		if err != nil {
			return err
		}
		if err := nightjar.CheckRoleChange(actor, m.Role, role, others); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE project_members SET role = $3 WHERE project_id = $1 AND user_id = $2`, projectID, userID, string(role))
		if err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		before = m
		return store.MustAffect(res, "member")
	})
	return before, err
}

// RemoveMember takes a user out of a project, as actor, and returns the
// membership that ended.
func (s *Store) RemoveMember(ctx context.Context, actor nightjar.Role, projectID, userID string) (*nightjar.Membership, error) {
	var removed *nightjar.Membership
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		m, others, err := memberAndOtherOwners(ctx, tx, projectID, userID)
		if err != nil {
			return err
		}
		if err := nightjar.CheckRemoval(actor, m.Role, others); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM project_members WHERE project_id = $1 AND user_id = $2`, projectID, userID)
		if err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		removed = m
		return store.MustAffect(res, "member")
	})
	return removed, err
}

// memberAndOtherOwners reads, in the transaction that changes it, a
// membership and how many owners the project has besides that member:
// what the role rules judge.
func memberAndOtherOwners(ctx context.Context, tx *store.Tx, projectID, userID string) (*nightjar.Membership, int, error) {
	m, err := membership(ctx, tx, projectID, userID)
	if err != nil {
		return nil, 0, err
	}
	var others int
	err = tx.QueryRow(ctx, `SELECT COUNT(*) FROM project_members WHERE project_id = $1 AND role = $2 AND user_id <> $3`,
		projectID, string(nightjar.RoleOwner), userID).Scan(&others)
	if err != nil {
		return nil, 0, fmt.Errorf("count owners: %w", err)
	}
	return m, others, nil
}
