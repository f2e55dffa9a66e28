package slos

import (
	"cmp"
	"context"
	"fmt"
	"maps"
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
// different ones (uptime.Last.Supersedes). A count has the database count
// every replica's rows of the last BadTimeRecent and merges in what this
// replica saw and has not written yet, by the same rule (reading the stored
// rows of those users only), so every replica answers alike
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
// sloID is set. The database counts every replica's rows; only the users
// this replica has not written yet are read one by one, to replace their
// stored row (if any) when theirs is later.
func (s *Service) badTimes(ctx context.Context, projectID, sloID string, now time.Time) (*BadTimes, error) {
	from, to := now.Add(-BadTimeRecent).UnixMilli(), now.UnixMilli()
	filter, args := ``, []any{projectID, from, to}
	if sloID != "" {
		filter, args = ` AND slo_id = $4 AND service = ''`, append(args, sloID)
	}
	type total struct {
		scope
		BadTime
	}
	totals, err := store.QueryAll(ctx, s.db, "count recent users", `SELECT slo_id, service, COUNT(*), COALESCE(SUM(failed), 0)
		FROM recent_users WHERE project_id = $1 AND last_at >= $2 AND last_at <= $3`+filter+` GROUP BY slo_id, service`,
		func(row store.Row) (total, error) {
			var t total
			err := row.Scan(&t.sloID, &t.service, &t.Active, &t.Down)
			return t, err
		}, args...)
	if err != nil {
		return nil, err
	}
	counts := map[scope]BadTime{}
	for _, t := range totals {
		counts[t.scope] = t.BadTime
	}
	if s.Ingest != nil {
		if err := s.addPending(ctx, projectID, sloID, counts, from, to); err != nil {
			return nil, err
		}
	}
	out := &BadTimes{SLOs: map[string]BadTime{}, Services: map[string]BadTime{}}
	for k, b := range counts {
		switch {
		case b.Active == 0:
		case k.service != "":
			out.Services[k.service] = b
		default:
			out.SLOs[k.sloID] = b
		}
	}
	return out, nil
}

// pendingBatch is how many user keys one read of stored rows asks for.
const pendingBatch = 500

// addPending corrects counts of the stored rows for the users this
// replica saw and has not written yet: a user's stored row, if counted,
// gives way to the later of it and this replica's.
func (s *Service) addPending(ctx context.Context, projectID, sloID string, counts map[scope]BadTime, from, to int64) error {
	type user struct {
		scope
		key uint64
	}
	pending := map[user]uptime.Last{}
	keys := map[uint64]bool{}
	for _, u := range s.Ingest.PendingUsers(projectID) {
		if sloID != "" && u.SLOID != sloID {
			continue
		}
		for _, l := range u.Last {
			pending[user{scope{u.SLOID, u.Service}, l.Key}] = l
			keys[l.Key] = true
		}
	}
	all := slices.Collect(maps.Keys(keys))
	for chunk := range slices.Chunk(all, pendingBatch) {
		args := []any{projectID}
		for _, k := range chunk {
			args = append(args, int64(k))
		}
		stored, err := store.QueryAll(ctx, s.db, "read recent users", `SELECT slo_id, service, user_key, last_at, failed
			FROM recent_users WHERE project_id = $1 AND user_key IN (`+store.Placeholders(2, len(chunk))+`)`,
			func(row store.Row) (struct {
				user
				uptime.Last
			}, error) {
				var r struct {
					user
					uptime.Last
				}
				var key int64
				var failed int
				err := row.Scan(&r.sloID, &r.service, &key, &r.AtMs, &failed)
				r.key, r.Key, r.Failed = uint64(key), uint64(key), failed != 0
				return r, err
			}, args...)
		if err != nil {
			return err
		}
		for _, r := range stored {
			l, ok := pending[r.user]
			if !ok {
				continue // the same user's row of another objective or service
			}
			b := counts[r.scope]
			b.Remove(r.Last, from, to)
			if r.Last.Supersedes(l) {
				pending[r.user] = r.Last
			}
			counts[r.scope] = b
		}
	}
	for u, l := range pending {
		b := counts[u.scope]
		b.Add(l, from, to)
		counts[u.scope] = b
	}
	return nil
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
