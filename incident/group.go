package incident

import (
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// ApplyAlert decides what an alert change does to incidents: a firing
// alert joins, re-triggers or opens an incident, a resolved one may
// resolve its incident. found are the incidents the store looked up for
// the alert: every open incident of its project and service, and the
// newest incident (open or resolved) holding its dedup key; others are
// ignored. d is the routing decision for the alert (see Decide).
//
// The rules, in order, for a firing alert:
//
//  1. An alert that is already firing in an incident is a duplicate and
//     changes nothing: there is one open alert per project and dedup key.
//  2. An alert of an open incident that had resolved fires again in it.
//  3. An alert of a resolved incident firing again within the grouping
//     window after the resolution (the incident's or the alert's own,
//     whichever came later) triggers that incident again; later it opens
//     a new one.
//  4. Otherwise it joins the newest open incident of its service opened
//     within the grouping window, raising the incident's urgency if the
//     alert is more urgent.
//  5. Otherwise it opens a new incident with the decision's policy and
//     urgency.
//
// An acknowledged incident stays acknowledged when alerts join it or
// fire again in it: someone is working on it already. A resolved alert
// marks its incident's reference resolved, and resolves
// the incident when the service resolves incidents automatically and none
// of its alerts is firing any more.
func ApplyAlert(found []*Incident, a *nightjar.Alert, d Decision, cfg ServiceConfig, now time.Time) Outcome {
	var out Outcome
	holder := holderOf(found, a)
	if a.Status == nightjar.AlertResolved {
		if holder == nil {
			return out
		}
		ref := holder.Alert(a.DedupKey)
		if !ref.Firing {
			return out
		}
		ref.Firing, ref.ResolvedAt = false, now
		out.add(holder, Entry{At: now, Kind: EntryAlertResolved, DedupKey: a.DedupKey, Text: "Alert resolved: " + ref.Summary})
		if holder.Open() && cfg.AutoResolve && !holder.firing() {
			resolve(holder, &out, "", now, "Resolved automatically: all its alerts resolved")
		}
		return out
	}

	if holder != nil {
		ref := holder.Alert(a.DedupKey)
		switch {
		case ref.Firing:
			return out
		case holder.Open():
			refire(ref, a, now)
			out.add(holder, Entry{At: now, Kind: EntryAlertRefired, DedupKey: a.DedupKey, Text: "Alert fired again: " + ref.Summary})
			return out
		case cfg.GroupWindow > 0 && !now.After(latest(holder.ResolvedAt, ref.ResolvedAt).Add(cfg.GroupWindow)):
			refire(ref, a, now)
			retrigger(holder, &out, a, now)
			if u := normalUrgency(d.Urgency); urgencyRank(u) > urgencyRank(holder.Urgency) {
				raise(holder, &out, u, "", now)
			}
			return out
		}
	}

	if inc := groupTarget(found, a, cfg, now); inc != nil {
		inc.Alerts = append(inc.Alerts, newRef(a, now))
		out.add(inc, Entry{At: now, Kind: EntryAlertJoined, DedupKey: a.DedupKey, Text: "Alert joined: " + a.Summary})
		if u := normalUrgency(d.Urgency); urgencyRank(u) > urgencyRank(inc.Urgency) {
			raise(inc, &out, u, "", now)
		}
		return out
	}

	inc := &Incident{
		ProjectID: a.ProjectID,
		Title:     a.Summary,
		Service:   a.Service,
		Urgency:   normalUrgency(d.Urgency),
		Status:    Triggered,
		Policy:    d.Policy,
		Alerts:    []AlertRef{newRef(a, now)},
		CreatedAt: now,
	}
	inc.startEscalation(now)
	out.Opened = true
	out.add(inc, Entry{At: now, Kind: EntryTriggered, DedupKey: a.DedupKey,
		Text: fmt.Sprintf("Opened with %s urgency by alert: %s", inc.Urgency, a.Summary)})
	return out
}

// holderOf returns the incident among found that holds the alert's dedup
// key: the one where it fires, else the newest.
func holderOf(found []*Incident, a *nightjar.Alert) *Incident {
	var best *Incident
	for _, inc := range found {
		if inc.ProjectID != a.ProjectID {
			continue
		}
		ref := inc.Alert(a.DedupKey)
		switch {
		case ref == nil:
		case ref.Firing:
			return inc
		case best == nil || inc.CreatedAt.After(best.CreatedAt):
			best = inc
		}
	}
	return best
}

// groupTarget returns the newest open incident of the alert's project and
// service opened within the grouping window, or nil.
func groupTarget(found []*Incident, a *nightjar.Alert, cfg ServiceConfig, now time.Time) *Incident {
	if cfg.GroupWindow <= 0 {
		return nil
	}
	var best *Incident
	for _, inc := range found {
		if inc.ProjectID != a.ProjectID || inc.Service != a.Service || !inc.Open() ||
			now.After(inc.CreatedAt.Add(cfg.GroupWindow)) {
			continue
		}
		if best == nil || inc.CreatedAt.After(best.CreatedAt) {
			best = inc
		}
	}
	return best
}

// retrigger makes a resolved incident triggered again and restarts its
// escalation from the first step.
func retrigger(inc *Incident, out *Outcome, a *nightjar.Alert, now time.Time) {
	inc.Status, inc.AckedAt, inc.ResolvedAt = Triggered, time.Time{}, time.Time{}
	inc.startEscalation(now)
	out.add(inc, Entry{At: now, Kind: EntryRetriggered, DedupKey: a.DedupKey, Text: "Triggered again: its alert fired again: " + a.Summary})
}

// startEscalation starts the policy from its first step now, for urgencies
// that notify anyone.
func (inc *Incident) startEscalation(now time.Time) {
	inc.Escalation = Escalation{Since: now}
	if inc.Urgency != nightjar.SeverityInfo {
		inc.Escalation.Next = now
	}
}

func newRef(a *nightjar.Alert, now time.Time) AlertRef {
	r := AlertRef{DedupKey: a.DedupKey}
	refire(&r, a, now)
	return r
}

// refire marks the reference firing with the alert's latest summary and
// start.
func refire(r *AlertRef, a *nightjar.Alert, now time.Time) {
	r.Summary, r.Severity, r.Firing = a.Summary, normalUrgency(a.Severity), true
	r.FiredAt, r.ResolvedAt = now, time.Time{}
	if !a.StartsAt.IsZero() && a.StartsAt.Before(now) {
		r.FiredAt = a.StartsAt
	}
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
