package slos

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/uptime"
)

// EvalDelay is how long after a minute ends its objectives are evaluated:
// time for every replica's flush of that minute to land (flushes run every
// 10 seconds by default).
const EvalDelay = 15 * time.Second

// reloadSpan is how far back each evaluation looks for minutes that
// changed since the last: late flushes and user-time (final only after the
// uptime cutoff) still add to minutes that old.
func (s *Service) reloadSpan() time.Duration {
	cutoff := s.UserCutoff
	if cutoff <= 0 {
		cutoff = uptime.DefaultCutoff
	}
	return cutoff + time.Hour
}

// flushSkew is how much earlier than the last read a flush may be stamped
// and still commit after it: replicas' clocks and slow commits.
const flushSkew = 2 * time.Minute

// cached is an objective's counters as the last evaluation read them.
type cached struct {
	series    *slo.Series
	retention int
	loadedTo  time.Time
	// recent are the counts read of the minutes within reloadSpan, so a
	// reread adds only what changed.
	recent map[time.Time]slo.Counts
}

// maxBatch bounds the objectives whose minutes one query reads.
const maxBatch = 500

// read is one objective's part of a batch's read of minutes: its cache
// and the minutes to read, [from, to) added to at or after since.
type read struct {
	id          string
	c           *cached
	from, since time.Time
}

// seriesAll brings the cached series of the objectives ids (compiled as
// objs) up to now, reading the minutes of all of them with one query per
// kind of read (and per maxBatch objectives) rather than one each. An
// objective's first read (and one after a pause longer than half the
// reload span, as when another replica evaluated the objective meanwhile)
// reads every minute the objective keeps; later ones only the recent
// minutes flushed since the last read. A flush that commits more than
// flushSkew after it was stamped and after a read is missed until the
// series is read whole again.
func (s *Service) seriesAll(ctx context.Context, q store.Querier, ids []string, objs []*slo.Objective, now time.Time) ([]*slo.Series, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reloadSpan := s.reloadSpan()
	keep := now.Truncate(time.Minute).Add(-reloadSpan)
	type kind struct{ from, since time.Time }
	groups := map[kind][]*read{}
	var order []kind
	reads := make([]*read, len(ids))
	for i, id := range ids {
		c := s.series[id]
		ret := objs[i].Retention()
		r := &read{id: id, c: c, from: now.Truncate(time.Minute).Add(-time.Duration(ret) * time.Minute)}
		if c == nil || c.retention != ret || now.Sub(c.loadedTo) > reloadSpan/2 || now.Before(c.loadedTo) {
			r.c = &cached{series: slo.NewSeries(ret), retention: ret, recent: map[time.Time]slo.Counts{}}
		} else {
			r.from, r.since = keep, c.loadedTo.Add(-flushSkew)
		}
		k := kind{r.from, r.since}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
		reads[i] = r
	}
	to := now.Add(2 * time.Minute)
	for _, k := range order {
		for g := groups[k]; len(g) > 0; g = g[min(len(g), maxBatch):] {
			batch := g[:min(len(g), maxBatch)]
			if err := s.readBatch(ctx, q, batch, k.from, to, k.since, keep); err != nil {
				for _, r := range reads {
					delete(s.series, r.id)
				}
				return nil, err
			}
		}
	}
	out := make([]*slo.Series, len(reads))
	for i, r := range reads {
		for t := range r.c.recent {
			if t.Before(keep) {
				delete(r.c.recent, t)
			}
		}
		r.c.loadedTo = now
		s.series[r.id] = r.c
		out[i] = r.c.series
	}
	return out, nil
}

