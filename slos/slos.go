// Package slos is the storage area of service level objectives: their
// definitions (per project and service, judged by slo.Definition's own
// validation, so the API, apply and the console get one answer), the
// per-minute counters ingest flushes into them, and the evaluation each
// minute that turns those counters into burn-rate alerts for the alert
// stage.
//
// Counters are additive: a flush adds its rows to what is stored (INSERT …
// ON CONFLICT DO UPDATE SET good = good + excluded.good), so several
// replicas each flush what they counted and the sums stay right. Evaluation
// divides the due objectives between replicas with FOR UPDATE SKIP LOCKED,
// so an objective is evaluated once a minute however many replicas run.
package slos

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/store"
)

// SLO is a stored objective.
type SLO struct {
	ID         string         `json:"id"`
	ProjectID  string         `json:"project_id"`
	Definition slo.Definition `json:"definition"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// Objective compiles the stored definition.
func (s *SLO) Objective() (*slo.Objective, error) { return slo.New(s.Definition) }

// Name names the objective for people (and the audit log).
func (s *SLO) Name() string {
	return "slo " + s.Definition.Service + "/" + s.Definition.Name + " (" + s.ID + ")"
}

// Service stores objectives and their counters and evaluates them.
type Service struct {
	db    *store.DB
	stage *alerting.Stage
	// series caches each objective's counters between evaluations, so a
	// minute's evaluation reads only the recent minutes (see series.go).
	mu     sync.Mutex
	series map[string]*cached
	// Evidence, when set, is asked for details to add to a firing alert
	// of an objective: adaptive paging's vote over the failing traces of
	// [from, to). Nil details add nothing.
	Evidence func(projectID string, d slo.Definition, from, to time.Time) map[string]string
	// UserCutoff is the ingest's uptime cutoff (aggregate.Limits.Cutoff):
	// user-time is flushed that long after its minute, so evaluations
	// reread minutes that old. Zero means uptime.DefaultCutoff.
	UserCutoff time.Duration
	// Ingest, when set, is this replica's ingest, whose users not written
	// yet the customers having a bad time now add to every replica's
	// written ones (BadTimeNow).
	Ingest *aggregate.Aggregator
}

// New returns the objectives area of db, handing alerts to stage.
func New(db *store.DB, stage *alerting.Stage) *Service {
	return &Service{db: db, stage: stage, series: map[string]*cached{}}
}

const (
	columns    = `id, project_id, definition, created_at, updated_at`
	qByID      = `SELECT ` + columns + ` FROM slos WHERE id = $1 AND project_id = $2`
	qByProject = `SELECT ` + columns + ` FROM slos WHERE project_id = $1 ORDER BY service, name`
)

func scan(row store.Row) (*SLO, error) {
	var s SLO
	var def string
	var created, updated int64
	if err := store.ScanError(row.Scan(&s.ID, &s.ProjectID, &def, &created, &updated), "slo"); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(def), &s.Definition); err != nil {
		return nil, fmt.Errorf("decode slo %s: %w", s.ID, err)
	}
	s.CreatedAt, s.UpdatedAt = store.Time(created), store.Time(updated)
	return &s, nil
}

// Create stores a new objective of a project, giving it an id unless it
// has one. Another objective of the same service and name is a conflict.
func (s *Service) Create(ctx context.Context, o *SLO, now time.Time) error {
	return create(ctx, s.db, o, now)
}

// CreateTx is Create inside the caller's transaction.
func CreateTx(ctx context.Context, tx *store.Tx, o *SLO, now time.Time) error {
	return create(ctx, tx, o, now)
}

func create(ctx context.Context, q store.Conn, o *SLO, now time.Time) error {
	if err := o.Definition.Validate(); err != nil {
		return err
	}
	if o.ID == "" {
		o.ID = store.NewID()
	}
	o.CreatedAt = now.UTC().Truncate(time.Millisecond)
	o.UpdatedAt = o.CreatedAt
	_, err := q.Exec(ctx, `INSERT INTO slos (id, project_id, service, name, definition, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
		o.ID, o.ProjectID, o.Definition.Service, o.Definition.Name, store.JSON(o.Definition), store.Millis(o.CreatedAt))
	if store.IsUniqueViolation(err) {
		return nightjar.Errorf(nightjar.ECONFLICT, "slo %s of service %s exists", o.Definition.Name, o.Definition.Service)
	} else if err != nil {
		return fmt.Errorf("insert slo: %w", err)
	}
	return nil
}

