package incidents

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/oncall"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
)

// This file is where the incident package's outcomes are stored and its
// notices become outbox messages: one per channel, and one per contact
// method of each person as their notification rules say.

// events maps the incident package's notice events to notify's.
var events = map[incident.Event]string{
	incident.EventPage:         notify.EventIncidentPage,
	incident.EventTicket:       notify.EventIncidentTicket,
	incident.EventAcknowledged: notify.EventIncidentAcknowledged,
	incident.EventResolved:     notify.EventIncidentResolved,
}

// apply stores an outcome in tx: the incident, its timeline entries, and
// the messages for its notices. about is the alert the messages carry; nil
// takes the incident's first firing alert.
func (s *Store) apply(ctx context.Context, tx *store.Tx, out incident.Outcome, about *nightjar.Alert, now time.Time) error {
	inc := out.Incident
	if inc == nil {
		return nil
	}
	if err := saveIncident(ctx, tx, inc, out.Opened); err != nil {
		return err
	}
	for _, e := range out.Entries {
		if err := addEntry(ctx, tx, inc.ID, e, ""); err != nil {
			return err
		}
	}
	if len(out.Notices) == 0 {
		return nil
	}
	if about == nil {
		var err error
		if about, err = incidentAlert(ctx, tx, inc); err != nil {
			return err
		}
	}
	for _, n := range out.Notices {
		if err := s.send(ctx, tx, inc, n, about, now); err != nil {
			return err
		}
	}
	return nil
}

// incidentAlert is the alert an incident's messages carry when no alert
// change caused them (a later step paged on its timer, an acknowledgement):
// its first alert still firing, or its first, as its source last sent it,
// with the labels, details and links (a runbook, the graph that fired it)
// a responder opens first. Once the incident is over the alert says so.
// An incident whose alert has no record carries one made from the
// incident.
func incidentAlert(ctx context.Context, tx *store.Tx, inc *incident.Incident) (*nightjar.Alert, error) {
	var ref *incident.AlertRef
	for i := range inc.Alerts {
		if r := &inc.Alerts[i]; ref == nil || (r.Firing && !ref.Firing) {
			ref = r
		}
	}
	a := &nightjar.Alert{ProjectID: inc.ProjectID, Service: inc.Service, Severity: inc.Urgency, Summary: inc.Title,
		Status: nightjar.AlertFiring, StartsAt: inc.CreatedAt, Source: "incident", DedupKey: "incident:" + inc.ID}
	if ref != nil {
		found, err := alerting.Alerts(ctx, tx, inc.ProjectID, ref.DedupKey)
		if err != nil {
			return nil, err
		}
		if len(found) == 1 {
			a = found[0]
		} else {
			a.DedupKey, a.Summary, a.StartsAt = ref.DedupKey, ref.Summary, ref.FiredAt
		}
	}
	if !inc.Open() {
		a.Status, a.EndsAt = nightjar.AlertResolved, inc.ResolvedAt
	}
	return a, nil
}

// target is one contact method to use for a person, and when.
type target struct {
	method *incident.ContactMethod
	delay  time.Duration
}

// targets returns the contact methods to page a person through: their
// notification rules' verified methods, each with its delay, or every
// verified method at once when they have no rules. For news that is not a
// page (acknowledged, resolved) each method is used once, at once.
func targets(ctx context.Context, tx *store.Tx, user string, page bool) ([]target, error) {
	methods, err := store.QueryAll(ctx, tx, "list contact methods", `SELECT `+methodColumns+` FROM contact_methods
		WHERE user_id = $1 AND verified = $2 ORDER BY created_at, id`, scanMethod, user, true)
	if err != nil {
		return nil, err
	}
	rules, err := store.QueryAll(ctx, tx, "list notification rules", `SELECT id, user_id, method_id, delay FROM notification_rules
		WHERE user_id = $1 ORDER BY delay, created_at, id`, scanRule, user)
	if err != nil {
		return nil, err
	}
	byID := map[string]*incident.ContactMethod{}
	for _, m := range methods {
		byID[m.ID] = m
	}
	var out []target
	used := map[string]bool{}
	for _, r := range rules {
		m := byID[r.Method]
		if m == nil || (!page && used[m.ID]) {
			continue
		}
		used[m.ID] = true
		t := target{method: m, delay: r.Delay}
		if !page {
			t.delay = 0
		}
		out = append(out, t)
	}
	if len(rules) == 0 {
		for _, m := range methods {
			out = append(out, target{method: m})
		}
	}
	return out, nil
}

