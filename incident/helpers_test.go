package incident_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zone expectations must not depend on the machine's zoneinfo

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
)

// base is the instant every timeline starts from: Monday 5 January 2026,
// 10:00 UTC (11:00 in Berlin), far from any daylight-saving change.
var base = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

const (
	s = time.Second
	m = time.Minute
	h = time.Hour
)

// world is one project's incident stage as the alert stage and the engine
// drive it: alerts are suppressed, routed and grouped, transitions are
// applied, and after every event each incident's escalation is ticked at
// the same instant, as the engine would. It keeps what a store would:
// incidents (numbered in order) and their timelines.
type world struct {
	t        *testing.T
	clock    *nightjar.FakeClock
	cfg      incident.ServiceConfig
	routes   []incident.Route
	fallback string
	policies map[string]*incident.Policy
	oncall   map[string][]string
	silences []incident.Silence
	windows  []incident.Maintenance

	incidents []*incident.Incident
	timelines map[*incident.Incident][]incident.Entry
	keys      map[string]bool

	// Per step: what was sent, what was suppressed, and the entries and
	// status changes made.
	sent       []string
	suppressed []string
	entries    map[*incident.Incident][]incident.Entry
	before     map[*incident.Incident]incident.Status
}

// newWorld returns a world with the default service configuration, one
// policy "db" (alice, then whoever is on call for schedule "primary" five
// minutes later, then carol ten minutes after that; no repeats) as the
// fallback policy, and bob on call for "primary".
func newWorld(t *testing.T) *world {
	return &world{
		t:        t,
		clock:    nightjar.NewFakeClock(base),
		cfg:      incident.DefaultServiceConfig(),
		fallback: "db",
		policies: map[string]*incident.Policy{"db": {
			ID: "db",
			Steps: []incident.Step{
				{Delay: 5 * m, Targets: []incident.Target{{Kind: incident.TargetUser, ID: "alice"}}},
				{Delay: 10 * m, Targets: []incident.Target{{Kind: incident.TargetSchedule, ID: "primary"}}},
				{Delay: 10 * m, Targets: []incident.Target{{Kind: incident.TargetUser, ID: "carol"}, {Kind: incident.TargetChannel, ID: "ops"}}},
			},
		}},
		oncall:    map[string][]string{"primary": {"bob"}},
		timelines: map[*incident.Incident][]incident.Entry{},
		keys:      map[string]bool{},
	}
}

// action is one event at the world's current time.
type action func(w *world, now time.Time) error

// step is one line of a timeline: at an offset from base, something
// happens, and afterwards exactly the notices in sent have gone out and
// the incidents stand as in states ("#1 acknowledged, #2 triggered").
type step struct {
	at     time.Duration
	what   string
	do     action
	sent   []string
	states string
	// err, when set, is text the action's error must contain.
	err  string
	more func(t *testing.T, w *world)
}

// timeline is a named scenario: a new world changed by setup, then the
// steps played on it.
type timeline struct {
	name  string
	setup func(w *world)
	steps []step
}

// runTimelines plays each timeline in a subtest of its own.
func runTimelines(t *testing.T, timelines []timeline) {
	for _, tl := range timelines {
		t.Run(tl.name, func(t *testing.T) {
			w := newWorld(t)
			if tl.setup != nil {
				tl.setup(w)
			}
			w.run(tl.steps)
		})
	}
}

// run plays the steps in order on a fake clock and checks each step's
// expectations and the invariants every incident must keep.
func (w *world) run(steps []step) {
	w.t.Helper()
	for i, st := range steps {
		w.clock.Set(base.Add(st.at))
		now := w.clock.Now()
		where := fmt.Sprintf("step %d (+%s, %s)", i+1, st.at, st.what)
		w.sent, w.suppressed = nil, nil
		w.entries = map[*incident.Incident][]incident.Entry{}
		w.before = map[*incident.Incident]incident.Status{}
		for _, inc := range w.incidents {
			w.before[inc] = inc.Status
		}
		err := st.do(w, now)
		switch {
		case st.err == "" && err != nil:
			w.t.Fatalf("%s: %v", where, err)
		case st.err != "" && (err == nil || !strings.Contains(err.Error(), st.err)):
			w.t.Fatalf("%s: error %v, want one containing %q", where, err, st.err)
		}
		// The engine ticks every incident whose escalation is due.
		for _, inc := range w.incidents {
			if !inc.Escalation.Next.IsZero() && !now.Before(inc.Escalation.Next) {
				w.apply(incident.Tick(inc, w.policies[inc.Policy], now, w.onCall()), now)
			}
		}
		if !slices.Equal(w.sent, st.sent) {
			w.t.Errorf("%s: sent\n\t%s\nwant\n\t%s", where, strings.Join(w.sent, "\n\t"), strings.Join(st.sent, "\n\t"))
		}
		if got := w.states(); st.states != "" && got != st.states {
			w.t.Errorf("%s: incidents %q, want %q", where, got, st.states)
		}
		w.checkInvariants(where, now)
		if st.more != nil {
			st.more(w.t, w)
		}
		if w.t.Failed() {
			w.t.FailNow()
		}
	}
}