// Get returns one of a project's objectives.
func (s *Service) Get(ctx context.Context, projectID, id string) (*SLO, error) {
	return scan(s.db.QueryRow(ctx, qByID, id, projectID))
}

// List returns a project's objectives by service and name.
func (s *Service) List(ctx context.Context, projectID string) ([]*SLO, error) {
	return list(ctx, s.db, projectID)
}

// ListTx is List as the caller's transaction sees it.
func ListTx(ctx context.Context, tx *store.Tx, projectID string) ([]*SLO, error) {
	return list(ctx, tx, projectID)
}

func list(ctx context.Context, q store.Querier, projectID string) ([]*SLO, error) {
	return store.QueryAll(ctx, q, "list slos", qByProject, scan, projectID)
}

// Evaluated is an objective with what its last evaluation decided, as a
// list shows it.
type Evaluated struct {
	*SLO
	// Firing is since when each severity has been firing.
	Firing map[nightjar.Severity]time.Time
	// Decision is the last evaluation's figures that a list shows: the
	// time, the budget's counts and remaining share, the burn
	// rate and each rule's windows, burn rates, threshold and verdict;
	// the rest is zero (Status has it all). It is nil before the first
	// evaluation and after the definition changed, until the next.
	Decision *slo.Decision
	// SourceError is why the last read of a Prometheus objective's
	// counts failed, by whichever replica made it, and SourceErrorAt
	// when; empty and zero after a good read.
	SourceError   string
	SourceErrorAt time.Time
}

// ListEvaluated returns up to limit of a project's objectives by service
// and name, from offset (every one when limit is 0), each with its last
// evaluation. It reads them in one query and none of their minutes, so
// its cost grows with the objectives listed, not with their traffic; the
// figures are as old as the last evaluation (a minute and EvalDelay at
// most while the evaluation module runs).
func (s *Service) ListEvaluated(ctx context.Context, projectID string, limit, offset int) ([]*Evaluated, error) {
	q := `SELECT ` + columns + `, state, decision, source_error, source_error_at FROM slos WHERE project_id = $1 ORDER BY service, name, id`
	args := []any{projectID}
	if limit > 0 {
		q += ` LIMIT $2 OFFSET $3`
		args = append(args, limit, offset)
	}
	return store.QueryAll(ctx, s.db, "list evaluated slos", q, func(r store.Row) (*Evaluated, error) {
		var e Evaluated
		var def, state, dec string
		var created, updated, errAt int64
		o := &SLO{}
		if err := r.Scan(&o.ID, &o.ProjectID, &def, &created, &updated, &state, &dec, &e.SourceError, &errAt); err != nil {
			return nil, fmt.Errorf("scan slo: %w", err)
		}
		o.CreatedAt, o.UpdatedAt = store.Time(created), store.Time(updated)
		e.SourceErrorAt = sourceErrorAt(e.SourceError, errAt)
		if err := json.Unmarshal([]byte(def), &o.Definition); err != nil {
			return nil, fmt.Errorf("decode slo %s: %w", o.ID, err)
		}
		var st slo.State
		if err := json.Unmarshal([]byte(state), &st); err != nil {
			return nil, fmt.Errorf("decode slo %s state: %w", o.ID, err)
		}
		e.SLO, e.Firing = o, st.Firing
		if e.Firing == nil {
			e.Firing = map[nightjar.Severity]time.Time{}
		}
		if dec != "" {
			var l listed
			if err := json.Unmarshal([]byte(dec), &l); err != nil {
				return nil, fmt.Errorf("decode slo %s decision: %w", o.ID, err)
			}
			e.Decision = l.decision()
		}
		return &e, nil
	}, args...)
}

// All returns every project's objectives, for ingest to count requests
// for.
func (s *Service) All(ctx context.Context) ([]*SLO, error) {
	return store.QueryAll(ctx, s.db, "list all slos", `SELECT `+columns+` FROM slos ORDER BY id`, scan)
}