// readBatch reads the minutes of a batch of objectives that start in
// [from, to) and were added to at or after since, and adds them to each
// one's cache: whole minutes older than keep, and the change since the
// last read of the others.
func (s *Service) readBatch(ctx context.Context, q store.Querier, batch []*read, from, to, since, keep time.Time) error {
	byID := make(map[string]*read, len(batch))
	ids := make([]string, len(batch))
	for i, r := range batch {
		byID[r.id], ids[i] = r, r.id
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("read slo minutes: %w", err)
	}
	rows, err := store.QueryAll(ctx, q, "read slo minutes", qMinutesOf.SQL(q.Dialect()), func(row store.Row) (idMinute, error) {
		var m idMinute
		var err error
		m.Minute, err = scanMinuteAfter(row, &m.id)
		return m, err
	}, string(list), from.UnixMilli(), to.UnixMilli(), store.Millis(since))
	if err != nil {
		return err
	}
	for _, m := range rows {
		c := byID[m.id].c
		counts := m.Bucket.Counts
		if m.Start.Before(keep) { // a whole read's older minutes
			c.series.Add(m.Start, counts)
			continue
		}
		c.series.Add(m.Start, counts.Sub(c.recent[m.Start]))
		c.recent[m.Start] = counts
	}
	return nil
}

// idMinute is a minute of the objective id.
type idMinute struct {
	id string
	Minute
}

// qMinutesOf reads the minutes of a list of objectives (a JSON array of
// ids); every evaluation runs it, in its transaction.
var qMinutesOf = store.Hot(func(d store.Dialect) string {
	return `SELECT slo_id, minute, good, total, up_ms, down_ms, ` + latencyColumns + `
		FROM slo_minutes WHERE ` + d.InJSONArray("slo_id", "$1") + ` AND minute >= $2 AND minute < $3 AND updated_at >= $4
		ORDER BY slo_id, minute`
})

var (
	qDue = store.Hot(func(d store.Dialect) string {
		return `SELECT id, project_id, definition, state, source_error FROM slos WHERE next_eval_at <= $1 ORDER BY next_eval_at LIMIT $2` + d.SkipLocked()
	})
	qSaveState = store.Hot(func(store.Dialect) string {
		return `UPDATE slos SET state = $2, decision = $3, next_eval_at = $4 WHERE id = $1`
	})
	// qSaveStates saves many objectives' states with one statement, on
	// PostgreSQL, where each statement is a round trip: $1 is a JSON
	// array of {"id", "state", "decision"}.
	qSaveStates = store.Hot(func(d store.Dialect) string {
		if !d.MultiRow() {
			return ""
		}
		return `UPDATE slos SET state = j.state, decision = j.decision, next_eval_at = $2
			FROM json_to_recordset($1::json) AS j(id text, state text, decision text) WHERE slos.id = j.id`
	})
	qPostpone = store.Hot(func(store.Dialect) string {
		return `UPDATE slos SET next_eval_at = $2 WHERE id = $1`
	})
)

// ProcessDue evaluates up to limit objectives due by now: their counters
// go to slo.Evaluate, their alert changes to the alert stage, and their
// new states are saved, all in one transaction. The minutes of all of
// them are read together, and their alert changes handed to the stage as
// one batch. On PostgreSQL objectives another replica is evaluating are
// skipped, so none is evaluated twice. Each is next due EvalDelay after
// the next minute ends. It returns how many it evaluated.
func (s *Service) ProcessDue(ctx context.Context, now time.Time, limit int) (int, error) {
	n := 0
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		type due struct {
			id, projectID string
			def           slo.Definition
			state         slo.State
			sourceError   string
		}
		rows, err := store.QueryAll(ctx, tx, "scan due slos", qDue.SQL(tx.Dialect()), func(r store.Row) (due, error) {
			var d due
			var def, state string
			if err := r.Scan(&d.id, &d.projectID, &def, &state, &d.sourceError); err != nil {
				return d, fmt.Errorf("scan due slo: %w", err)
			}
			if err := json.Unmarshal([]byte(def), &d.def); err != nil {
				return d, fmt.Errorf("decode slo %s: %w", d.id, err)
			}
			if err := json.Unmarshal([]byte(state), &d.state); err != nil {
				return d, fmt.Errorf("decode slo %s state: %w", d.id, err)
			}
			return d, nil
		}, store.Millis(now), limit)
		if err != nil {
			return err
		}
		next := store.Millis(now.Truncate(time.Minute).Add(time.Minute + EvalDelay))
		var evals []*due
		var ids []string
		var objs []*slo.Objective
		for i := range rows {
			d := &rows[i]
			if d.def.Indicator.Prometheus != nil && d.sourceError != "" {
				// Its counts are not known: wait for the next fetch.
				if _, err := tx.ExecStmt(ctx, qPostpone, d.id, next); err != nil {
					return fmt.Errorf("save slo state: %w", err)
				}
				continue
			}
			o, err := slo.New(d.def)
			if err != nil {
				return fmt.Errorf("compile slo %s: %w", d.id, err)
			}
			evals, ids, objs = append(evals, d), append(ids, d.id), append(objs, o)
		}
		series, err := s.seriesAll(ctx, tx, ids, objs, now)
		if err != nil {
			return err
		}
		var changes []alerting.Change
		var saved []savedState
		for i, d := range evals {
			dec := objs[i].Evaluate(series[i], now)
			for _, a := range objs[i].Apply(&d.state, &dec) {
				a.ProjectID = d.projectID
				a.Details["slo_id"] = d.id
				if a.Status == nightjar.AlertFiring && s.Evidence != nil {
					for k, v := range s.Evidence(d.projectID, d.def, now.Add(-time.Hour), now) {
						a.Details[k] = v
					}
				}
				changes = append(changes, alerting.Change{Alert: &a, At: now})
			}
			saved = append(saved, savedState{ID: d.id, State: store.JSON(d.state), Decision: store.JSON(listedOf(&dec))})
		}
		if err := saveStates(ctx, tx, saved, next); err != nil {
			return err
		}
		if len(changes) > 0 {
			if err := s.stage.HandleAll(ctx, tx, changes); err != nil {
				return err
			}
		}
		n = len(rows)
		return nil
	})
	return n, err
}