// onCall answers from w.oncall, and holds Tick to asking about the
// moment it pages.
func (w *world) onCall() incident.OnCall {
	return incident.OnCallFunc(func(id string, t time.Time) []string {
		if now := w.clock.Now(); !t.Equal(now) {
			w.t.Errorf("asked who is on call for %s at %s, at %s", id, t, now)
		}
		return w.oncall[id]
	})
}

// apply records an outcome as the store and the delivery stage would.
func (w *world) apply(out incident.Outcome, now time.Time) {
	w.t.Helper()
	if out.Incident == nil {
		if len(out.Entries)+len(out.Notices) > 0 || out.Opened {
			w.t.Errorf("outcome without an incident has entries or notices: %+v", out)
		}
		return
	}
	inc := out.Incident
	if out.Opened {
		if slices.Contains(w.incidents, inc) {
			w.t.Errorf("incident %d opened twice", inc.Number)
		}
		inc.ID = fmt.Sprintf("i%d", len(w.incidents)+1)
		inc.Number = int64(len(w.incidents) + 1)
		w.incidents = append(w.incidents, inc)
		w.before[inc] = ""
	} else if !slices.Contains(w.incidents, inc) {
		w.t.Errorf("outcome for an incident the store does not hold: %+v", inc)
	}
	w.timelines[inc] = append(w.timelines[inc], out.Entries...)
	w.entries[inc] = append(w.entries[inc], out.Entries...)
	for _, n := range out.Notices {
		key := inc.ID + "/" + n.Key
		if n.Key == "" || w.keys[key] {
			w.t.Errorf("notice %+v has an empty or repeated key", n)
		}
		w.keys[key] = true
		w.sent = append(w.sent, fmt.Sprintf("#%d %s", inc.Number, describe(n)))
		w.checkNotice(inc, n, now)
	}
}

// describe renders a notice for comparison: "page step 2: bob",
// "page step 1 round 2: alice, channel ops", "acknowledged: alice".
func describe(n incident.Notice) string {
	head := string(n.Event)
	if n.Event == incident.EventPage {
		head += fmt.Sprintf(" step %d", n.Step)
		if n.Round > 1 {
			head += fmt.Sprintf(" round %d", n.Round)
		}
	}
	var to []string
	to = append(to, n.Users...)
	for _, c := range n.Channels {
		to = append(to, "channel "+c)
	}
	return head + ": " + strings.Join(to, ", ")
}

func (w *world) states() string {
	var parts []string
	for _, inc := range w.incidents {
		parts = append(parts, fmt.Sprintf("#%d %s", inc.Number, inc.Status))
	}
	return strings.Join(parts, ", ")
}

// checkNotice holds every notice to the urgency rules: only a triggered
// page incident pages, only a ticket incident in working hours sends a
// ticket, an info incident tells nobody, and nobody is told nothing.
func (w *world) checkNotice(inc *incident.Incident, n incident.Notice, now time.Time) {
	w.t.Helper()
	if len(n.Users)+len(n.Channels) == 0 {
		w.t.Errorf("#%d: notice %s to nobody", inc.Number, n.Event)
	}
	if inc.Urgency == nightjar.SeverityInfo {
		w.t.Errorf("#%d: info incident sent %s", inc.Number, describe(n))
	}
	switch n.Event {
	case incident.EventPage:
		if inc.Urgency != nightjar.SeverityPage || inc.Status != incident.Triggered {
			w.t.Errorf("#%d: page sent for a %s incident of urgency %s", inc.Number, inc.Status, inc.Urgency)
		}
		if n.Step < 1 || n.Round < 1 {
			w.t.Errorf("#%d: page without a step and round: %+v", inc.Number, n)
		}
	case incident.EventTicket:
		p := w.policies[inc.Policy]
		if inc.Urgency != nightjar.SeverityTicket || len(n.Users) > 0 {
			w.t.Errorf("#%d: ticket %s for urgency %s", inc.Number, describe(n), inc.Urgency)
		}
		if p != nil && len(p.WorkingHours) > 0 {
			in := false
			for i := range p.WorkingHours {
				if ok, _ := p.WorkingHours[i].ActiveAt(now); ok {
					in = true
				}
			}
			if !in {
				w.t.Errorf("#%d: ticket sent outside working hours at %s", inc.Number, now)
			}
		}
	}
}

