package slos

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar/promsli"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/store"
)

// Fetcher reads an objective's per-minute counts from Prometheus;
// *promsli.Client is one.
type Fetcher interface {
	Fetch(ctx context.Context, q slo.PromQuery, from, to time.Time) (*promsli.Minutes, error)
}

// PromLag is how long a minute must have ended before its Prometheus
// counts are read: one default scrape interval, so the samples at its end
// edge have landed.
const PromLag = time.Minute

// promRefetch is how many of the latest stored minutes each fetch reads
// again, to catch samples that landed late.
const promRefetch = 5 * time.Minute

// qSetMinute stores a minute read from Prometheus. Unlike a flush it
// replaces the minute's counts: a fetch reads the counters' whole
// increase, and a later fetch of the same minute supersedes it.
var qSetMinute = store.Hot(func(store.Dialect) string {
	zeros := strings.Repeat(", 0", 2+len(slo.Histogram{}))
	return `INSERT INTO slo_minutes (slo_id, minute, good, total, up_ms, down_ms, ` + latencyColumns + `, updated_at)
		SELECT $1, $2, $3, $4` + zeros + `, $5 WHERE EXISTS (SELECT 1 FROM slos WHERE id = $1)
		ON CONFLICT (slo_id, minute) DO UPDATE SET good = excluded.good, total = excluded.total, updated_at = excluded.updated_at`
})

var qDueProm = store.Hot(func(store.Dialect) string {
	return `SELECT id, definition, (SELECT MAX(minute) FROM slo_minutes WHERE slo_id = slos.id) FROM slos WHERE next_eval_at <= $1 ORDER BY id`
})

// FetchPrometheus reads the counts of every due objective whose indicator
// is Prometheus and stores them, outside any evaluation's transaction: the
// minutes that ended at least PromLag before now, from promRefetch before
// the latest stored minute (the objective's whole retention the first
// time). It returns the objectives whose fetch failed, by id, and stores
// each failure beside its objective (a good fetch clears it): until a later
// fetch of one succeeds, ProcessDue on any replica leaves its state alone
// (neither firing nor resolving on minutes it does not know), and Status
// and ListEvaluated report the error.
func (s *Service) FetchPrometheus(ctx context.Context, f Fetcher, now time.Time) (map[string]error, error) {
	type due struct {
		id   string
		def  slo.Definition
		last *int64
	}
	rows, err := store.QueryAll(ctx, s.db, "scan due prometheus slos", qDueProm.SQL(s.db.Dialect()), func(r store.Row) (due, error) {
		var d due
		var def string
		if err := r.Scan(&d.id, &def, &d.last); err != nil {
			return d, fmt.Errorf("scan due slo: %w", err)
		}
		if err := json.Unmarshal([]byte(def), &d.def); err != nil {
			return d, fmt.Errorf("decode slo %s: %w", d.id, err)
		}
		return d, nil
	}, store.Millis(now))
	if err != nil {
		return nil, err
	}
	failed := map[string]error{}
	for _, d := range rows {
		q := d.def.Indicator.Prometheus
		if q == nil {
			continue
		}
		o, err := slo.New(d.def)
		if err != nil {
			return failed, fmt.Errorf("compile slo %s: %w", d.id, err)
		}
		to := now.Add(-PromLag)
		from := to.Truncate(time.Minute).Add(-time.Duration(o.Retention()) * time.Minute)
		if d.last != nil {
			from = later(from, time.UnixMilli(*d.last).UTC().Add(-promRefetch))
		}
		got, err := f.Fetch(ctx, *q, from, to)
		if err == nil {
			err = s.setMinutes(ctx, d.id, got, now)
		}
		if ctx.Err() != nil {
			return failed, ctx.Err()
		}
		if err != nil {
			failed[d.id] = err
		}
		if err := s.setSourceError(ctx, d.id, err, now); err != nil {
			return failed, err
		}
	}
	return failed, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// setMinutes stores minutes read from Prometheus, replacing what was
// stored of them.
func (s *Service) setMinutes(ctx context.Context, id string, m *promsli.Minutes, now time.Time) error {
	if len(m.Counts) == 0 {
		return nil
	}
	return s.db.WithTx(ctx, func(tx *store.Tx) error {
		for i, c := range m.Counts {
			at := m.Start.Add(time.Duration(i) * time.Minute)
			if _, err := tx.ExecStmt(ctx, qSetMinute, id, store.Millis(at), int64(c.Good), int64(c.Total), store.Millis(now)); err != nil {
				return fmt.Errorf("set slo minute: %w", err)
			}
		}
		return nil
	})
}

// setSourceError stores why a fetch of an objective's counts failed, and
// when, or clears what was stored when fetchErr is nil.
func (s *Service) setSourceError(ctx context.Context, id string, fetchErr error, now time.Time) error {
	var err error
	if fetchErr != nil {
		_, err = s.db.Exec(ctx, `UPDATE slos SET source_error = $2, source_error_at = $3 WHERE id = $1`, id, fetchErr.Error(), store.Millis(now))
	} else {
		_, err = s.db.Exec(ctx, `UPDATE slos SET source_error = '', source_error_at = 0 WHERE id = $1 AND source_error <> ''`, id)
	}
	if err != nil {
		return fmt.Errorf("save slo %s source error: %w", id, err)
	}
	return nil
}

// sourceErrorAt is when a stored source error happened: the zero time
// when there is none.
func sourceErrorAt(msg string, at int64) time.Time {
	if msg == "" {
		return time.Time{}
	}
	return store.Time(at)
}