// savedState is an objective's state and decision as ProcessDue saves
// them.
type savedState struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Decision string `json:"decision"`
}

// saveStates saves objectives' states, each next due at next: with one
// statement per maxBatch of them where the dialect writes many rows at
// once, else with a prepared statement per objective.
func saveStates(ctx context.Context, tx *store.Tx, states []savedState, next int64) error {
	if !tx.Dialect().MultiRow() {
		for _, st := range states {
			if _, err := tx.ExecStmt(ctx, qSaveState, st.ID, st.State, st.Decision, next); err != nil {
				return fmt.Errorf("save slo state: %w", err)
			}
		}
		return nil
	}
	for len(states) > 0 {
		n := min(len(states), maxBatch)
		list, err := json.Marshal(states[:n])
		if err != nil {
			return fmt.Errorf("save slo states: %w", err)
		}
		if _, err := tx.ExecStmt(ctx, qSaveStates, string(list), next); err != nil {
			return fmt.Errorf("save slo states: %w", err)
		}
		states = states[n:]
	}
	return nil
}

// listed is what ProcessDue stores of each decision for the lists: the
// figures they show, without the window bounds and the counts behind each
// rule. It is a third of the whole decision's JSON, which each minute's
// write of every objective would otherwise carry.
type listed struct {
	At        time.Time    `json:"at"`
	Good      uint64       `json:"good"`
	Total     uint64       `json:"total"`
	Remaining float64      `json:"remaining"`
	BurnRate  float64      `json:"burn_rate"`
	Rules     []listedRule `json:"rules"`
}

type listedRule struct {
	Severity  nightjar.Severity `json:"severity"`
	Long      time.Duration     `json:"long"`
	Short     time.Duration     `json:"short"`
	Threshold float64           `json:"threshold"`
	LongBurn  float64           `json:"long_burn"`
	ShortBurn float64           `json:"short_burn"`
	Firing    bool              `json:"firing,omitempty"`
	Held      string            `json:"held,omitempty"`
}

func listedOf(d *slo.Decision) listed {
	l := listed{At: d.At, Good: d.Budget.Counts.Good, Total: d.Budget.Counts.Total, Remaining: d.Budget.Remaining, BurnRate: d.BurnRate,
		Rules: make([]listedRule, len(d.Rules))}
	for i, r := range d.Rules {
		l.Rules[i] = listedRule{Severity: r.Severity, Long: r.LongWindow, Short: r.ShortWindow, Threshold: r.Threshold,
			LongBurn: r.LongBurn, ShortBurn: r.ShortBurn, Firing: r.Firing, Held: r.Held}
	}
	return l
}