// Edit changes one of a project's objectives with edit and saves the
// result if it is valid, reading and writing in one transaction. The
// objective keeps its counters; a new service or name must not be another
// objective's.
func (s *Service) Edit(ctx context.Context, projectID, id string, now time.Time, edit func(d *slo.Definition) error) (*SLO, error) {
	var out *SLO
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		o, err := scan(tx.QueryRow(ctx, qByID+tx.Dialect().ForUpdate(), id, projectID))
		if err != nil {
			return err
		}
		if err := edit(&o.Definition); err != nil {
			return err
		}
		if err := UpdateTx(ctx, tx, o, now); err != nil {
			return err
		}
		out = o
		return nil
	})
	return out, err
}

// UpdateTx replaces an objective's definition with one stated in full.
// The last evaluation's decision, made for the old definition, is dropped
// until the next evaluation, and so is a source error once the objective
// no longer reads Prometheus.
func UpdateTx(ctx context.Context, tx *store.Tx, o *SLO, now time.Time) error {
	if err := o.Definition.Validate(); err != nil {
		return err
	}
	o.UpdatedAt = now.UTC().Truncate(time.Millisecond)
	q := `UPDATE slos SET service = $3, name = $4, definition = $5, updated_at = $6, decision = ''`
	if o.Definition.Indicator.Prometheus == nil {
		q += `, source_error = '', source_error_at = 0`
	}
	res, err := tx.Exec(ctx, q+` WHERE id = $1 AND project_id = $2`,
		o.ID, o.ProjectID, o.Definition.Service, o.Definition.Name, store.JSON(o.Definition), store.Millis(o.UpdatedAt))
	if store.IsUniqueViolation(err) {
		return nightjar.Errorf(nightjar.ECONFLICT, "slo %s of service %s exists", o.Definition.Name, o.Definition.Service)
	} else if err != nil {
		return fmt.Errorf("update slo: %w", err)
	}
	return store.MustAffect(res, "slo")
}

// Delete removes one of a project's objectives and its counters, and
// resolves its firing alerts, in one transaction.
func (s *Service) Delete(ctx context.Context, projectID, id string, now time.Time) error {
	return s.db.WithTx(ctx, func(tx *store.Tx) error {
		return s.DeleteTx(ctx, tx, projectID, id, now)
	})
}

