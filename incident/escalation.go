package incident

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// Policy is an escalation policy: who is paged for an incident, and who
// next when nobody acknowledges it. Step 1 is paged when the incident
// triggers; each step's Delay later the next step is, and after the last
// step's delay the whole policy runs again, Repeat more times, as in
// PagerDuty and GoAlert.
type Policy struct {
	ID    string
	Name  string
	Steps []Step
	// Repeat is how many more times the policy runs after the first.
	Repeat int
	// WorkingHours are when incidents of ticket urgency may tell the
	// first step's channels; none means at any time. Pages ignore them.
	WorkingHours []Window
}

// Step is one level of a policy: the targets paged together, and how long
// to wait for an acknowledgement before the next step.
type Step struct {
	Delay   time.Duration
	Targets []Target
}

// TargetKind is what a target's ID names.
type TargetKind string

// Target kinds: a person, whoever is on call for a schedule, or a channel
// (a team chat or a shared mailbox, told but never paged).
const (
	TargetUser     TargetKind = "user"
	TargetSchedule TargetKind = "schedule"
	TargetChannel  TargetKind = "channel"
)

// Target is one recipient of a step.
type Target struct {
	Kind TargetKind
	ID   string
}

// OnCall answers who is on call for a schedule at an instant, in order of
// precedence. The on-call schedules themselves are another package's
// business; anything with this method will do.
type OnCall interface {
	OnCallAt(scheduleID string, t time.Time) []string
}

// OnCallFunc lets a plain function serve as an OnCall.
type OnCallFunc func(scheduleID string, t time.Time) []string

// OnCallAt calls f.
func (f OnCallFunc) OnCallAt(scheduleID string, t time.Time) []string { return f(scheduleID, t) }

// Limits on policies.
const (
	MaxSteps        = 20
	MaxStepTargets  = 20
	MaxRepeat       = 9
	MinStepDelay    = time.Minute
	MaxStepDelay    = 24 * time.Hour
	MaxWorkingHours = 14
)

