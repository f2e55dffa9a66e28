package incidents

import (
	"context"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
)

// AlertRoute is the alert stage's route into incidents, placed before
// the default route. For a project that has configured none of services,
// routing rules and escalation policies it settles nothing, so the
// default route notifies the project's channels exactly as before.
// Otherwise it settles every change: it routes the alert to a policy and
// an urgency, groups it into an incident, records what silences and
// maintenance windows hold back, and starts the incident's escalation,
// all in the transaction of the alert change.
type AlertRoute struct {
	Store *Store
}

// qConfigured finds whether a project uses incidents at all. It runs for
// every alert change.
var qConfigured = store.Hot(func(store.Dialect) string {
	return `SELECT 1 FROM incident_services WHERE project_id = $1
		UNION ALL SELECT 1 FROM incident_routes WHERE project_id = $1
		UNION ALL SELECT 1 FROM escalation_policies WHERE project_id = $1 LIMIT 1`
})

// Route implements alerting.Route.
func (r AlertRoute) Route(ctx context.Context, tx *store.Tx, rec alerting.Recorded) ([]outbox.Message, bool, error) {
	a := rec.Alert
	configured, err := alerting.Remember(rec.Batch, "incidents configured "+a.ProjectID, func() (bool, error) {
		var one int
		err := tx.QueryRowStmt(ctx, qConfigured, a.ProjectID).Scan(&one)
		if nightjar.ErrorCode(store.ScanError(err, "configuration")) == nightjar.ENOTFOUND {
			return false, nil
		} else if err != nil {
			return false, fmt.Errorf("find incident configuration: %w", err)
		}
		return true, nil
	})
	if err != nil || !configured {
		return nil, false, err
	}
	settled, err := r.Store.InTx(tx).handleAlert(ctx, tx, a, rec.At)
	return nil, settled, err
}

// handleAlert groups one alert change into incidents and starts paging.
// It reports false for a resolve of an alert no incident holds (it fired
// before the project used incidents), which the default route tells the
// channels that heard it fire.
func (s *Store) handleAlert(ctx context.Context, tx *store.Tx, a *nightjar.Alert, now time.Time) (bool, error) {
	// Messages carry the alert as its source sent it; the incident
	// pages it as its origin's (see pagedAs).
	about := a
	a, evidence, err := pagedAs(ctx, tx, a)
	if err != nil {
		return false, err
	}
	cfg, fallback := incident.DefaultServiceConfig(), ""
	// Lock the service's row, so that two alerts of one service arriving
	// together on PostgreSQL take turns and the second sees the incident
	// the first opened, rather than opening another.
	svc, err := services.scan(tx.QueryRow(ctx, services.selectSQL()+` WHERE project_id = $1 AND name = $2`+tx.Dialect().ForNoKeyUpdate(), a.ProjectID, a.Service))
	err = store.ScanError(err, "service")
	switch {
	case err == nil:
		cfg = svc.Config
		if svc.Team != "" {
			if err := tx.QueryRow(ctx, `SELECT policy_id FROM incident_teams WHERE id = $1`, svc.Team).Scan(&fallback); err != nil {
				return false, fmt.Errorf("read team policy: %w", err)
			}
		}
	case nightjar.ErrorCode(err) != nightjar.ENOTFOUND:
		return false, err
	}
	routes, err := s.Routes(ctx, a.ProjectID)
	if err != nil {
		return false, err
	}
	d := incident.Decide(routes, a, fallback)

	found, err := findForAlert(ctx, tx, a)
	if err != nil {
		return false, err
	}
	out := incident.ApplyAlert(found, a, d, cfg, now)
	inc := out.Incident
	if inc == nil {
		return a.Status == nightjar.AlertFiring, nil
	}
	if evidence != "" {
		out.Entries = append(out.Entries, originEntry(a, evidence, now))
	}
	if sup, key, err := suppressed(ctx, tx, a.ProjectID, now, a); err != nil {
		return false, err
	} else if e, held := holdBack(inc, sup, key, now); held {
		out.Entries = append(out.Entries, e)
	}
	if err := s.apply(ctx, tx, out, about, now); err != nil {
		return false, err
	}
	return true, s.tick(ctx, tx, inc, about, now)
}