// checkInvariants holds every incident to the rules that hold whatever
// happened: statuses and their times agree, only a triggered incident
// escalates, a dedup key fires in one incident at most, every status
// change is on the timeline, and every entry is dated now.
func (w *world) checkInvariants(where string, now time.Time) {
	w.t.Helper()
	firing := map[string]int64{}
	for _, inc := range w.incidents {
		id := fmt.Sprintf("%s: #%d", where, inc.Number)
		switch inc.Status {
		case incident.Triggered:
			if !inc.AckedAt.IsZero() || !inc.ResolvedAt.IsZero() {
				w.t.Errorf("%s: triggered with acked %s, resolved %s", id, inc.AckedAt, inc.ResolvedAt)
			}
		case incident.Acknowledged:
			if inc.AckedAt.IsZero() || !inc.ResolvedAt.IsZero() {
				w.t.Errorf("%s: acknowledged with acked %s, resolved %s", id, inc.AckedAt, inc.ResolvedAt)
			}
		case incident.Resolved:
			if inc.ResolvedAt.IsZero() {
				w.t.Errorf("%s: resolved without a time", id)
			}
		default:
			w.t.Errorf("%s: status %q", id, inc.Status)
		}
		e := inc.Escalation
		if !e.Next.IsZero() && (inc.Status != incident.Triggered || inc.Urgency == nightjar.SeverityInfo) {
			w.t.Errorf("%s: escalation due at %s for a %s incident of urgency %s", id, e.Next, inc.Status, inc.Urgency)
		}
		if !e.Next.IsZero() && !e.Next.After(now) {
			w.t.Errorf("%s: escalation still due at %s after the tick at %s", id, e.Next, now)
		}
		if p := w.policies[inc.Policy]; p != nil && e.Fired > p.Firings() && inc.Urgency == nightjar.SeverityPage {
			w.t.Errorf("%s: %d step firings of a policy with %d", id, e.Fired, p.Firings())
		}
		seen := map[string]bool{}
		for _, a := range inc.Alerts {
			if seen[a.DedupKey] {
				w.t.Errorf("%s: alert %s twice", id, a.DedupKey)
			}
			seen[a.DedupKey] = true
			if a.Firing {
				if other, ok := firing[a.DedupKey]; ok {
					w.t.Errorf("%s: alert %s fires in #%d too", id, a.DedupKey, other)
				}
				firing[a.DedupKey] = inc.Number
			}
		}
		kinds := map[incident.EntryKind]incident.Entry{}
		for _, en := range w.entries[inc] {
			if !en.At.Equal(now) || en.Text == "" {
				w.t.Errorf("%s: entry %+v not dated now or without text", id, en)
			}
			kinds[en.Kind] = en
		}
		if prev := w.before[inc]; prev != inc.Status {
			want := map[incident.Status][]incident.EntryKind{
				incident.Triggered:    {incident.EntryTriggered, incident.EntryRetriggered, incident.EntryEscalated},
				incident.Acknowledged: {incident.EntryAcknowledged},
				incident.Resolved:     {incident.EntryResolved},
			}[inc.Status]
			if !slices.ContainsFunc(want, func(k incident.EntryKind) bool { _, ok := kinds[k]; return ok }) {
				w.t.Errorf("%s: went %q->%s without a %v entry (entries %+v)", id, prev, inc.Status, want, w.entries[inc])
			}
		}
		if en, ok := kinds[incident.EntryResolved]; ok && en.Actor == "" && inc.Status == incident.Resolved {
			for _, a := range inc.Alerts {
				if a.Firing {
					w.t.Errorf("%s: resolved automatically while %s fires", id, a.DedupKey)
				}
			}
		}
	}
}

// incident returns incident number n.
func (w *world) incident(n int) *incident.Incident {
	w.t.Helper()
	if n < 1 || n > len(w.incidents) {
		w.t.Fatalf("no incident #%d (have %d)", n, len(w.incidents))
	}
	return w.incidents[n-1]
}

