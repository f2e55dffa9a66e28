// Package heartbeat is the evaluation stage for cron and heartbeat checks:
// a pure state machine that turns pings and the passing of time into check
// states, status flips and alerts, and decides what a received ping counts
// as (Classify). It does no I/O and reads no clock; the checks area applies
// its outcomes in one transaction, and its deadline processing calls Tick
// for checks whose deadline came.
package heartbeat

import (
	"fmt"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/metricrule"
	"github.com/nightjar-dev/nightjar/schedule"
)

// PingInput is a ping as the state machine sees it: already classified
// (start, success, fail, log, ign; see Classify) and with its run's start
// resolved.
type PingInput struct {
	Kind       string
	At         time.Time
	RID        string
	ExitStatus *int
	Metrics    map[string]float64
	// RunStart is when the run this ping finishes started, when the caller
	// found a start ping with the same rid; zero otherwise.
	RunStart time.Time
	// Note says why classification gave the ping its kind; the outcome
	// keeps it unless the state machine has a note of its own.
	Note string
}

// Outcome is what one event did to a check. The check's State has already
// been changed in place; Outcome carries what must be recorded beside it.
type Outcome struct {
	// Kind is the ping's final kind: a success can become a failure when a
	// metric rule or the minimum runtime says so.
	Kind     string
	Duration time.Duration
	Note     string
	Flip     *nightjar.Flip
	Alert    *nightjar.Alert
}

// DedupKey is the alert dedup key of a check.
func DedupKey(checkID string) string { return "check:" + checkID }

// ExpectedAfter returns when the next ping is due after a ping at t. For
// cron and OnCalendar checks a ping up to EarlyTolerance before a slot
// counts for that slot (capped at half the gap to the following slot, so
// a frequent schedule never skips a run).
func ExpectedAfter(c *nightjar.Check, t time.Time) time.Time {
	if c.Kind == nightjar.KindSimple {
		return t.Add(c.Timeout)
	}
	cr, err := schedule.ParseCached(c.Schedule)
	if err != nil {
		return time.Time{}
	}
	loc := c.Location()
	slot := cr.Next(t, loc)
	if slot.IsZero() {
		return slot
	}
	following := cr.Next(slot, loc)
	tol := c.EarlyTolerance
	if !following.IsZero() && following.Sub(slot)/2 < tol {
		tol = following.Sub(slot) / 2
	}
	if slot.Sub(t) <= tol {
		return following
	}
	return slot
}

// runLimit is how long a started run may take before the check goes down.
func runLimit(c *nightjar.Check) time.Duration {
	if c.MaxRuntime > 0 {
		return c.MaxRuntime
	}
	return c.Grace
}

// ApplyPing changes the check's state for one ping.
func ApplyPing(c *nightjar.Check, in PingInput) Outcome {
	out := applyPing(c, in)
	if out.Note == "" {
		out.Note = in.Note
	}
	return out
}

