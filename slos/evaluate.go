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

// seriesFor brings an objective's cached series up to now. The first read
// (and one after a pause longer than half the reload span, as when another
// replica evaluated the objective meanwhile) reads every minute the
// objective keeps; later ones only the recent minutes flushed since the
// last read. A flush that commits more than flushSkew after it was stamped
// and after a read is missed until the series is read whole again.
func (s *Service) seriesFor(ctx context.Context, q store.Querier, id string, o *slo.Objective, now time.Time) (*slo.Series, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.series[id]
	ret := o.Retention()
	reloadSpan := s.reloadSpan()
	keep := now.Truncate(time.Minute).Add(-reloadSpan)
	from, since := now.Truncate(time.Minute).Add(-time.Duration(ret)*time.Minute), time.Time{}
	if c == nil || c.retention != ret || now.Sub(c.loadedTo) > reloadSpan/2 || now.Before(c.loadedTo) {
		c = &cached{series: slo.NewSeries(ret), retention: ret, recent: map[time.Time]slo.Counts{}}
	} else {
		from, since = keep, c.loadedTo.Add(-flushSkew)
	}
	ms, err := minutes(ctx, q, id, from, now.Add(2*time.Minute), since)
	if err != nil {
		delete(s.series, id)
		return nil, err
	}
	for _, m := range ms {
		counts := m.Bucket.Counts
		if m.Start.Before(keep) { // a whole read's older minutes
			c.series.Add(m.Start, counts)
			continue
		}
		c.series.Add(m.Start, counts.Sub(c.recent[m.Start]))
		c.recent[m.Start] = counts
	}
	for t := range c.recent {
		if t.Before(keep) {
			delete(c.recent, t)
		}
	}
	c.loadedTo = now
	s.series[id] = c
	return c.series, nil
}

var qDue = store.Hot(func(d store.Dialect) string {
	return `SELECT id, project_id, definition, state, source_error FROM slos WHERE next_eval_at <= $1 ORDER BY next_eval_at LIMIT $2` + d.SkipLocked()
})

// ProcessDue evaluates up to limit objectives due by now: each one's
// counters go to slo.Evaluate, its alert changes to the alert stage, and
// its new state is saved, all in one transaction. On PostgreSQL objectives
// another replica is evaluating are skipped, so none is evaluated twice.
// Each is next due EvalDelay after the next minute ends. It returns how
// many it evaluated.
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
		next := now.Truncate(time.Minute).Add(time.Minute + EvalDelay)
		for _, d := range rows {
			if d.def.Indicator.Prometheus != nil && d.sourceError != "" {
				// Its counts are not known: wait for the next fetch.
				if _, err := tx.Exec(ctx, `UPDATE slos SET next_eval_at = $2 WHERE id = $1`, d.id, store.Millis(next)); err != nil {
					return fmt.Errorf("save slo state: %w", err)
				}
				continue
			}
			dec, err := s.evaluate(ctx, tx, d.id, d.projectID, d.def, &d.state, now)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE slos SET state = $2, decision = $3, next_eval_at = $4 WHERE id = $1`,
				d.id, store.JSON(d.state), store.JSON(listedOf(dec)), store.Millis(next)); err != nil {
				return fmt.Errorf("save slo state: %w", err)
			}
		}
		n = len(rows)
		return nil
	})
	return n, err
}

// evaluate decides one objective, hands its alert changes to the stage
// and returns the decision.
func (s *Service) evaluate(ctx context.Context, tx *store.Tx, id, projectID string, def slo.Definition, state *slo.State, now time.Time) (*slo.Decision, error) {
	o, err := slo.New(def)
	if err != nil {
		return nil, fmt.Errorf("compile slo %s: %w", id, err)
	}
	series, err := s.seriesFor(ctx, tx, id, o, now)
	if err != nil {
		return nil, err
	}
	d := o.Evaluate(series, now)
	for _, a := range o.Apply(state, &d) {
		a.ProjectID = projectID
		a.Details["slo_id"] = id
		if a.Status == nightjar.AlertFiring && s.Evidence != nil {
			for k, v := range s.Evidence(projectID, def, now.Add(-time.Hour), now) {
				a.Details[k] = v
			}
		}
		if err := s.stage.Handle(ctx, tx, alerting.Change{Alert: &a, At: now}); err != nil {
			return nil, err
		}
	}
	return &d, nil
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