// alertOpt changes a test alert.
type alertOpt func(a *nightjar.Alert)

func service(name string) alertOpt { return func(a *nightjar.Alert) { a.Service = name } }

func severity(sev nightjar.Severity) alertOpt { return func(a *nightjar.Alert) { a.Severity = sev } }

func label(name, value string) alertOpt {
	return func(a *nightjar.Alert) {
		if a.Labels == nil {
			a.Labels = map[string]string{}
		}
		a.Labels[name] = value
	}
}

// newAlert returns an alert of project p1 and service db that pages.
func newAlert(key string, status nightjar.AlertStatus, opts ...alertOpt) *nightjar.Alert {
	a := &nightjar.Alert{ProjectID: "p1", DedupKey: key, Source: "check", Service: "db",
		Severity: nightjar.SeverityPage, Summary: "Alert " + key, Status: status}
	for _, o := range opts {
		o(a)
	}
	return a
}

// fire is an alert change arriving at the alert stage: suppressed, or
// routed and applied.
func fire(key string, opts ...alertOpt) action {
	return alertChange(key, nightjar.AlertFiring, opts...)
}

// resolves is the alert's resolution arriving.
func resolves(key string, opts ...alertOpt) action {
	return alertChange(key, nightjar.AlertResolved, opts...)
}

func alertChange(key string, status nightjar.AlertStatus, opts ...alertOpt) action {
	return func(w *world, now time.Time) error {
		a := newAlert(key, status, opts...)
		if sup := incident.Suppressed(a, now, w.silences, w.windows); sup != nil {
			w.suppressed = append(w.suppressed, fmt.Sprintf("%s by %s %s", key, sup.Kind, sup.ID))
			return nil
		}
		d := incident.Decide(w.routes, a, w.fallback)
		w.apply(incident.ApplyAlert(w.incidents, a, d, w.cfg, now), now)
		return nil
	}
}

func ack(n int, actor string) action {
	return func(w *world, now time.Time) error {
		out, err := incident.Acknowledge(w.incident(n), actor, now)
		w.apply(out, now)
		return err
	}
}

func resolve(n int, actor string) action {
	return func(w *world, now time.Time) error {
		out, err := incident.Resolve(w.incident(n), actor, now)
		w.apply(out, now)
		return err
	}
}

func escalate(n int, actor string) action {
	return func(w *world, now time.Time) error {
		inc := w.incident(n)
		out, err := incident.Escalate(inc, w.policies[inc.Policy], actor, now)
		w.apply(out, now)
		return err
	}
}

// onCall changes who is on call for a schedule from now on.
func onCall(schedule string, users ...string) action {
	return func(w *world, _ time.Time) error {
		w.oncall[schedule] = users
		return nil
	}
}

// nothing lets time pass: only the engine's tick runs.
func nothing(*world, time.Time) error { return nil }

// both runs actions in order at the same instant.
func both(actions ...action) action {
	return func(w *world, now time.Time) error {
		for _, a := range actions {
			if err := a(w, now); err != nil {
				return err
			}
		}
		return nil
	}
}

// entry asserts that incident n got an entry of the kind at this step
// whose text contains text.
func entry(n int, kind incident.EntryKind, text string) func(t *testing.T, w *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		for _, e := range w.entries[w.incident(n)] {
			if e.Kind == kind && strings.Contains(e.Text, text) {
				return
			}
		}
		t.Errorf("#%d: no %s entry containing %q in %+v", n, kind, text, w.entries[w.incident(n)])
	}
}

// suppressed asserts what the alert stage suppressed at this step.
func suppressed(want ...string) func(t *testing.T, w *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		if !slices.Equal(w.suppressed, want) {
			t.Errorf("suppressed %q, want %q", w.suppressed, want)
		}
	}
}

// alerts asserts incident n's alerts as "key:firing" or "key:resolved".
func alerts(n int, want ...string) func(t *testing.T, w *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		var got []string
		for _, a := range w.incident(n).Alerts {
			state := "resolved"
			if a.Firing {
				state = "firing"
			}
			got = append(got, a.DedupKey+":"+state)
		}
		if !slices.Equal(got, want) {
			t.Errorf("#%d alerts %q, want %q", n, got, want)
		}
	}
}

// all combines assertions.
func all(fs ...func(t *testing.T, w *world)) func(t *testing.T, w *world) {
	return func(t *testing.T, w *world) {
		t.Helper()
		for _, f := range fs {
			f(t, w)
		}
	}
}
