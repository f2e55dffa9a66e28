package slos

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/uptime"
)

// The customers having a bad time now, across replicas. Each replica's
// ingest follows its users' last requests per objective and per service
// (aggregate); at each flush it writes those that changed into
// recent_users, keeping for each user the later request when replicas saw
// different ones (uptime.Last.Supersedes). A count reads every replica's
// rows of the last BadTimeRecent and merges in what this replica saw and
// has not written yet, by the same rule, so every replica answers alike
// once the others' flushes are in: the count is as live as the ingest
// flush interval for requests other replicas received, and live for this
// replica's own.

// BadTime is how many customers made a request recently (Active) and how
// many of them are in a down segment now, their last request having been
// bad (Down).
type BadTime = uptime.BadTime

// BadTimes are a project's customers having a bad time now, per objective
// (by id) and per counted service (by name). An objective or service
// nobody used recently is absent.
type BadTimes struct {
	SLOs     map[string]BadTime
	Services map[string]BadTime
}

// qAddRecentUser writes a user's last request unless the stored one is
// later (same rule as uptime.Last.Supersedes).
var qAddRecentUser = store.Hot(func(store.Dialect) string {
	return `INSERT INTO recent_users (project_id, slo_id, service, user_key, last_at, failed) VALUES ($1, $2, $3, $4, $5, $6)` +
		recentUserConflict
})

const recentUserConflict = `
		ON CONFLICT (project_id, slo_id, service, user_key) DO UPDATE SET last_at = excluded.last_at, failed = excluded.failed
		WHERE excluded.last_at > recent_users.last_at OR (excluded.last_at = recent_users.last_at AND excluded.failed > recent_users.failed)`

// recentUserBatch is how many users one statement writes on a database
// that takes several rows at once.
const recentUserBatch = 500