// suppressed decides whether the project's silences and maintenance
// windows hold back paging for alerts now: only when each of them is
// held back, and then until the first of those holds ends (when one alert
// is free, somebody hears of it). It returns that hold and its alert's
// key; nil when nothing holds back, or no alert is given.
func suppressed(ctx context.Context, tx *store.Tx, projectID string, now time.Time, alerts ...*nightjar.Alert) (*incident.Suppression, string, error) {
	if len(alerts) == 0 {
		return nil, "", nil
	}
	sils, err := store.QueryAll(ctx, tx, "list active silences", silences.selectSQL()+` WHERE project_id = $1 AND ends_at > $2 AND starts_at <= $2`,
		silences.scan, projectID, store.Millis(now))
	if err != nil {
		return nil, "", err
	}
	mws, err := maintenance.list(ctx, tx, projectID)
	if err != nil {
		return nil, "", err
	}
	var first *incident.Suppression
	key := ""
	for _, a := range alerts {
		sup := incident.Suppressed(a, now, deref(sils), deref(mws))
		if sup == nil {
			return nil, "", nil
		}
		if first == nil || sup.Until.Before(first.Until) {
			first, key = sup, a.DedupKey
		}
	}
	return first, key, nil
}

// holdBack moves an incident's first page to when sup ends, and returns
// the timeline entry saying so, when sup holds it back: the escalation is
// due at now and has paged nobody yet. Held back, not lost: the escalation
// starts when the suppression ends, unless the incident is over by then,
// and is looked at again then (see Store.due).
func holdBack(inc *incident.Incident, sup *incident.Suppression, key string, now time.Time) (incident.Entry, bool) {
	e := &inc.Escalation
	if sup == nil || e.Next.IsZero() || e.Next.After(now) || e.Fired != 0 {
		return incident.Entry{}, false
	}
	e.Since, e.Next = sup.Until, sup.Until
	return incident.Entry{At: now, Kind: EntrySuppressed, DedupKey: key, Text: describe(sup)}, true
}

// firingAlerts returns the incident's firing alerts as their sources last
// sent them, oldest in the incident first.
func firingAlerts(ctx context.Context, tx *store.Tx, inc *incident.Incident) ([]*nightjar.Alert, error) {
	var keys []string
	for _, r := range inc.Alerts {
		if r.Firing {
			keys = append(keys, r.DedupKey)
		}
	}
	return alerting.Alerts(ctx, tx, inc.ProjectID, keys...)
}

// due runs the escalation of an incident the escalation module found due.
// A first page held back by a silence or a maintenance window is looked at
// again before it goes: when the silence was extended, or another silence
// or window now covers every alert of the incident still firing, it is
// held back again, until the first of those ends.
func (s *Store) due(ctx context.Context, tx *store.Tx, inc *incident.Incident, now time.Time) error {
	if inc.Escalation.Fired == 0 && inc.Status == incident.Triggered && inc.Urgency != nightjar.SeverityInfo {
		firing, err := firingAlerts(ctx, tx, inc)
		if err != nil {
			return err
		}
		for i, a := range firing {
			if firing[i], _, err = pagedAs(ctx, tx, a); err != nil {
				return err
			}
		}
		sup, key, err := suppressed(ctx, tx, inc.ProjectID, now, firing...)
		if err != nil {
			return err
		}
		if e, held := holdBack(inc, sup, key, now); held {
			return s.apply(ctx, tx, incident.Outcome{Incident: inc, Entries: []incident.Entry{e}}, nil, now)
		}
	}
	return s.tick(ctx, tx, inc, nil, now)
}

func deref[T any](list []*T) []T {
	out := make([]T, len(list))
	for i, v := range list {
		out[i] = *v
	}
	return out
}
