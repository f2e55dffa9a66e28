package incidents

import (
	"context"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/store"
)

// SenderActor is the actor an acknowledgement from an alert's sender is
// recorded under: "integration:" and the id of the integration that
// brought the alert in, so the timeline says who acknowledged, and the
// console can tell it from a user.
func SenderActor(a *nightjar.Alert) string {
	return SenderActorPrefix + a.SourceID
}

// SenderActorPrefix starts the actor of a sender's acknowledgement.
const SenderActorPrefix = "integration:"

// Acknowledge implements alerting.Acknowledger: a sender's acknowledgement
// of an alert (a PagerDuty-style acknowledge event) acknowledges the open,
// triggered incident holding the alert, as a responder's would, which
// stops its escalation. The timeline names the sender as the actor; the
// sender does not become the incident's assignee. An alert no incident
// holds, or whose incident is acknowledged or resolved already, changes
// nothing.
func (r AlertRoute) Acknowledge(ctx context.Context, tx *store.Tx, a *nightjar.Alert) error {
	holder, err := alertHolder(ctx, tx, a)
	if err != nil || len(holder) == 0 {
		return err
	}
	inc := holder[0]
	if inc.Status != incident.Triggered {
		return nil
	}
	if err := loadAlerts(ctx, tx, inc); err != nil {
		return err
	}
	now, assignee := a.AcknowledgedAt, inc.Assignee
	out, err := incident.Acknowledge(inc, SenderActor(a), now)
	if err != nil {
		return err
	}
	inc.Assignee = assignee
	for i := range out.Entries {
		if out.Entries[i].Kind != incident.EntryAcknowledged {
			continue
		}
		out.Entries[i].Text = "Acknowledged by its sender (" + a.Source + " integration " + a.SourceID + "), for alert: " + a.Summary
	}
	out.Incident = inc
	if err := cancelPages(ctx, tx, inc, now); err != nil {
		return err
	}
	return r.Store.InTx(tx).apply(ctx, tx, out, a, now)
}

var _ alerting.Acknowledger = AlertRoute{}