// send writes the messages of one notice, and a timeline entry for each.
func (s *Store) send(ctx context.Context, tx *store.Tx, inc *incident.Incident, n incident.Notice, about *nightjar.Alert, now time.Time) error {
	event := events[n.Event]
	if event == "" {
		return fmt.Errorf("notice event %q has no notification event", n.Event)
	}
	runbook := ""
	if svc, err := s.InTx(tx).ServiceByName(ctx, inc.ProjectID, inc.Service); err == nil {
		runbook = svc.RunbookURL
	} else if nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
		return err
	}
	recent, err := s.InTx(tx).RecentChanges(ctx, inc.ProjectID, inc.Service, inc.CreatedAt)
	if err != nil {
		return err
	}
	var changes []nightjar.ChangeRef
	for _, c := range recent {
		changes = append(changes, nightjar.ChangeRef{At: c.At, Summary: c.Summary, Source: c.Source, Links: c.Links})
	}
	key, err := s.linkKey(ctx, tx)
	if err != nil {
		return err
	}
	ttl := s.LinkTTL
	if ttl <= 0 {
		ttl = DefaultLinkTTL
	}
	ref := func(user string) *nightjar.IncidentRef {
		r := &nightjar.IncidentRef{ID: inc.ID, Number: inc.Number, Title: inc.Title, Service: inc.Service, Urgency: inc.Urgency,
			Status: string(inc.Status), Since: inc.CreatedAt, Step: n.Step, Round: n.Round, RunbookURL: runbook, Changes: changes}
		link := Link{ProjectID: inc.ProjectID, IncidentID: inc.ID, User: user, Expires: now.Add(ttl).Truncate(time.Second)}
		if inc.Status == incident.Triggered {
			link.Action = ActionAcknowledge
			r.AckToken = sign(key, link)
		}
		if inc.Open() {
			link.Action = ActionResolve
			r.ResolveToken = sign(key, link)
		}
		return r
	}
	prefix := "incident/" + inc.ID + "/" + n.Key + "/"
	write := func(m outbox.Message, e incident.Entry) error {
		m.ProjectID, m.Event, m.Alert = inc.ProjectID, event, *about
		ids, err := outbox.Enqueue(ctx, tx, now, m)
		if err != nil {
			return err
		}
		e.At, e.Kind = now, EntryNotification
		return addEntry(ctx, tx, inc.ID, e, ids[0])
	}
	for _, u := range n.Users {
		ts, err := targets(ctx, tx, u, n.Event == incident.EventPage)
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			if err := addEntry(ctx, tx, inc.ID, incident.Entry{At: now, Kind: incident.EntryNobodyPaged, Users: []string{u},
				Text: u + " has no verified contact method, so was not told"}, ""); err != nil {
				return err
			}
			continue
		}
		for _, t := range ts {
			text := fmt.Sprintf("%s to %s by %s", n.Event, u, t.method.Kind)
			if t.delay > 0 {
				text += fmt.Sprintf(" after %s, by their notification rule", t.delay)
			}
			if err := write(outbox.Message{To: outbox.Destination{Kind: outbox.ToContact, ID: t.method.ID},
				IdempotencyKey: prefix + "u/" + u + "/" + t.method.ID + "/" + t.delay.String(), Incident: ref(u), NotBefore: now.Add(t.delay)},
				incident.Entry{Users: []string{u}, Text: text}); err != nil {
				return err
			}
		}
	}
	for _, c := range n.Channels {
		if err := write(outbox.Message{To: outbox.Destination{Kind: outbox.ToChannel, ID: c}, IdempotencyKey: prefix + "c/" + c, Incident: ref("")},
			incident.Entry{Channels: []string{c}, Text: fmt.Sprintf("%s to channel %s", n.Event, c)}); err != nil {
			return err
		}
	}
	return nil
}

// cancelPages cancels the incident's pages that are still held back by
// notification rules, and says so in their timeline entries: once someone
// acknowledges, nobody else is woken.
func cancelPages(ctx context.Context, tx *store.Tx, inc *incident.Incident, now time.Time) error {
	const reason = "held back by a notification rule, and not sent once the incident was acknowledged or resolved"
	ids, err := outbox.Cancel(ctx, tx, inc.ProjectID, "incident/"+inc.ID+"/page/", reason, now)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := recordDelivery(ctx, tx, id, outbox.Result{Status: outbox.Cancelled, LastError: reason}); err != nil {
			return err
		}
	}
	return nil
}

// onCall loads the schedules a policy pages, compiled, as the OnCall that
// Tick asks. A schedule that is gone or no longer compiles has nobody on
// call, which Tick records.
func onCall(ctx context.Context, tx *store.Tx, projectID string, p *incident.Policy) (incident.OnCall, error) {
	compiled := map[string]*oncall.Schedule{}
	for _, st := range p.Steps {
		for _, t := range st.Targets {
			if t.Kind != incident.TargetSchedule || compiled[t.ID] != nil {
				continue
			}
			sch, err := schedules.get(ctx, tx, projectID, t.ID)
			if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, err
			}
			if c, err := sch.Compile(); err == nil {
				compiled[t.ID] = c
			}
		}
	}
	return incident.OnCallFunc(func(id string, t time.Time) []string {
		if c := compiled[id]; c != nil {
			return c.OnCallAt(t)
		}
		return nil
	}), nil
}

// policyOf loads an incident's policy, nil when it has none or the policy
// is gone (Tick records that nobody was paged).
func policyOf(ctx context.Context, tx *store.Tx, inc *incident.Incident) (*incident.Policy, error) {
	if inc.Policy == "" {
		return nil, nil
	}
	p, err := policies.get(ctx, tx, inc.ProjectID, inc.Policy)
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		return nil, nil
	}
	return p, err
}

// tick runs the incident's escalation as of now and stores what it sent.
func (s *Store) tick(ctx context.Context, tx *store.Tx, inc *incident.Incident, about *nightjar.Alert, now time.Time) error {
	if inc.Escalation.Next.IsZero() || now.Before(inc.Escalation.Next) {
		return nil
	}
	p, err := policyOf(ctx, tx, inc)
	if err != nil {
		return err
	}
	oc := incident.OnCall(incident.OnCallFunc(func(string, time.Time) []string { return nil }))
	if p != nil {
		if oc, err = onCall(ctx, tx, inc.ProjectID, p); err != nil {
			return err
		}
	}
	out := incident.Tick(inc, p, now, oc)
	out.Incident = inc
	return s.apply(ctx, tx, out, about, now)
}

// describe is a short text naming a suppression, for the timeline.
func describe(sup *incident.Suppression) string {
	return strings.TrimSpace(fmt.Sprintf("Paging held back until %s by %s %s %s", sup.Until.UTC().Format(time.RFC3339), sup.Kind, sup.ID, sup.Reason))
}