// applyPing is ApplyPing before the classification's note is added.
func applyPing(c *nightjar.Check, in PingInput) Outcome {
	s := &c.State
	out := Outcome{Kind: in.Kind}
	s.NPings++
	if in.Kind == nightjar.PingIgnored {
		return out
	}
	if s.Status == nightjar.StatusPaused && c.ManualResume {
		// As in Healthchecks, a check that only a person may resume
		// records the ping as ignored and changes nothing else.
		out.Kind, out.Note = nightjar.PingIgnored, "the check is paused and resumes only by hand"
		return out
	}
	s.LastPing = in.At
	switch in.Kind {
	case nightjar.PingLog:
		return out
	case nightjar.PingStart:
		s.LastStart = in.At
		s.LastStartRID = in.RID
		if s.Status == nightjar.StatusDown {
			return out
		}
		setStatus(c, &out, nightjar.StatusStarted, in.At, "run started")
		s.NextDeadline = in.At.Add(runLimit(c))
		return out
	}

	// A run finished: success or failure.
	start := in.RunStart
	if start.IsZero() && in.RID == "" && s.LastStartRID == "" {
		start = s.LastStart
	}
	// The last duration is that of the run this ping finishes, or none
	// when it finishes no known run, as in Healthchecks.
	s.LastDuration = 0
	if !start.IsZero() && !in.At.Before(start) {
		out.Duration = in.At.Sub(start)
		s.LastDuration = out.Duration
	}
	if in.RID == s.LastStartRID {
		s.LastStart, s.LastStartRID = time.Time{}, ""
	}
	reason := ""
	if in.Kind == nightjar.PingFail {
		reason = "the job reported failure"
		if in.ExitStatus != nil {
			reason = fmt.Sprintf("the job exited with status %d", *in.ExitStatus)
		}
	} else {
		if note := checkRules(c, in.Metrics); note != "" {
			out.Kind, out.Note, reason = nightjar.PingFail, note, note
		} else if c.MinRuntime > 0 && !start.IsZero() && out.Duration < c.MinRuntime {
			out.Kind = nightjar.PingFail
			out.Note = fmt.Sprintf("finished in %s, faster than the minimum runtime %s", out.Duration.Round(time.Millisecond), c.MinRuntime)
			reason = out.Note
		}
	}
	s.ExpectedAt = ExpectedAfter(c, in.At)
	if out.Kind == nightjar.PingSuccess {
		s.ConsecutiveFailures = 0
		if len(in.Metrics) > 0 {
			s.LastMetrics = in.Metrics
		}
		setStatus(c, &out, nightjar.StatusUp, in.At, "success ping")
		s.NextDeadline = s.ExpectedAt
		return out
	}
	s.ConsecutiveFailures++
	if s.ConsecutiveFailures < c.FailureThreshold {
		if out.Note == "" {
			out.Note = reason
		}
		out.Note += fmt.Sprintf(" (failure %d of %d before alerting)", s.ConsecutiveFailures, c.FailureThreshold)
		if s.Status != nightjar.StatusDown {
			setStatus(c, &out, nightjar.StatusUp, in.At, "failure below threshold")
			s.NextDeadline = s.ExpectedAt
		}
		return out
	}
	if s.ConsecutiveFailures > 1 {
		reason = fmt.Sprintf("%s (%d failures in a row)", reason, s.ConsecutiveFailures)
	}
	goDown(c, &out, in.At, reason)
	return out
}

// checkRules evaluates the check's metric rules against a success ping's
// metrics and returns why the ping failed them, or "".
func checkRules(c *nightjar.Check, m map[string]float64) string {
	if len(c.MetricRules) == 0 {
		return ""
	}
	rules, err := metricrule.ParseRules(c.MetricRules)
	if err != nil {
		return ""
	}
	for _, r := range rules {
		if res := r.Eval(m, c.State.LastMetrics); !res.Pass {
			return "metric rule failed: " + res.Reason
		}
	}
	return ""
}

// Tick moves a check along when its deadline has come.
func Tick(c *nightjar.Check, now time.Time) Outcome {
	s := &c.State
	var out Outcome
	if s.NextDeadline.IsZero() || now.Before(s.NextDeadline) {
		return out
	}
	switch s.Status {
	case nightjar.StatusUp, nightjar.StatusLate:
		// Up and late are both decided from ExpectedAt, which Reschedule
		// may have moved either way since the deadline was set.
		downAt := s.ExpectedAt.Add(c.Grace)
		switch {
		case now.Before(s.ExpectedAt):
			setStatus(c, &out, nightjar.StatusUp, now, fmt.Sprintf("the schedule changed; the next ping is expected at %s", fmtTime(s.ExpectedAt)))
			s.NextDeadline = s.ExpectedAt
		case now.Before(downAt):
			setStatus(c, &out, nightjar.StatusLate, now, fmt.Sprintf("expected a ping at %s", fmtTime(s.ExpectedAt)))
			s.NextDeadline = downAt
		default:
			goDown(c, &out, now, fmt.Sprintf("no ping since %s; one was expected at %s and the grace period of %s ran out", fmtTime(s.LastPing), fmtTime(s.ExpectedAt), nightjar.HumanDuration(c.Grace)))
		}
	case nightjar.StatusStarted:
		goDown(c, &out, now, fmt.Sprintf("the run started at %s did not finish within %s", fmtTime(s.LastStart), nightjar.HumanDuration(runLimit(c))))
	case nightjar.StatusDown:
		if c.RealertInterval > 0 {
			// LastAlertAt stays when the alert started, so every repeat
			// and the final resolve say how long the outage has lasted.
			s.NextDeadline = now.Add(c.RealertInterval)
			out.Alert = alertFor(c, nightjar.AlertFiring, now, "still down")
		} else {
			s.NextDeadline = time.Time{}
		}
	default:
		s.NextDeadline = time.Time{}
	}
	return out
}