// DeleteTx is Delete inside the caller's transaction.
func (s *Service) DeleteTx(ctx context.Context, tx *store.Tx, projectID, id string, now time.Time) error {
	o, err := scan(tx.QueryRow(ctx, qByID+tx.Dialect().ForUpdate(), id, projectID))
	if err != nil {
		return err
	}
	for _, sev := range []nightjar.Severity{nightjar.SeverityPage, nightjar.SeverityTicket} {
		if err := s.stage.Resolve(ctx, tx, projectID, slo.DedupKey(o.Definition.Service, o.Definition.Name, sev), nil, now); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM slo_minutes WHERE slo_id = $1`, id); err != nil {
		return fmt.Errorf("delete slo minutes: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM slos WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete slo: %w", err)
	}
	s.mu.Lock()
	delete(s.series, id)
	s.mu.Unlock()
	return nil
}

// latencyColumns are the histogram's columns, l0 … l11.
var latencyColumns = func() string {
	var cols []string
	for i := range len(slo.Histogram{}) {
		cols = append(cols, fmt.Sprintf("l%d", i))
	}
	return strings.Join(cols, ", ")
}()

// qAddMinute adds one flushed row to an objective's minute. The row of an
// objective deleted since the flush began is dropped (the SELECT finds no
// objective), rather than failing the whole flush.
var qAddMinute = store.Hot(func(store.Dialect) string {
	var set []string
	for _, c := range append([]string{"good", "total", "up_ms", "down_ms"}, strings.Split(latencyColumns, ", ")...) {
		set = append(set, c+" = slo_minutes."+c+" + excluded."+c)
	}
	n := 6 + len(slo.Histogram{})
	return `INSERT INTO slo_minutes (slo_id, minute, good, total, up_ms, down_ms, ` + latencyColumns + `, updated_at)
		SELECT ` + store.Placeholders(1, n+1) + ` WHERE EXISTS (SELECT 1 FROM slos WHERE id = $1)
		ON CONFLICT (slo_id, minute) DO UPDATE SET ` + strings.Join(set, ", ") + `, updated_at = excluded.updated_at`
})

// AddMinutes adds rows flushed at now to the stored counters in one
// transaction. Rows are written in a fixed order, so two replicas flushing
// the same minutes at once wait for each other rather than deadlock.
func (s *Service) AddMinutes(ctx context.Context, rows []aggregate.Row, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	sorted := append([]aggregate.Row(nil), rows...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].SLOID != sorted[j].SLOID {
			return sorted[i].SLOID < sorted[j].SLOID
		}
		return sorted[i].Minute.Before(sorted[j].Minute)
	})
	return s.db.WithTx(ctx, func(tx *store.Tx) error {
		args := make([]any, 7+len(slo.Histogram{}))
		args[len(args)-1] = store.Millis(now)
		for _, r := range sorted {
			b := &r.Bucket
			args[0], args[1], args[2], args[3], args[4], args[5] = r.SLOID, store.Millis(r.Minute), int64(b.Good), int64(b.Total), b.UpMs, b.DownMs
			for i, n := range b.Latency {
				args[6+i] = int64(n)
			}
			if _, err := tx.ExecStmt(ctx, qAddMinute, args...); err != nil {
				return fmt.Errorf("add slo minute: %w", err)
			}
		}
		return nil
	})
}

// Minute is one stored minute of an objective.
type Minute struct {
	Start  time.Time
	Bucket slo.Bucket
}

func scanMinute(row store.Row) (Minute, error) { return scanMinuteAfter(row) }

// scanMinuteAfter reads a minute that follows the columns lead in the row.
func scanMinuteAfter(row store.Row, lead ...any) (Minute, error) {
	var m Minute
	var start, good, total int64
	dest := make([]any, 0, len(lead)+5+len(slo.Histogram{}))
	dest = append(append(dest, lead...), &start, &good, &total, &m.Bucket.UpMs, &m.Bucket.DownMs)
	lat := make([]int64, len(slo.Histogram{}))
	for i := range lat {
		dest = append(dest, &lat[i])
	}
	if err := row.Scan(dest...); err != nil {
		return m, fmt.Errorf("scan slo minute: %w", err)
	}
	m.Start = store.Time(start)
	m.Bucket.Good, m.Bucket.Total = uint64(good), uint64(total)
	for i, n := range lat {
		m.Bucket.Latency[i] = uint64(n)
	}
	return m, nil
}

// minutes reads an objective's minutes that start in [from, to) and were
// added to at or after since (the zero time for all), oldest first.
func minutes(ctx context.Context, q store.Querier, sloID string, from, to, since time.Time) ([]Minute, error) {
	return store.QueryAll(ctx, q, "read slo minutes", qMinutes.SQL(q.Dialect()), scanMinute, sloID, from.UnixMilli(), to.UnixMilli(), store.Millis(since))
}

// qMinutes reads minutes; every evaluation runs it, in its transaction.
var qMinutes = store.Hot(func(store.Dialect) string {
	return `SELECT minute, good, total, up_ms, down_ms, ` + latencyColumns + `
		FROM slo_minutes WHERE slo_id = $1 AND minute >= $2 AND minute < $3 AND updated_at >= $4 ORDER BY minute`
})

// Minutes returns one of a project's objectives' stored minutes that start
// in [from, to), oldest first.
func (s *Service) Minutes(ctx context.Context, projectID, id string, from, to time.Time) ([]Minute, error) {
	if _, err := s.Get(ctx, projectID, id); err != nil {
		return nil, err
	}
	return minutes(ctx, s.db, id, from, to, time.Time{})
}

// Prune deletes minutes older than any objective reads (slo.MaxRollingDays
// and a day), and returns how many.
func (s *Service) Prune(ctx context.Context, now time.Time) (int64, error) {
	cut := now.Add(-(slo.MaxRollingDays + 1) * 24 * time.Hour)
	res, err := s.db.Exec(ctx, `DELETE FROM slo_minutes WHERE minute < $1`, cut.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("prune slo minutes: %w", err)
	}
	return res.RowsAffected()
}
