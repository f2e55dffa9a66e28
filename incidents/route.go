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
	if sup, err := s.suppressed(ctx, tx, a, now); err != nil {
		return false, err
	} else if sup != nil && !inc.Escalation.Next.IsZero() && !inc.Escalation.Next.After(now) && inc.Escalation.Fired == 0 {
		// Held back, not lost: the escalation starts when the
		// suppression ends, unless the incident is over by then.
		inc.Escalation.Since, inc.Escalation.Next = sup.Until, sup.Until
		out.Entries = append(out.Entries, incident.Entry{At: now, Kind: EntrySuppressed, DedupKey: a.DedupKey, Text: describe(sup)})
	}
	if err := s.apply(ctx, tx, out, about, now); err != nil {
		return false, err
	}
	return true, s.tick(ctx, tx, inc, about, now)
}

// suppressed decides whether a silence or maintenance window of the
// project holds the alert back now.
func (s *Store) suppressed(ctx context.Context, tx *store.Tx, a *nightjar.Alert, now time.Time) (*incident.Suppression, error) {
	sils, err := store.QueryAll(ctx, tx, "list active silences", silences.selectSQL()+` WHERE project_id = $1 AND ends_at > $2 AND starts_at <= $2`,
		silences.scan, a.ProjectID, store.Millis(now))
	if err != nil {
		return nil, err
	}
	mws, err := maintenance.list(ctx, tx, a.ProjectID)
	if err != nil {
		return nil, err
	}
	return incident.Suppressed(a, now, deref(sils), deref(mws)), nil
}

func deref[T any](list []*T) []T {
	out := make([]T, len(list))
	for i, v := range list {
		out[i] = *v
	}
	return out
}