// Reschedule recomputes a check's deadlines after its schedule settings
// changed, so a longer period or grace takes effect at once.
func Reschedule(c *nightjar.Check, now time.Time) {
	s := &c.State
	switch s.Status {
	case nightjar.StatusUp, nightjar.StatusLate:
		s.ExpectedAt = ExpectedAfter(c, s.LastPing)
		s.NextDeadline = s.ExpectedAt
		if s.Status == nightjar.StatusLate {
			// Let the next tick decide between up, late and down, so that
			// a change of status is recorded as a flip.
			s.NextDeadline = now
		}
	case nightjar.StatusStarted:
		s.NextDeadline = s.LastStart.Add(runLimit(c))
	case nightjar.StatusDown:
		s.NextDeadline = time.Time{}
		if c.RealertInterval > 0 {
			s.NextDeadline = now.Add(c.RealertInterval)
		}
	}
}

// Pause stops monitoring a check; an open alert is resolved. A run in
// progress is forgotten, as in Healthchecks.
func Pause(c *nightjar.Check, now time.Time) Outcome {
	var out Outcome
	wasDown := c.State.Status == nightjar.StatusDown
	setStatus(c, &out, nightjar.StatusPaused, now, "paused")
	c.State.NextDeadline, c.State.ExpectedAt = time.Time{}, time.Time{}
	c.State.LastStart, c.State.LastStartRID = time.Time{}, ""
	c.State.ConsecutiveFailures = 0
	if wasDown {
		out.Alert = alertFor(c, nightjar.AlertResolved, now, "paused")
	}
	return out
}

// Resume restarts monitoring of a paused check; it waits for its first
// ping like a new one and, as in Healthchecks, forgets its last ping and
// any run in progress.
func Resume(c *nightjar.Check, now time.Time) Outcome {
	var out Outcome
	setStatus(c, &out, nightjar.StatusNew, now, "resumed")
	c.State.NextDeadline, c.State.ExpectedAt = time.Time{}, time.Time{}
	c.State.LastPing, c.State.LastStart, c.State.LastStartRID = time.Time{}, time.Time{}, ""
	return out
}

// Recover gives a check whose deadline passed while Nightjar itself was not
// running a fresh grace period: its pings could not have arrived, so the
// missed deadline says nothing about the job.
func Recover(c *nightjar.Check, now time.Time) bool {
	s := &c.State
	switch s.Status {
	case nightjar.StatusUp, nightjar.StatusLate:
		// The missed ping counts as expected now: an up check goes late
		// at the next tick and down a full grace period later.
		if s.ExpectedAt.Before(now) {
			s.ExpectedAt = now
		}
		s.NextDeadline = s.ExpectedAt
		if s.Status == nightjar.StatusLate {
			s.NextDeadline = s.ExpectedAt.Add(c.Grace)
		}
		return true
	case nightjar.StatusStarted:
		s.NextDeadline = now.Add(runLimit(c))
		return true
	}
	return false
}

// goDown makes the check down and fires its alert. On a check that is
// already down it does nothing, so that neither a second alert fires nor
// further failures push the next re-alert back.
func goDown(c *nightjar.Check, out *Outcome, at time.Time, reason string) {
	s := &c.State
	if s.Status == nightjar.StatusDown {
		return
	}
	setStatus(c, out, nightjar.StatusDown, at, reason)
	s.NextDeadline = time.Time{}
	if c.RealertInterval > 0 {
		s.NextDeadline = at.Add(c.RealertInterval)
	}
	s.LastAlertAt = at
	out.Alert = alertFor(c, nightjar.AlertFiring, at, reason)
}

