package incidents

import (
	"context"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/store"
)

// refQueries find the id of a project's object by id or by name (a
// member by user id or email address).
var refQueries = map[incident.RefKind]string{
	incident.RefTeam:     `SELECT id FROM incident_teams WHERE project_id = $1 AND (id = $2 OR name = $2) ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1`,
	incident.RefPolicy:   `SELECT id FROM escalation_policies WHERE project_id = $1 AND (id = $2 OR name = $2) ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1`,
	incident.RefSchedule: `SELECT id FROM oncall_schedules WHERE project_id = $1 AND (id = $2 OR name = $2) ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1`,
	incident.RefChannel:  `SELECT id FROM channels WHERE project_id = $1 AND (id = $2 OR name = $2) ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1`,
	incident.RefUser: `SELECT u.id FROM users u JOIN project_members m ON m.user_id = u.id
		WHERE m.project_id = $1 AND (u.id = $2 OR lower(u.email) = lower($2)) ORDER BY CASE WHEN u.id = $2 THEN 0 ELSE 1 END LIMIT 1`,
}

// Resolver returns what the front doors resolve a spec's references
// with: the id of the project's object that a reference names by id or
// by name (a person by user id or email address), or a field error. It
// reads through the Store's transaction when it has one.
func (s *Store) Resolver(ctx context.Context, projectID string) incident.Resolver {
	return func(kind incident.RefKind, field, ref string) (string, error) {
		var id string
		err := s.read().QueryRow(ctx, refQueries[kind], projectID, ref).Scan(&id)
		if err := store.ScanError(err, string(kind)); err != nil {
			if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
				return "", nightjar.FieldError(field, "names no %s of the project", kind)
			}
			return "", err
		}
		return id, nil
	}
}