// AddRecentUsers writes the users whose last request changed, as a flush
// at now handed them out, and then deletes the rows too old for any count.
// Rows are written in a fixed order, so two replicas writing the same
// users at once wait for each other rather than deadlock.
func (s *Service) AddRecentUsers(ctx context.Context, us []aggregate.Users, now time.Time) error {
	type row struct {
		projectID, sloID, service string
		uptime.Last
	}
	var rows []row
	for _, u := range us {
		for _, l := range u.Last {
			rows = append(rows, row{u.ProjectID, u.SLOID, u.Service, l})
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(strings.Compare(a.projectID, b.projectID), strings.Compare(a.sloID, b.sloID),
			strings.Compare(a.service, b.service), cmp.Compare(int64(a.Key), int64(b.Key)))
	})
	args := func(r row) []any {
		failed := 0
		if r.Failed {
			failed = 1
		}
		return []any{r.projectID, r.sloID, r.service, int64(r.Key), r.AtMs, failed}
	}
	if len(rows) > 0 {
		err := s.db.WithTx(ctx, func(tx *store.Tx) error {
			if !tx.Dialect().MultiRow() {
				for _, r := range rows {
					if _, err := tx.ExecStmt(ctx, qAddRecentUser, args(r)...); err != nil {
						return fmt.Errorf("add recent user: %w", err)
					}
				}
				return nil
			}
			for chunk := range slices.Chunk(rows, recentUserBatch) {
				var values []string
				var all []any
				for _, r := range chunk {
					values = append(values, "("+store.Placeholders(len(all)+1, 6)+")")
					all = append(all, args(r)...)
				}
				q := `INSERT INTO recent_users (project_id, slo_id, service, user_key, last_at, failed) VALUES ` + strings.Join(values, ", ") + recentUserConflict
				if _, err := tx.Exec(ctx, q, all...); err != nil {
					return fmt.Errorf("add recent users: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM recent_users WHERE last_at < $1`, now.Add(-BadTimeRecent).UnixMilli()); err != nil {
		return fmt.Errorf("prune recent users: %w", err)
	}
	return nil
}

// BadTimeNow counts a project's customers having a bad time now, per
// objective and per service, from every replica's users and this one's
// (Ingest) not written yet.
func (s *Service) BadTimeNow(ctx context.Context, projectID string, now time.Time) (*BadTimes, error) {
	return s.badTimes(ctx, projectID, "", now)
}

// BadTimeOf counts the customers having a bad time now of one objective,
// as BadTimeNow does.
func (s *Service) BadTimeOf(ctx context.Context, projectID, sloID string, now time.Time) (BadTime, error) {
	b, err := s.badTimes(ctx, projectID, sloID, now)
	if err != nil {
		return BadTime{}, err
	}
	return b.SLOs[sloID], nil
}

// scope is an objective's users (service empty) or a service's (sloID
// empty).
type scope struct{ sloID, service string }

// badTimes counts a project's customers, those of one objective only when
// sloID is set.
func (s *Service) badTimes(ctx context.Context, projectID, sloID string, now time.Time) (*BadTimes, error) {
	from, to := now.Add(-BadTimeRecent), now
	q := `SELECT slo_id, service, user_key, last_at, failed FROM recent_users WHERE project_id = $1 AND last_at >= $2 AND last_at <= $3`
	args := []any{projectID, from.UnixMilli(), to.UnixMilli()}
	if sloID != "" {
		q += ` AND slo_id = $4 AND service = ''`
		args = append(args, sloID)
	}
	type scoped struct {
		scope
		uptime.Last
	}
	stored, err := store.QueryAll(ctx, s.db, "read recent users", q, func(row store.Row) (scoped, error) {
		var r scoped
		var key int64
		var failed int
		if err := row.Scan(&r.sloID, &r.service, &key, &r.AtMs, &failed); err != nil {
			return r, err
		}
		r.Key, r.Failed = uint64(key), failed != 0
		return r, nil
	}, args...)
	if err != nil {
		return nil, err
	}
	users := map[scope][]uptime.Last{}
	for _, r := range stored {
		users[r.scope] = append(users[r.scope], r.Last)
	}
	if s.Ingest != nil {
		for _, u := range s.Ingest.RecentUsers(projectID, from, to) {
			if sloID == "" || u.SLOID == sloID {
				k := scope{u.SLOID, u.Service}
				users[k] = append(users[k], u.Last...)
			}
		}
	}
	out := &BadTimes{SLOs: map[string]BadTime{}, Services: map[string]BadTime{}}
	for k, ls := range users {
		var b BadTime
		for _, l := range uptime.Merge(ls) {
			b.Add(l, from.UnixMilli(), to.UnixMilli())
		}
		if b.Active == 0 {
			continue
		}
		if k.service != "" {
			out.Services[k.service] = b
		} else {
			out.SLOs[k.sloID] = b
		}
	}
	return out, nil
}

// ServiceBadTime is one counted service's customers having a bad time.
type ServiceBadTime struct {
	Service string
	BadTime
}

// SLOBadTime is one objective's customers having a bad time.
type SLOBadTime struct {
	SLO *SLO
	BadTime
}

// BadTimeReport is a project's customers having a bad time now, as the API
// and the console's overview show it: every service its objectives count,
// by name, and every objective, by service and name, with zero counts for
// those nobody used recently.
type BadTimeReport struct {
	Services []ServiceBadTime
	SLOs     []SLOBadTime
}

// BadTimeReport counts a project's customers having a bad time now (see
// BadTimeNow) for each of its services and objectives.
func (s *Service) BadTimeReport(ctx context.Context, projectID string, now time.Time) (*BadTimeReport, error) {
	list, err := s.List(ctx, projectID)
	if err != nil {
		return nil, err
	}
	counts, err := s.BadTimeNow(ctx, projectID, now)
	if err != nil {
		return nil, err
	}
	out := &BadTimeReport{Services: []ServiceBadTime{}, SLOs: []SLOBadTime{}}
	var services []string
	for _, o := range list {
		out.SLOs = append(out.SLOs, SLOBadTime{SLO: o, BadTime: counts.SLOs[o.ID]})
		services = append(services, o.Definition.CountedService())
	}
	slices.Sort(services)
	for _, name := range slices.Compact(services) {
		out.Services = append(out.Services, ServiceBadTime{Service: name, BadTime: counts.Services[name]})
	}
	return out, nil
}