// decision is the stored part of a decision as one, the rest zero.
func (l *listed) decision() *slo.Decision {
	d := &slo.Decision{At: l.At, BurnRate: l.BurnRate, Rules: make([]slo.RuleStatus, len(l.Rules)),
		Budget: slo.Budget{Counts: slo.Counts{Good: l.Good, Total: l.Total}, Remaining: l.Remaining}}
	for i, r := range l.Rules {
		d.Rules[i] = slo.RuleStatus{Severity: r.Severity, LongWindow: r.Long, ShortWindow: r.Short, Threshold: r.Threshold,
			LongBurn: r.LongBurn, ShortBurn: r.ShortBurn, Firing: r.Firing, Held: r.Held}
	}
	return d
}

// Status is an objective's figures now, for the API and the console.
type Status struct {
	// Firing is since when each severity has been firing.
	Firing   map[nightjar.Severity]time.Time `json:"firing"`
	Decision slo.Decision                    `json:"-"`
	// UserTime is the period's up and down user-time.
	UserTime uptime.UserTime `json:"user_time"`
	// Windowed is windowed user-uptime over the period, by window size.
	Windowed []uptime.Point `json:"-"`
	// Objective is the compiled definition and Series the counts Decision
	// was made from, so a page can ask the objective about earlier
	// instants (a budget burn-down) without reading the minutes again.
	Objective *slo.Objective `json:"-"`
	Series    *slo.Series    `json:"-"`
	// SourceError is why the last read of a Prometheus objective's
	// counts failed, by whichever replica made it, and SourceErrorAt
	// when; evaluation waits until a read succeeds.
	SourceError   string    `json:"source_error,omitempty"`
	SourceErrorAt time.Time `json:"-"`
}

// BadTimeRecent is how recent a request makes a customer active when
// counting the customers having a bad time now, for the API and the
// console alike.
const BadTimeRecent = 5 * time.Minute

// Status evaluates one of a project's objectives at now from everything
// stored, without changing anything: its budget, burn rates and rules,
// its firing state, and its user-uptime over the period.
func (s *Service) Status(ctx context.Context, projectID, id string, now time.Time) (*SLO, *Status, error) {
	o, err := s.Get(ctx, projectID, id)
	if err != nil {
		return nil, nil, err
	}
	obj, err := o.Objective()
	if err != nil {
		return nil, nil, fmt.Errorf("compile slo %s: %w", id, err)
	}
	var state, sourceErr string
	var errAt int64
	if err := s.db.QueryRow(ctx, `SELECT state, source_error, source_error_at FROM slos WHERE id = $1`, id).Scan(&state, &sourceErr, &errAt); err != nil {
		return nil, nil, store.ScanError(err, "slo")
	}
	var st slo.State
	if err := json.Unmarshal([]byte(state), &st); err != nil {
		return nil, nil, fmt.Errorf("decode slo %s state: %w", id, err)
	}
	ret := obj.Retention()
	from := now.Truncate(time.Minute).Add(-time.Duration(ret) * time.Minute)
	ms, err := minutes(ctx, s.db, id, from, now.Add(2*time.Minute), time.Time{})
	if err != nil {
		return nil, nil, err
	}
	series := slo.NewSeries(ret)
	for _, m := range ms {
		series.Add(m.Start, m.Bucket.Counts)
	}
	out := &Status{Firing: st.Firing, Decision: obj.Evaluate(series, now), Objective: obj, Series: series,
		SourceError: sourceErr, SourceErrorAt: sourceErrorAt(sourceErr, errAt)}
	if out.Firing == nil {
		out.Firing = map[nightjar.Severity]time.Time{}
	}
	start := out.Decision.Budget.Start.Truncate(time.Minute)
	end := now.Truncate(time.Minute)
	if end.After(start) {
		ut := make([]uptime.UserTime, int(end.Sub(start)/time.Minute))
		for _, m := range ms {
			if i := int(m.Start.Sub(start) / time.Minute); i >= 0 && i < len(ut) {
				ut[i] = uptime.UserTime{UpMs: m.Bucket.UpMs, DownMs: m.Bucket.DownMs}
				out.UserTime.UpMs += m.Bucket.UpMs
				out.UserTime.DownMs += m.Bucket.DownMs
			}
		}
		out.Windowed = uptime.Windowed(start, ut, uptime.Sizes(len(ut), 2))
	}
	return o, out, nil
}