// setStatus changes the status and records a flip, except for the routine
// moves every run of a check that is up makes: up → started, and back to
// up. A run that began from any other status (new, late, …) ends with a
// recorded change to up, so a check's history shows when it came up.
func setStatus(c *nightjar.Check, out *Outcome, to string, at time.Time, reason string) {
	from := c.State.Status
	if from == to {
		return
	}
	c.State.Status = to
	if from == nightjar.StatusDown && to != nightjar.StatusPaused {
		out.Alert = alertFor(c, nightjar.AlertResolved, at, reason)
	}
	settled := c.State.Settled
	routine := (from == nightjar.StatusUp && to == nightjar.StatusStarted) ||
		(from == nightjar.StatusStarted && to == nightjar.StatusUp && (settled == nightjar.StatusUp || settled == ""))
	if !routine {
		out.Flip = &nightjar.Flip{CheckID: c.ID, CreatedAt: at, From: from, To: to, Reason: reason}
		c.State.Since, c.State.Reason, c.State.Settled = at, reason, to
	}
}

func alertFor(c *nightjar.Check, status nightjar.AlertStatus, at time.Time, reason string) *nightjar.Alert {
	a := &nightjar.Alert{
		ProjectID: c.ProjectID,
		DedupKey:  DedupKey(c.ID),
		Source:    "check",
		SourceID:  c.ID,
		Service:   c.Service,
		Severity:  nightjar.SeverityPage,
		Status:    status,
		StartsAt:  c.State.LastAlertAt,
		Details: map[string]string{
			"reason": reason,
			"check":  c.Name,
		},
	}
	if a.StartsAt.IsZero() {
		a.StartsAt = at
	}
	if !c.State.LastPing.IsZero() {
		a.Details["last_ping"] = fmtTime(c.State.LastPing)
	}
	name := c.Name
	if name == "" {
		name = c.ID
	}
	if status == nightjar.AlertFiring {
		a.Summary = fmt.Sprintf("Check %q is down: %s", name, reason)
	} else {
		a.Summary = fmt.Sprintf("Check %q is up again", name)
		a.EndsAt = at
	}
	return a
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// ClassifyBody decides what a ping means when its check filters pings by
// keywords in their body. kind is what the URL said; plain is true when
// the URL had no /start, /fail, /log or exit status. Keywords are
// comma-separated and matched case-sensitively, and a failure keyword wins
// over a success keyword, which wins over a start keyword.
//
// With FilterHTTPBody (Healthchecks' setting) every ping that is not
// already ignored is classified by its body alone, as Healthchecks does:
// a body with none of the keywords is ignored, or a failure with
// FilterDefaultFail. FilterBody, Nightjar's older setting, classifies only
// plain pings; a body with none of the keywords is then ignored when
// success keywords are set and a success when they are not (only failures
// are picked out), or a failure with FilterDefaultFail.
func ClassifyBody(c *nightjar.Check, kind string, plain bool, body []byte) (string, string) {
	switch {
	case kind == nightjar.PingIgnored:
		return kind, ""
	case c.FilterHTTPBody:
	case c.FilterBody && plain:
	default:
		return kind, ""
	}
	text := string(body)
	for _, rule := range []struct {
		list, kind string
	}{{c.FailureKeywords, nightjar.PingFail}, {c.SuccessKeywords, nightjar.PingSuccess}, {c.StartKeywords, nightjar.PingStart}} {
		for _, kw := range nightjar.Keywords(rule.list) {
			if strings.Contains(text, kw) {
				return rule.kind, fmt.Sprintf("body contains %q", kw)
			}
		}
	}
	switch {
	case c.FilterDefaultFail:
		return nightjar.PingFail, "body contains none of the keywords"
	case c.FilterHTTPBody || len(nightjar.Keywords(c.SuccessKeywords)) > 0:
		return nightjar.PingIgnored, "body contains none of the keywords"
	}
	return nightjar.PingSuccess, ""
}