// Validate returns a field error naming the first problem of the policy.
func (p *Policy) Validate() error {
	if err := checkText("name", p.Name, MaxNameLength, false); err != nil {
		return err
	}
	switch {
	case len(p.Steps) == 0:
		return nightjar.FieldError("steps", "must have at least one step")
	case len(p.Steps) > MaxSteps:
		return nightjar.FieldError("steps", "must have at most %d steps", MaxSteps)
	case p.Repeat < 0 || p.Repeat > MaxRepeat:
		return nightjar.FieldError("repeat", "must be between 0 and %d", MaxRepeat)
	case len(p.WorkingHours) > MaxWorkingHours:
		return nightjar.FieldError("working_hours", "must have at most %d windows", MaxWorkingHours)
	}
	for i, s := range p.Steps {
		field := fmt.Sprintf("steps[%d]", i)
		switch {
		case s.Delay < MinStepDelay || s.Delay > MaxStepDelay:
			return nightjar.FieldError(field+".delay", "must be between %d and %d seconds", int(MinStepDelay.Seconds()), int(MaxStepDelay.Seconds()))
		case len(s.Targets) == 0:
			return nightjar.FieldError(field+".targets", "must have at least one target")
		case len(s.Targets) > MaxStepTargets:
			return nightjar.FieldError(field+".targets", "must have at most %d targets", MaxStepTargets)
		}
		for j, t := range s.Targets {
			tf := fmt.Sprintf("%s.targets[%d]", field, j)
			switch t.Kind {
			case TargetUser, TargetSchedule, TargetChannel:
			default:
				return nightjar.FieldError(tf+".kind", "must be user, schedule or channel")
			}
			if err := checkText(tf+".id", t.ID, maxIDLength, true); err != nil {
				return err
			}
		}
	}
	for i := range p.WorkingHours {
		w := &p.WorkingHours[i]
		if !w.Recurring() {
			return nightjar.FieldError(fmt.Sprintf("working_hours[%d].schedule", i), "working hours must recur on a schedule, such as 0 9 * * 1-5 for 8 hours")
		}
		if err := w.Validate(fmt.Sprintf("working_hours[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// Firings is how many step firings the policy makes in all its rounds.
func (p *Policy) Firings() int { return len(p.Steps) * (1 + p.Repeat) }

// DueAfter returns how long after an incident's escalation starts step
// firing n (from 0, across rounds) is due: the delays of every step
// before it.
func (p *Policy) DueAfter(n int) time.Duration {
	var round, step time.Duration
	k := n % len(p.Steps)
	for i, s := range p.Steps {
		round += s.Delay
		if i < k {
			step += s.Delay
		}
	}
	return time.Duration(n/len(p.Steps))*round + step
}

// Tick sends what the incident's escalation has due at now: for a page,
// every step firing whose time has come (more than one only when Tick ran
// late), each to the step's users, the people on call for its schedules
// at now, and its channels, each person paged once per Tick; for a
// ticket, one notice to the first step's channels, held back until
// working hours. p is the incident's policy, nil when it has none. The
// incident's Escalation moves on and Next says when to call Tick again.
func Tick(inc *Incident, p *Policy, now time.Time, oc OnCall) Outcome {
	var out Outcome
	e := &inc.Escalation
	if e.Next.IsZero() || now.Before(e.Next) {
		return out
	}
	if inc.Status != Triggered || inc.Urgency == nightjar.SeverityInfo {
		e.Next = time.Time{}
		return out
	}
	if p == nil || len(p.Steps) == 0 {
		e.Next = time.Time{}
		out.add(inc, Entry{At: now, Kind: EntryNobodyPaged, Text: "Nobody was told: the incident has no escalation policy"})
		return out
	}
	if inc.Urgency == nightjar.SeverityTicket {
		tickTicket(inc, p, now, &out)
		return out
	}

	paged := map[string]bool{}
	for e.Fired < p.Firings() && !now.Before(e.Since.Add(p.DueAfter(e.Fired))) {
		n := e.Fired
		e.Fired++
		round, k := n/len(p.Steps)+1, n%len(p.Steps)+1
		users, channels, empty := resolveTargets(p.Steps[k-1].Targets, now, oc)
		if len(users)+len(channels) > 0 {
			// A Tick that runs late pages each person and channel once.
			users = slices.DeleteFunc(users, func(u string) bool { return paged["u/"+u] })
			channels = slices.DeleteFunc(channels, func(c string) bool { return paged["c/"+c] })
			if len(users)+len(channels) == 0 {
				continue
			}
		}
		for _, u := range users {
			paged["u/"+u] = true
		}
		for _, c := range channels {
			paged["c/"+c] = true
		}
		inc.remember(users, channels)
		where := fmt.Sprintf("step %d", k)
		if round > 1 {
			where += fmt.Sprintf(" (round %d)", round)
		}
		if len(users) == 0 && len(channels) == 0 {
			text := "Nobody was paged at " + where
			if len(empty) > 0 {
				text += ": nobody on call for " + strings.Join(empty, ", ")
			}
			out.add(inc, Entry{At: now, Kind: EntryNobodyPaged, Text: text})
			continue
		}
		out.Notices = append(out.Notices, Notice{Event: EventPage, Users: users, Channels: channels, Step: k, Round: round,
			Key: fmt.Sprintf("page/%d/%d", e.Since.UnixNano(), n)})
		text := "Paged " + list(users, channels) + " at " + where
		if len(empty) > 0 {
			text += "; nobody on call for " + strings.Join(empty, ", ")
		}
		out.add(inc, Entry{At: now, Kind: EntryPaged, Users: users, Channels: channels, Text: text})
	}
	if e.Fired < p.Firings() {
		e.Next = e.Since.Add(p.DueAfter(e.Fired))
	} else {
		e.Next = time.Time{}
		out.add(inc, Entry{At: now, Kind: EntryPolicyExhausted,
			Text: fmt.Sprintf("Every step of policy %s has been paged; nobody more will be until someone escalates", p.ID)})
	}
	return out
}

// tickTicket tells the first step's channels about a ticket incident,
// once, in working hours.
func tickTicket(inc *Incident, p *Policy, now time.Time, out *Outcome) {
	e := &inc.Escalation
	in, next := inAny(p.WorkingHours, now)
	if !in && !next.IsZero() {
		e.Next = next
		return
	}
	e.Next = time.Time{}
	e.Fired = 1
	_, channels, _ := resolveTargets(p.Steps[0].Targets, now, nil)
	if len(channels) == 0 {
		out.add(inc, Entry{At: now, Kind: EntryNobodyPaged, Text: "Nobody was told: the first step of policy " + p.ID + " has no channel for tickets"})
		return
	}
	inc.remember(nil, channels)
	out.Notices = append(out.Notices, Notice{Event: EventTicket, Channels: channels, Key: fmt.Sprintf("ticket/%d", e.Since.UnixNano())})
	out.add(inc, Entry{At: now, Kind: EntryNotified, Channels: channels, Text: "Told " + list(nil, channels) + " about the ticket"})
}

// resolveTargets returns a step's users (with the people on call for its
// schedules at t) and channels, each once, and the schedules that had
// nobody on call. A nil OnCall has nobody on call.
func resolveTargets(ts []Target, t time.Time, oc OnCall) (users, channels, empty []string) {
	addUnique := func(list []string, v string) []string {
		if v == "" || slices.Contains(list, v) {
			return list
		}
		return append(list, v)
	}
	for _, target := range ts {
		switch target.Kind {
		case TargetUser:
			users = addUnique(users, target.ID)
		case TargetChannel:
			channels = addUnique(channels, target.ID)
		case TargetSchedule:
			var on []string
			if oc != nil {
				on = oc.OnCallAt(target.ID, t)
			}
			for _, u := range on {
				users = addUnique(users, u)
			}
			if !slices.ContainsFunc(on, func(u string) bool { return u != "" }) {
				empty = append(empty, "schedule "+target.ID)
			}
		}
	}
	return users, channels, empty
}

// remember adds users and channels to those told about the incident.
func (inc *Incident) remember(users, channels []string) {
	for _, u := range users {
		if !slices.Contains(inc.Responders, u) {
			inc.Responders = append(inc.Responders, u)
		}
	}
	for _, c := range channels {
		if !slices.Contains(inc.Channels, c) {
			inc.Channels = append(inc.Channels, c)
		}
	}
}

// list names users and channels for timeline text.
func list(users, channels []string) string {
	var parts []string
	parts = append(parts, users...)
	for _, c := range channels {
		parts = append(parts, "channel "+c)
	}
	return strings.Join(parts, ", ")
}
