// Package incident is the incident stage of Nightjar's data flow (signals →
// evaluation → alerts → incidents → delivery): the decisions that turn
// alerts into incidents and incidents into pages. It groups a service's
// alerts into one incident, routes alerts to an escalation policy and an
// urgency, tells whether a silence or a maintenance window suppresses an
// alert, walks an escalation policy's steps on a timer, keeps every
// incident's timeline and drafts its postmortem.
//
// Like heartbeat, the package is pure: state in, time passed in, an
// Outcome out, no I/O and no clock of its own. Whoever stores incidents
// applies an Outcome (the changed incident, its timeline entries and the
// notices to send) in one transaction, and runs Tick for incidents whose
// Escalation.Next has come.
package incident

import (
	"fmt"
	"slices"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// Status is where an incident stands. An incident starts triggered, is
// acknowledged by the person working on it and is resolved when over; a
// resolved incident whose alert fires again within its service's grouping
// window is triggered again.
type Status string

// Incident statuses.
const (
	Triggered    Status = "triggered"
	Acknowledged Status = "acknowledged"
	Resolved     Status = "resolved"
)

// Incident is one piece of trouble that people respond to: the alerts of
// one service that arrived together, who is working on it, and how far its
// escalation has gone.
type Incident struct {
	// ID and Number are given by the store when it first saves the
	// incident; Number counts a project's incidents from 1, for people.
	ID        string
	ProjectID string
	Number    int64
	Title     string
	Service   string
	// Urgency is page, ticket or info: only page wakes a human, ticket
	// tells the policy's channels during working hours, info is recorded
	// and tells nobody.
	Urgency nightjar.Severity
	Status  Status
	// Policy is the escalation policy routing chose, or "" for none.
	Policy    string
	Assignee  string
	Commander string
	// Alerts are the incident's alerts in the order they joined it.
	Alerts     []AlertRef
	CreatedAt  time.Time
	AckedAt    time.Time
	ResolvedAt time.Time
	Escalation Escalation
	// Responders are the users paged or told about the incident so far,
	// in the order they were first told, so that an acknowledgement or a
	// resolution reaches everyone who was woken. Channels are the
	// channels told, likewise.
	Responders []string
	Channels   []string
}

// AlertRef is one of an incident's alerts as the incident remembers it.
type AlertRef struct {
	DedupKey string
	Summary  string
	Severity nightjar.Severity
	Firing   bool
	// FiredAt is when the alert last started firing, by its source's
	// clock where the source gave one; ResolvedAt when it last resolved.
	FiredAt    time.Time
	ResolvedAt time.Time
}

// Escalation is where an incident's escalation policy stands. Step
// firings are numbered from 0 across the policy's rounds; firing n is due
// at Since plus the delays of the steps before it (see Policy.DueAfter).
type Escalation struct {
	// Since is when the policy's first step counts from: the incident's
	// creation, a re-trigger or a raise to page urgency, moved back by a
	// manual escalation so that the next step is due at once.
	Since time.Time
	// Fired is how many step firings have been sent since Since.
	Fired int
	// Next is when Tick has work to do for the incident; zero when
	// nothing more is due (acknowledged, resolved, policy exhausted).
	Next time.Time
}

// ServiceConfig is how a service groups its alerts into incidents.
type ServiceConfig struct {
	// GroupWindow is how long after an incident opens the service's new
	// alerts join it instead of opening another incident, and how long
	// after a resolution the incident's own alert firing again triggers
	// it again instead of opening a new one. Zero never groups.
	GroupWindow time.Duration
	// AutoResolve resolves an open incident when all its alerts have
	// resolved. Without it only a person resolves incidents.
	AutoResolve bool
}

// MaxGroupWindow is the longest grouping window a service may have.
const MaxGroupWindow = 24 * time.Hour

// DefaultServiceConfig groups a service's alerts for ten minutes, long
// enough for one failure's alerts to arrive and short enough that later
// trouble pages again, and resolves incidents when their alerts resolve,
// as PagerDuty's event integrations do.
func DefaultServiceConfig() ServiceConfig {
	return ServiceConfig{GroupWindow: 10 * time.Minute, AutoResolve: true}
}

// Validate returns a field error when the configuration is out of range.
func (c ServiceConfig) Validate() error {
	if c.GroupWindow < 0 || c.GroupWindow > MaxGroupWindow {
		return nightjar.FieldError("group_window", "must be between 0 and %d seconds", int(MaxGroupWindow.Seconds()))
	}
	return nil
}

// EntryKind says what a timeline entry records.
type EntryKind string

// Timeline entry kinds.
const (
	EntryTriggered       EntryKind = "triggered"
	EntryAlertJoined     EntryKind = "alert_joined"
	EntryAlertRefired    EntryKind = "alert_refired"
	EntryAlertResolved   EntryKind = "alert_resolved"
	EntryRetriggered     EntryKind = "retriggered"
	EntryAcknowledged    EntryKind = "acknowledged"
	EntryResolved        EntryKind = "resolved"
	EntryEscalated       EntryKind = "escalated"
	EntryUrgencyRaised   EntryKind = "urgency_raised"
	EntryPaged           EntryKind = "paged"
	EntryNotified        EntryKind = "notified"
	EntryNobodyPaged     EntryKind = "nobody_paged"
	EntryPolicyExhausted EntryKind = "policy_exhausted"
	EntryAssigned        EntryKind = "assigned"
	EntryCommander       EntryKind = "commander"
)

// Entry is one line of an incident's timeline. Actor is the user who
// acted, or "" when Nightjar did.
type Entry struct {
	At       time.Time
	Kind     EntryKind
	Actor    string
	Text     string
	DedupKey string
	// Users and Channels are who a paged or notified entry reached.
	Users    []string
	Channels []string
}

// Event says why a notice is sent.
type Event string

// Notice events. A page wakes people; the others tell those already told.
const (
	EventPage         Event = "page"
	EventTicket       Event = "ticket"
	EventAcknowledged Event = "acknowledged"
	EventResolved     Event = "resolved"
)

// Notice is a message that must be sent because of an outcome: the
// delivery stage writes one outbox message per user (through their
// contact methods) and per channel.
type Notice struct {
	Event    Event
	Users    []string
	Channels []string
	// Step and Round say which escalation step firing sent a page, from
	// 1; zero for other notices.
	Step  int
	Round int
	// Key is unique among the incident's notices, for idempotency keys.
	Key string
}

// Outcome is what one event did. The incident has already been changed in
// place; Outcome carries what must be recorded and sent beside it.
type Outcome struct {
	// Incident is the incident changed or opened, nil when the event
	// changed none (a duplicate alert, a resolve of an unknown one).
	Incident *Incident
	// Opened is set when Incident is new and must be inserted.
	Opened  bool
	Entries []Entry
	Notices []Notice
}

// Open reports whether the incident still needs someone.
func (inc *Incident) Open() bool { return inc.Status == Triggered || inc.Status == Acknowledged }

// Alert returns the incident's reference to the alert with the dedup key,
// or nil.
func (inc *Incident) Alert(dedupKey string) *AlertRef {
	for i := range inc.Alerts {
		if inc.Alerts[i].DedupKey == dedupKey {
			return &inc.Alerts[i]
		}
	}
	return nil
}

// firing reports whether any of the incident's alerts is firing.
func (inc *Incident) firing() bool {
	return slices.ContainsFunc(inc.Alerts, func(r AlertRef) bool { return r.Firing })
}

// label names the incident for people: "#12", or its title while the
// store has not numbered it yet.
func (inc *Incident) label() string {
	if inc.Number > 0 {
		return fmt.Sprintf("#%d", inc.Number)
	}
	return fmt.Sprintf("%q", inc.Title)
}

func (o *Outcome) add(inc *Incident, e Entry) {
	o.Incident = inc
	o.Entries = append(o.Entries, e)
}

// Acknowledge records that actor is working on the incident, which stops
// its escalation. Only a triggered incident can be acknowledged; the
// person who acknowledges an unassigned incident becomes its assignee.
func Acknowledge(inc *Incident, actor string, now time.Time) (Outcome, error) {
	var out Outcome
	if inc.Status != Triggered {
		return out, nightjar.Errorf(nightjar.ECONFLICT, "incident %s is %s; only a triggered incident can be acknowledged", inc.label(), inc.Status)
	}
	inc.Status, inc.AckedAt = Acknowledged, now
	inc.Escalation.Next = time.Time{}
	if inc.Assignee == "" && actor != "" {
		inc.Assignee = actor
	}
	out.add(inc, Entry{At: now, Kind: EntryAcknowledged, Actor: actor, Text: "Acknowledged by " + who(actor)})
	out.tellResponders(inc, EventAcknowledged, actor, now)
	return out, nil
}

// Resolve records that the incident is over, whether or not it was
// acknowledged. Its alerts keep their own state: one that is still firing
// and resolves later changes nothing, one that resolves and fires again
// within the grouping window triggers the incident again.
func Resolve(inc *Incident, actor string, now time.Time) (Outcome, error) {
	var out Outcome
	if !inc.Open() {
		return out, nightjar.Errorf(nightjar.ECONFLICT, "incident %s is already resolved", inc.label())
	}
	resolve(inc, &out, actor, now, "Resolved by "+who(actor))
	return out, nil
}

// resolve makes the incident resolved and tells its responders.
func resolve(inc *Incident, out *Outcome, actor string, now time.Time, text string) {
	inc.Status, inc.ResolvedAt = Resolved, now
	inc.Escalation.Next = time.Time{}
	out.add(inc, Entry{At: now, Kind: EntryResolved, Actor: actor, Text: text})
	out.tellResponders(inc, EventResolved, actor, now)
}

// tellResponders sends an acknowledgement or resolution to everyone told
// about the incident so far but the person who did it. Info incidents
// tell nobody anything.
func (o *Outcome) tellResponders(inc *Incident, ev Event, actor string, now time.Time) {
	if inc.Urgency == nightjar.SeverityInfo {
		return
	}
	users := slices.DeleteFunc(slices.Clone(inc.Responders), func(u string) bool { return u == actor })
	if len(users) == 0 && len(inc.Channels) == 0 {
		return
	}
	o.Notices = append(o.Notices, Notice{Event: ev, Users: users, Channels: slices.Clone(inc.Channels),
		Key: fmt.Sprintf("%s/%d", ev, now.UnixNano())})
}

// Escalate is a person's request to page the next step of the incident's
// policy now, without waiting for its delay; the steps after it keep
// their delays from now. An acknowledged incident becomes triggered
// again, so that the next step's people must acknowledge it themselves.
// An incident of ticket or info urgency is raised to page urgency and its
// policy starts from the first step. The page itself is sent by the Tick
// that follows.
func Escalate(inc *Incident, p *Policy, actor string, now time.Time) (Outcome, error) {
	var out Outcome
	switch {
	case !inc.Open():
		return out, nightjar.Errorf(nightjar.ECONFLICT, "incident %s is resolved; resolved incidents are not escalated", inc.label())
	case p == nil || len(p.Steps) == 0:
		return out, nightjar.Errorf(nightjar.ECONFLICT, "incident %s has no escalation policy to escalate along", inc.label())
	}
	paging := inc.Urgency == nightjar.SeverityPage
	if paging && inc.Escalation.Fired >= p.Firings() {
		return out, nightjar.Errorf(nightjar.ECONFLICT, "incident %s has been through every step of policy %s", inc.label(), p.ID)
	}
	if inc.Status == Acknowledged {
		inc.Status, inc.AckedAt = Triggered, time.Time{}
	}
	if paging {
		inc.Escalation.Since = now.Add(-p.DueAfter(inc.Escalation.Fired))
		inc.Escalation.Next = now
	} else {
		raise(inc, &out, nightjar.SeverityPage, actor, now)
	}
	out.add(inc, Entry{At: now, Kind: EntryEscalated, Actor: actor, Text: "Escalated by " + who(actor)})
	return out, nil
}

// raise sets a more urgent urgency and restarts the escalation from the
// first step, since nobody has been told at the new urgency yet.
func raise(inc *Incident, out *Outcome, to nightjar.Severity, actor string, now time.Time) {
	from := inc.Urgency
	inc.Urgency = to
	inc.Escalation = Escalation{Since: now}
	if inc.Status == Triggered {
		inc.Escalation.Next = now
	}
	out.add(inc, Entry{At: now, Kind: EntryUrgencyRaised, Actor: actor, Text: fmt.Sprintf("Urgency raised from %s to %s", from, to)})
}

// Assign makes user the incident's assignee ("" unassigns).
func Assign(inc *Incident, user, actor string, now time.Time) Outcome {
	var out Outcome
	inc.Assignee = user
	out.add(inc, Entry{At: now, Kind: EntryAssigned, Actor: actor, Users: nonEmpty(user), Text: "Assigned to " + orNobody(user) + " by " + who(actor)})
	return out
}

// SetCommander makes user the incident's commander ("" for none): the
// person who coordinates the response while others fix things.
func SetCommander(inc *Incident, user, actor string, now time.Time) Outcome {
	var out Outcome
	inc.Commander = user
	out.add(inc, Entry{At: now, Kind: EntryCommander, Actor: actor, Users: nonEmpty(user), Text: "Commander set to " + orNobody(user) + " by " + who(actor)})
	return out
}

// who names an actor in timeline text.
func who(actor string) string {
	if actor == "" {
		return "Nightjar"
	}
	return actor
}

func orNobody(user string) string {
	if user == "" {
		return "nobody"
	}
	return user
}

func nonEmpty(user string) []string {
	if user == "" {
		return nil
	}
	return []string{user}
}

// urgencyRank orders urgencies; an unknown or empty one counts as page, so
// that an alert nobody classified reaches a person.
func urgencyRank(s nightjar.Severity) int {
	switch s {
	case nightjar.SeverityInfo:
		return 0
	case nightjar.SeverityTicket:
		return 1
	}
	return 2
}

// normalUrgency returns s, or page for an unknown or empty urgency.
func normalUrgency(s nightjar.Severity) nightjar.Severity {
	switch s {
	case nightjar.SeverityInfo, nightjar.SeverityTicket:
		return s
	}
	return nightjar.SeverityPage
}
