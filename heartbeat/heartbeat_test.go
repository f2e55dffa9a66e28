package heartbeat_test

import (
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // cron expectations must not depend on the machine's zoneinfo

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/heartbeat"
)

// base is the fixed instant every scenario starts from: a Monday morning,
// far from any daylight-saving change.
var base = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// at returns base plus d, so timelines read as offsets.
func at(d time.Duration) time.Time { return base.Add(d) }

// none is the zero time: no deadline, no expected ping.
var none time.Time

const (
	h = time.Hour
	m = time.Minute
	s = time.Second
)

// simpleCheck returns a fresh simple check expecting a ping every hour with
// ten minutes of grace; everything else has Nightjar's defaults.
func simpleCheck() *nightjar.Check {
	c := nightjar.NewCheck("p1", "nightly backup")
	c.ID = "c1"
	c.Service = "db"
	c.Timeout = h
	c.Grace = 10 * m
	return c
}

// with returns simpleCheck changed by fn.
func with(fn func(c *nightjar.Check)) func() *nightjar.Check {
	return func() *nightjar.Check {
		c := simpleCheck()
		fn(c)
		return c
	}
}

// mustZone loads an IANA time zone or stops the test.
func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

// action is one event applied to a check at now: a ping, a tick or an
// operator's command. Actions without an outcome of their own return the
// zero Outcome.
type action func(t *testing.T, c *nightjar.Check, now time.Time) heartbeat.Outcome

// pingIn applies a ping with the given fields; its time is the step's.
func pingIn(in heartbeat.PingInput) action {
	return func(_ *testing.T, c *nightjar.Check, now time.Time) heartbeat.Outcome {
		in.At = now
		return heartbeat.ApplyPing(c, in)
	}
}

// ping applies a ping of the given kind without rid, exit status or metrics.
func ping(kind string) action { return pingIn(heartbeat.PingInput{Kind: kind}) }

var (
	success = ping(nightjar.PingSuccess)
	fail    = ping(nightjar.PingFail)
	start   = ping(nightjar.PingStart)
)

// exit applies a ping carrying a process exit status, classified as the
// ping URL handler does: a non-zero status is a failure.
func exit(code int) action {
	kind := nightjar.PingSuccess
	if code > 0 {
		kind = nightjar.PingFail
	}
	return pingIn(heartbeat.PingInput{Kind: kind, ExitStatus: &code})
}

func tick(_ *testing.T, c *nightjar.Check, now time.Time) heartbeat.Outcome {
	return heartbeat.Tick(c, now)
}

func pause(_ *testing.T, c *nightjar.Check, now time.Time) heartbeat.Outcome {
	return heartbeat.Pause(c, now)
}

func resume(_ *testing.T, c *nightjar.Check, now time.Time) heartbeat.Outcome {
	return heartbeat.Resume(c, now)
}

// recoverGap runs Recover after Nightjar's own downtime and checks whether
// it reported adjusting the check.
func recoverGap(want bool) action {
	return func(t *testing.T, c *nightjar.Check, now time.Time) heartbeat.Outcome {
		t.Helper()
		if got := heartbeat.Recover(c, now); got != want {
			t.Errorf("Recover = %v, want %v", got, want)
		}
		return heartbeat.Outcome{}
	}
}

// reschedule changes the check's settings with change and then runs
// Reschedule, as saving the settings does.
func reschedule(change func(c *nightjar.Check)) action {
	return func(_ *testing.T, c *nightjar.Check, now time.Time) heartbeat.Outcome {
		change(c)
		heartbeat.Reschedule(c, now)
		return heartbeat.Outcome{}
	}
}

// want is what a step must leave behind. Status, flip, alert and deadline
// are always compared; the zero values mean "no flip", "no alert" and "no
// deadline".
type want struct {
	status string
	// flip is "from->to", or "" when no flip may be recorded.
	flip     string
	alert    nightjar.AlertStatus
	deadline time.Time
	// more makes further assertions, when not nil.
	more func(t *testing.T, c *nightjar.Check, out heartbeat.Outcome)
}

type step struct {
	name string
	at   time.Time
	do   action
	want want
}

// runSteps applies the steps in order to c and checks each against its
// want and against the invariants every transition must keep.
func runSteps(t *testing.T, c *nightjar.Check, steps []step) {
	t.Helper()
	for i, st := range steps {
		prev, settled := c.State.Status, c.State.Settled
		out := st.do(t, c, st.at)
		where := fmt.Sprintf("step %d (%s at +%s)", i+1, st.name, st.at.Sub(base))
		if got := c.State.Status; got != st.want.status {
			t.Fatalf("%s: status = %q, want %q (outcome %+v)", where, got, st.want.status, out)
		}
		checkFlip(t, where, c, out, prev, settled, st.at, st.want.flip)
		checkAlert(t, where, c, out, prev, st.at, st.want.alert)
		if got := c.State.NextDeadline; !got.Equal(st.want.deadline) {
			t.Errorf("%s: next deadline = %s, want %s", where, show(got), show(st.want.deadline))
		}
		if st.want.more != nil {
			st.want.more(t, c, out)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}

// checkFlip checks the recorded flip against want ("from->to" or "") and
// that every status change other than a routine run of an up check (up →
// started, and back to up) is recorded, with the right from, to, check and
// time, and that the check's Since and Reason follow the recorded change.
func checkFlip(t *testing.T, where string, c *nightjar.Check, out heartbeat.Outcome, prev, settled string, now time.Time, want string) {
	t.Helper()
	cur := c.State.Status
	routine := (prev == nightjar.StatusUp && cur == nightjar.StatusStarted) ||
		(prev == nightjar.StatusStarted && cur == nightjar.StatusUp && (settled == nightjar.StatusUp || settled == ""))
	f := out.Flip
	switch {
	case f == nil && prev != cur && !routine:
		t.Errorf("%s: status changed %s->%s without a flip", where, prev, cur)
	case f != nil && (prev == cur || routine):
		t.Errorf("%s: flip %s->%s recorded for %s->%s", where, f.From, f.To, prev, cur)
	case f != nil && (f.From != prev || f.To != cur):
		t.Errorf("%s: flip %s->%s, but the status went %s->%s", where, f.From, f.To, prev, cur)
	}
	if f == nil {
		if want != "" {
			t.Errorf("%s: no flip, want %s", where, want)
		}
		return
	}
	if got := f.From + "->" + f.To; got != want {
		t.Errorf("%s: flip %s, want %q", where, got, want)
	}
	if !c.State.Since.Equal(f.CreatedAt) || c.State.Reason != f.Reason || c.State.Settled != f.To {
		t.Errorf("%s: since %s, reason %q, settled %q after flip %+v", where, show(c.State.Since), c.State.Reason, c.State.Settled, *f)
	}
	if f.CheckID != c.ID || !f.CreatedAt.Equal(now) || f.Reason == "" {
		t.Errorf("%s: flip = %+v, want check %s at %s with a reason", where, *f, c.ID, show(now))
	}
}

// checkAlert checks the emitted alert against want ("" for none) and that
// alerts follow the status: firing exactly when the check goes down or is
// re-alerted while down, resolved exactly when it leaves down.
func checkAlert(t *testing.T, where string, c *nightjar.Check, out heartbeat.Outcome, prev string, now time.Time, want nightjar.AlertStatus) {
	t.Helper()
	cur := c.State.Status
	wentDown := prev != nightjar.StatusDown && cur == nightjar.StatusDown
	leftDown := prev == nightjar.StatusDown && cur != nightjar.StatusDown
	a := out.Alert
	if wentDown && (a == nil || a.Status != nightjar.AlertFiring) {
		t.Errorf("%s: went down without firing an alert", where)
	}
	if leftDown && (a == nil || a.Status != nightjar.AlertResolved) {
		t.Errorf("%s: left down without resolving the alert", where)
	}
	if a == nil {
		if want != "" {
			t.Errorf("%s: no alert, want %s", where, want)
		}
		return
	}
	if a.Status != want {
		t.Errorf("%s: alert %s (%s), want %q", where, a.Status, a.Summary, want)
	}
	switch a.Status {
	case nightjar.AlertFiring:
		// A re-alert repeats the alert of an outage that goes on: it keeps
		// the outage's start and schedules the next repeat.
		realert := prev == nightjar.StatusDown && c.RealertInterval > 0 &&
			c.State.NextDeadline.Equal(now.Add(c.RealertInterval)) && a.StartsAt.Equal(c.State.LastAlertAt) && a.StartsAt.Before(now)
		if cur != nightjar.StatusDown || (prev == nightjar.StatusDown && !realert) {
			t.Errorf("%s: alert fired for %s->%s", where, prev, cur)
		}
		if !a.EndsAt.IsZero() || !strings.Contains(a.Summary, "is down") {
			t.Errorf("%s: firing alert = %+v", where, *a)
		}
	case nightjar.AlertResolved:
		if !leftDown {
			t.Errorf("%s: alert resolved for %s->%s", where, prev, cur)
		}
		if !a.EndsAt.Equal(now) || !strings.Contains(a.Summary, "up again") {
			t.Errorf("%s: resolved alert = %+v", where, *a)
		}
	}
	if a.DedupKey != heartbeat.DedupKey(c.ID) || a.Source != "check" || a.SourceID != c.ID ||
		a.ProjectID != c.ProjectID || a.Service != c.Service || a.Severity != nightjar.SeverityPage ||
		a.Details["check"] != c.Name || a.Details["reason"] == "" {
		t.Errorf("%s: alert = %+v, want one for check %s", where, *a, c.ID)
	}
}

// show formats an instant for messages: as an offset from base when it is
// near it, or in full.
func show(x time.Time) string {
	if x.IsZero() {
		return "none"
	}
	if d := x.Sub(base); d > -48*h && d < 48*h {
		return "+" + d.String()
	}
	return x.Format(time.RFC3339)
}

// expected asserts the check's ExpectedAt.
func expected(x time.Time) func(t *testing.T, c *nightjar.Check, out heartbeat.Outcome) {
	return func(t *testing.T, c *nightjar.Check, _ heartbeat.Outcome) {
		t.Helper()
		if !c.State.ExpectedAt.Equal(x) {
			t.Errorf("expected at = %s, want %s", show(c.State.ExpectedAt), show(x))
		}
	}
}

// note asserts the outcome's final kind and that its note contains text
// ("" demands an empty note).
func note(kind, text string) func(t *testing.T, c *nightjar.Check, out heartbeat.Outcome) {
	return func(t *testing.T, _ *nightjar.Check, out heartbeat.Outcome) {
		t.Helper()
		if out.Kind != kind {
			t.Errorf("outcome kind = %q, want %q", out.Kind, kind)
		}
		if text == "" && out.Note != "" || !strings.Contains(out.Note, text) {
			t.Errorf("note = %q, want one containing %q", out.Note, text)
		}
	}
}

// reason asserts that the emitted alert's reason contains text.
func reason(text string) func(t *testing.T, c *nightjar.Check, out heartbeat.Outcome) {
	return func(t *testing.T, _ *nightjar.Check, out heartbeat.Outcome) {
		t.Helper()
		if out.Alert == nil || !strings.Contains(out.Alert.Details["reason"], text) {
			t.Errorf("alert = %+v, want a reason containing %q", out.Alert, text)
		}
	}
}

// failures asserts the consecutive failure counter.
func failures(n int) func(t *testing.T, c *nightjar.Check, out heartbeat.Outcome) {
	return func(t *testing.T, c *nightjar.Check, _ heartbeat.Outcome) {
		t.Helper()
		if c.State.ConsecutiveFailures != n {
			t.Errorf("consecutive failures = %d, want %d", c.State.ConsecutiveFailures, n)
		}
	}
}

// duration asserts the outcome's run duration and the check's last one.
func duration(d time.Duration) func(t *testing.T, c *nightjar.Check, out heartbeat.Outcome) {
	return func(t *testing.T, c *nightjar.Check, out heartbeat.Outcome) {
		t.Helper()
		if out.Duration != d || c.State.LastDuration != d {
			t.Errorf("duration = %s, last duration = %s, want %s", out.Duration, c.State.LastDuration, d)
		}
	}
}

// ignored asserts that the ping was recorded as ignored.
func ignored(t *testing.T, _ *nightjar.Check, out heartbeat.Outcome) {
	t.Helper()
	if out.Kind != nightjar.PingIgnored {
		t.Errorf("ping kind = %q, want %q", out.Kind, nightjar.PingIgnored)
	}
}

// all combines assertions.
func all(fs ...func(t *testing.T, c *nightjar.Check, out heartbeat.Outcome)) func(t *testing.T, c *nightjar.Check, out heartbeat.Outcome) {
	return func(t *testing.T, c *nightjar.Check, out heartbeat.Outcome) {
		t.Helper()
		for _, f := range fs {
			f(t, c, out)
		}
	}
}

func TestTransitions(t *testing.T) {
	up, started, late, down := nightjar.StatusUp, nightjar.StatusStarted, nightjar.StatusLate, nightjar.StatusDown
	paused, fresh := nightjar.StatusPaused, nightjar.StatusNew
	firing, resolved := nightjar.AlertFiring, nightjar.AlertResolved

	tests := []struct {
		name  string
		check func() *nightjar.Check
		steps []step
	}{
		{
			name:  "simple check goes late, down and up again",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h), more: expected(at(h))}},
				{"tick before the deadline", at(30 * m), tick, want{status: up, deadline: at(h)}},
				{"tick a nanosecond early", at(h - 1), tick, want{status: up, deadline: at(h)}},
				{"expected time", at(h), tick, want{status: late, flip: "up->late", deadline: at(h + 10*m)}},
				{"tick within grace", at(h + 5*m), tick, want{status: late, deadline: at(h + 10*m)}},
				{"grace ran out", at(h + 10*m), tick, want{status: down, flip: "late->down", alert: firing,
					more: reason("grace period of 10 min ran out")}},
				{"tick while down", at(2 * h), tick, want{status: down}},
				{"ping while down", at(2*h + 5*m), success, want{status: up, flip: "down->up", alert: resolved,
					deadline: at(3*h + 5*m), more: all(expected(at(3*h+5*m)), failures(0))}},
			},
		},
		{
			name:  "late ping makes the check up without any alert",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"expected time", at(h), tick, want{status: late, flip: "up->late", deadline: at(h + 10*m)}},
				{"ping within grace", at(h + 5*m), success, want{status: up, flip: "late->up", deadline: at(2*h + 5*m)}},
			},
		},
		{
			name:  "ping before the deadline moves it",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"early ping", at(59 * m), success, want{status: up, deadline: at(h + 59*m)}},
				{"old deadline", at(h), tick, want{status: up, deadline: at(h + 59*m)}},
			},
		},
		{
			name:  "engine behind: up goes straight to down in one tick",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"tick long after expected+grace", at(3 * h), tick, want{status: down, flip: "up->down", alert: firing,
					more: reason("one was expected at 2026-01-05T11:00:00Z")}},
				{"tick again", at(4 * h), tick, want{status: down}},
			},
		},
		{
			name:  "engine behind exactly to expected+grace",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"tick at expected+grace", at(h + 10*m), tick, want{status: down, flip: "up->down", alert: firing}},
			},
		},
		{
			name:  "runs with start and max runtime",
			check: with(func(c *nightjar.Check) { c.MaxRuntime = 30 * m }),
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"start", at(55 * m), start, want{status: started, deadline: at(85 * m)}},
				{"expected time passes while running", at(h), tick, want{status: started, deadline: at(85 * m)}},
				{"success", at(h + 5*m), success, want{status: up, deadline: at(2*h + 5*m), more: duration(10 * m)}},
				{"start", at(2 * h), start, want{status: started, deadline: at(2*h + 30*m)}},
				{"run limit", at(2*h + 30*m), tick, want{status: down, flip: "started->down", alert: firing,
					more: reason("did not finish within 30 min")}},
				{"start while down", at(3 * h), start, want{status: down}},
				{"success ends the outage", at(3*h + 20*m), success, want{status: up, flip: "down->up", alert: resolved,
					deadline: at(4*h + 20*m), more: duration(20 * m)}},
				// A finish that closes no run leaves no last duration, as
				// in Healthchecks.
				{"success without a start", at(4 * h), success, want{status: up, deadline: at(5 * h), more: duration(0)}},
			},
		},
		{
			name:  "start without max runtime is bounded by grace",
			check: simpleCheck,
			steps: []step{
				{"start on a new check", at(0), start, want{status: started, flip: "new->started", deadline: at(10 * m)}},
				{"before the limit", at(10*m - 1), tick, want{status: started, deadline: at(10 * m)}},
				{"limit", at(10 * m), tick, want{status: down, flip: "started->down", alert: firing}},
			},
		},
		{
			name:  "start on a late check",
			check: with(func(c *nightjar.Check) { c.MaxRuntime = 2 * h }),
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"expected time", at(h), tick, want{status: late, flip: "up->late", deadline: at(h + 10*m)}},
				{"start", at(h + 2*m), start, want{status: started, flip: "late->started", deadline: at(3*h + 2*m)}},
				{"grace would have run out", at(h + 10*m), tick, want{status: started, deadline: at(3*h + 2*m)}},
				{"success", at(2 * h), success, want{status: up, flip: "started->up", deadline: at(3 * h), more: duration(58 * m)}},
			},
		},
		{
			name:  "second start restarts the run limit",
			check: with(func(c *nightjar.Check) { c.MaxRuntime = 30 * m }),
			steps: []step{
				{"start", at(0), start, want{status: started, flip: "new->started", deadline: at(30 * m)}},
				{"start again", at(20 * m), start, want{status: started, deadline: at(50 * m)}},
				{"old limit", at(30 * m), tick, want{status: started, deadline: at(50 * m)}},
				{"success", at(45 * m), success, want{status: up, flip: "started->up", deadline: at(h + 45*m), more: duration(25 * m)}},
			},
		},
		{
			// Five jobs, each reporting its start and its success: the
			// history says the check came up, then stays quiet.
			name:  "runs of a new check",
			check: simpleCheck,
			steps: []step{
				{"start 1", at(0), start, want{status: started, flip: "new->started", deadline: at(10 * m)}},
				{"success 1", at(m), success, want{status: up, flip: "started->up", deadline: at(h + m), more: duration(m)}},
				{"start 2", at(h), start, want{status: started, deadline: at(h + 10*m)}},
				{"success 2", at(h + m), success, want{status: up, deadline: at(2*h + m)}},
				{"start 3", at(2 * h), start, want{status: started, deadline: at(2*h + 10*m)}},
				{"success 3", at(2*h + m), success, want{status: up, deadline: at(3*h + m)}},
			},
		},
		{
			name:  "failure threshold 1",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"fail", at(10 * m), fail, want{status: down, flip: "up->down", alert: firing,
					more: all(reason("the job reported failure"), failures(1), note(nightjar.PingFail, ""), expected(at(h+10*m)))}},
				{"fail again", at(20 * m), fail, want{status: down, more: failures(2)}},
				{"non-zero exit", at(30 * m), exit(3), want{status: down, more: failures(3)}},
				{"tick while down", at(2 * h), tick, want{status: down}},
				{"exit 0", at(3 * h), exit(0), want{status: up, flip: "down->up", alert: resolved, deadline: at(4 * h), more: failures(0)}},
				{"non-zero exit", at(3*h + 10*m), exit(3), want{status: down, flip: "up->down", alert: firing,
					more: reason("the job exited with status 3")}},
			},
		},
		{
			name:  "failure threshold 3",
			check: with(func(c *nightjar.Check) { c.FailureThreshold = 3 }),
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"fail 1", at(10 * m), fail, want{status: up, deadline: at(h + 10*m),
					more: all(failures(1), note(nightjar.PingFail, "the job reported failure (failure 1 of 3 before alerting)"), expected(at(h+10*m)))}},
				{"fail 2", at(20 * m), exit(2), want{status: up, deadline: at(h + 20*m),
					more: all(failures(2), note(nightjar.PingFail, "the job exited with status 2 (failure 2 of 3 before alerting)"))}},
				{"fail 3", at(30 * m), fail, want{status: down, flip: "up->down", alert: firing,
					more: all(failures(3), reason("(3 failures in a row)"))}},
				{"fail 4", at(40 * m), fail, want{status: down, more: failures(4)}},
				{"success", at(50 * m), success, want{status: up, flip: "down->up", alert: resolved, deadline: at(h + 50*m), more: failures(0)}},
				{"fail 1 again", at(60 * m), fail, want{status: up, deadline: at(2 * h), more: failures(1)}},
				{"success resets", at(70 * m), success, want{status: up, deadline: at(2*h + 10*m), more: failures(0)}},
				{"fail 1", at(80 * m), fail, want{status: up, deadline: at(2*h + 20*m), more: failures(1)}},
				{"fail 2", at(90 * m), fail, want{status: up, deadline: at(2*h + 30*m), more: failures(2)}},
			},
		},
		{
			name:  "failures below the threshold on a new, late or started check",
			check: with(func(c *nightjar.Check) { c.FailureThreshold = 3 }),
			steps: []step{
				{"fail on a new check", at(0), fail, want{status: up, flip: "new->up", deadline: at(h)}},
				{"expected time", at(h), tick, want{status: late, flip: "up->late", deadline: at(h + 10*m)}},
				{"fail on a late check", at(h + 5*m), fail, want{status: up, flip: "late->up", deadline: at(2*h + 5*m)}},
				{"start", at(2 * h), start, want{status: started, deadline: at(2*h + 10*m)}},
				{"fail 3 ends the run", at(2*h + 5*m), fail, want{status: down, flip: "started->down", alert: firing,
					more: duration(5 * m)}},
			},
		},
		{
			name:  "a check down by timeout stays down on failures below the threshold",
			check: with(func(c *nightjar.Check) { c.FailureThreshold = 3 }),
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"grace ran out", at(2 * h), tick, want{status: down, flip: "up->down", alert: firing}},
				{"fail 1", at(2*h + 10*m), fail, want{status: down, more: failures(1)}},
				{"success", at(2*h + 20*m), success, want{status: up, flip: "down->up", alert: resolved, deadline: at(3*h + 20*m)}},
			},
		},
		{
			name:  "re-alerts while down",
			check: with(func(c *nightjar.Check) { c.RealertInterval = 30 * m }),
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"fail", at(10 * m), fail, want{status: down, flip: "up->down", alert: firing, deadline: at(40 * m)}},
				{"before the interval", at(30 * m), tick, want{status: down, deadline: at(40 * m)}},
				{"another failure", at(35 * m), fail, want{status: down, deadline: at(40 * m)}},
				{"interval", at(40 * m), tick, want{status: down, alert: firing, deadline: at(70 * m), more: reason("still down")}},
				{"start while down", at(50 * m), start, want{status: down, deadline: at(70 * m)}},
				{"interval again", at(70 * m), tick, want{status: down, alert: firing, deadline: at(100 * m)}},
				{"success", at(80 * m), success, want{status: up, flip: "down->up", alert: resolved, deadline: at(2*h + 20*m)}},
				{"old re-alert time", at(100 * m), tick, want{status: up, deadline: at(2*h + 20*m)}},
			},
		},
		{
			name:  "engine behind on a re-alert",
			check: with(func(c *nightjar.Check) { c.RealertInterval = 30 * m }),
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"grace ran out", at(h + 10*m), tick, want{status: down, flip: "up->down", alert: firing, deadline: at(h + 40*m)}},
				{"late tick", at(3 * h), tick, want{status: down, alert: firing, deadline: at(3*h + 30*m)}},
			},
		},
		{
			name:  "pause resolves, a ping resumes, resume waits like new",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"fail", at(10 * m), fail, want{status: down, flip: "up->down", alert: firing}},
				{"pause while down", at(20 * m), pause, want{status: paused, flip: "down->paused", alert: resolved,
					more: all(expected(none), failures(0))}},
				{"tick while paused", at(2 * h), tick, want{status: paused}},
				{"pause again", at(2 * h), pause, want{status: paused}},
				{"ping resumes", at(3 * h), success, want{status: up, flip: "paused->up", deadline: at(4 * h)}},
				{"pause while up", at(3*h + 30*m), pause, want{status: paused, flip: "up->paused"}},
				{"resume", at(4 * h), resume, want{status: fresh, flip: "paused->new", more: expected(none)}},
				{"tick after resume", at(10 * h), tick, want{status: fresh}},
				{"first ping after resume", at(11 * h), success, want{status: up, flip: "new->up", deadline: at(12 * h)}},
			},
		},
		{
			name:  "a failure resumes a paused check",
			check: with(func(c *nightjar.Check) { c.FailureThreshold = 2 }),
			steps: []step{
				{"pause", at(0), pause, want{status: paused, flip: "new->paused"}},
				{"fail", at(10 * m), fail, want{status: up, flip: "paused->up", deadline: at(h + 10*m), more: failures(1)}},
			},
		},
		{
			name:  "a start resumes a paused check",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"pause", at(10 * m), pause, want{status: paused, flip: "up->paused"}},
				{"start", at(20 * m), start, want{status: started, flip: "paused->started", deadline: at(30 * m)}},
			},
		},
		{
			name:  "pause while started or late",
			check: simpleCheck,
			steps: []step{
				{"start", at(0), start, want{status: started, flip: "new->started", deadline: at(10 * m)}},
				{"pause while started", at(5 * m), pause, want{status: paused, flip: "started->paused"}},
				{"old run limit", at(10 * m), tick, want{status: paused}},
				{"ping", at(20 * m), success, want{status: up, flip: "paused->up", deadline: at(h + 20*m)}},
				{"expected time", at(h + 20*m), tick, want{status: late, flip: "up->late", deadline: at(h + 30*m)}},
				{"pause while late", at(h + 25*m), pause, want{status: paused, flip: "late->paused"}},
			},
		},
		{
			name:  "manual resume records pings but stays paused",
			check: with(func(c *nightjar.Check) { c.ManualResume = true }),
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"pause", at(10 * m), pause, want{status: paused, flip: "up->paused"}},
				// Healthchecks records such pings as ignored and leaves
				// the last ping alone.
				{"success", at(20 * m), success, want{status: paused, more: all(ignored, func(t *testing.T, c *nightjar.Check, _ heartbeat.Outcome) {
					if c.State.NPings != 2 || !c.State.LastPing.Equal(at(0)) {
						t.Errorf("n_pings = %d, last ping = %s; want 2 and +0", c.State.NPings, show(c.State.LastPing))
					}
				})}},
				{"fail", at(30 * m), fail, want{status: paused, more: all(ignored, failures(0))}},
				{"start", at(40 * m), start, want{status: paused, more: all(ignored, func(t *testing.T, c *nightjar.Check, _ heartbeat.Outcome) {
					if !c.State.LastStart.IsZero() {
						t.Errorf("last start = %s, want none", show(c.State.LastStart))
					}
				})}},
				{"tick", at(3 * h), tick, want{status: paused}},
				{"resume", at(4 * h), resume, want{status: fresh, flip: "paused->new", more: func(t *testing.T, c *nightjar.Check, _ heartbeat.Outcome) {
					if !c.State.LastPing.IsZero() {
						t.Errorf("last ping after resume = %s, want none (Healthchecks clears it)", show(c.State.LastPing))
					}
				}}},
				{"ping", at(5 * h), success, want{status: up, flip: "new->up", deadline: at(6 * h)}},
			},
		},
		{
			name:  "recover an up check",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"recover after downtime", at(3 * h), recoverGap(true), want{status: up, deadline: at(3 * h), more: expected(at(3 * h))}},
				{"next tick: late, with a fresh grace period", at(3 * h), tick, want{status: late, flip: "up->late", deadline: at(3*h + 10*m)}},
				{"within the fresh grace", at(3*h + 5*m), tick, want{status: late, deadline: at(3*h + 10*m)}},
				{"fresh grace ran out", at(3*h + 10*m), tick, want{status: down, flip: "late->down", alert: firing}},
			},
		},
		{
			name:  "recover an up check that then pings",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"recover after downtime", at(3 * h), recoverGap(true), want{status: up, deadline: at(3 * h)}},
				{"ping", at(3*h + 5*m), success, want{status: up, deadline: at(4*h + 5*m)}},
			},
		},
		{
			name:  "recover a late check",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"expected time", at(h), tick, want{status: late, flip: "up->late", deadline: at(h + 10*m)}},
				{"recover after downtime", at(2 * h), recoverGap(true), want{status: late, deadline: at(2*h + 10*m)}},
				{"old deadline passed", at(2*h + 5*m), tick, want{status: late, deadline: at(2*h + 10*m)}},
				{"fresh grace ran out", at(2*h + 10*m), tick, want{status: down, flip: "late->down", alert: firing}},
			},
		},
		{
			name:  "recover a started check with max runtime",
			check: with(func(c *nightjar.Check) { c.MaxRuntime = 30 * m }),
			steps: []step{
				{"start", at(0), start, want{status: started, flip: "new->started", deadline: at(30 * m)}},
				{"recover after downtime", at(2 * h), recoverGap(true), want{status: started, deadline: at(2*h + 30*m)}},
				{"success", at(2*h + 20*m), success, want{status: up, flip: "started->up", deadline: at(3*h + 20*m),
					more: duration(2*h + 20*m)}},
			},
		},
		{
			name:  "recover a started check without max runtime",
			check: simpleCheck,
			steps: []step{
				{"start", at(0), start, want{status: started, flip: "new->started", deadline: at(10 * m)}},
				{"recover after downtime", at(2 * h), recoverGap(true), want{status: started, deadline: at(2*h + 10*m)}},
				{"fresh limit", at(2*h + 10*m), tick, want{status: down, flip: "started->down", alert: firing}},
			},
		},
		{
			name:  "recover leaves down, new and paused checks alone",
			check: with(func(c *nightjar.Check) { c.RealertInterval = h }),
			steps: []step{
				{"recover a new check", at(0), recoverGap(false), want{status: fresh}},
				{"fail", at(10 * m), fail, want{status: down, flip: "new->down", alert: firing, deadline: at(h + 10*m)}},
				{"recover a down check", at(3 * h), recoverGap(false), want{status: down, deadline: at(h + 10*m)}},
				{"pause", at(3 * h), pause, want{status: paused, flip: "down->paused", alert: resolved}},
				{"recover a paused check", at(4 * h), recoverGap(false), want{status: paused}},
			},
		},
		{
			name:  "reschedule an up check to a longer period",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"timeout 2h", at(30 * m), reschedule(func(c *nightjar.Check) { c.Timeout = 2 * h }),
					want{status: up, deadline: at(2 * h), more: expected(at(2 * h))}},
				{"old deadline", at(h), tick, want{status: up, deadline: at(2 * h)}},
				{"new deadline", at(2 * h), tick, want{status: late, flip: "up->late", deadline: at(2*h + 10*m)}},
			},
		},
		{
			name:  "reschedule an up check to a period already over",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"timeout 45m", at(50 * m), reschedule(func(c *nightjar.Check) { c.Timeout = 45 * m }),
					want{status: up, deadline: at(45 * m)}},
				{"next tick", at(50 * m), tick, want{status: late, flip: "up->late", deadline: at(55 * m)}},
			},
		},
		{
			name:  "reschedule an up check whose new grace is over too",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"timeout 30m", at(50 * m), reschedule(func(c *nightjar.Check) { c.Timeout = 30 * m }),
					want{status: up, deadline: at(30 * m)}},
				{"next tick", at(50 * m), tick, want{status: down, flip: "up->down", alert: firing}},
			},
		},
		{
			name:  "reschedule a late check to a longer period makes it up",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"expected time", at(h), tick, want{status: late, flip: "up->late", deadline: at(h + 10*m)}},
				{"timeout 2h", at(h + 5*m), reschedule(func(c *nightjar.Check) { c.Timeout = 2 * h }),
					want{status: late, deadline: at(h + 5*m), more: expected(at(2 * h))}},
				{"next tick", at(h + 5*m), tick, want{status: up, flip: "late->up", deadline: at(2 * h)}},
				{"new expected time", at(2 * h), tick, want{status: late, flip: "up->late", deadline: at(2*h + 10*m)}},
			},
		},
		{
			name:  "reschedule a late check to a longer grace keeps it late",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"expected time", at(h), tick, want{status: late, flip: "up->late", deadline: at(h + 10*m)}},
				{"grace 30m", at(h + 5*m), reschedule(func(c *nightjar.Check) { c.Grace = 30 * m }),
					want{status: late, deadline: at(h + 5*m)}},
				{"next tick", at(h + 5*m), tick, want{status: late, deadline: at(h + 30*m)}},
				{"old grace", at(h + 10*m), tick, want{status: late, deadline: at(h + 30*m)}},
				{"new grace ran out", at(h + 30*m), tick, want{status: down, flip: "late->down", alert: firing}},
			},
		},
		{
			name:  "reschedule a late check to a shorter grace makes it down",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"expected time", at(h), tick, want{status: late, flip: "up->late", deadline: at(h + 10*m)}},
				{"grace 3m", at(h + 5*m), reschedule(func(c *nightjar.Check) { c.Grace = 3 * m }),
					want{status: late, deadline: at(h + 5*m)}},
				{"next tick", at(h + 5*m), tick, want{status: down, flip: "late->down", alert: firing}},
			},
		},
		{
			name:  "reschedule a started check to a longer max runtime",
			check: with(func(c *nightjar.Check) { c.MaxRuntime = 30 * m }),
			steps: []step{
				{"start", at(0), start, want{status: started, flip: "new->started", deadline: at(30 * m)}},
				{"max runtime 1h", at(10 * m), reschedule(func(c *nightjar.Check) { c.MaxRuntime = h }),
					want{status: started, deadline: at(h)}},
				{"old limit", at(30 * m), tick, want{status: started, deadline: at(h)}},
				{"max runtime 0: grace", at(40 * m), reschedule(func(c *nightjar.Check) { c.MaxRuntime = 0 }),
					want{status: started, deadline: at(10 * m)}},
				{"limit passed", at(40 * m), tick, want{status: down, flip: "started->down", alert: firing}},
			},
		},
		{
			name:  "reschedule a down check's re-alert interval",
			check: simpleCheck,
			steps: []step{
				{"fail", at(0), fail, want{status: down, flip: "new->down", alert: firing}},
				{"re-alert every hour", at(10 * m), reschedule(func(c *nightjar.Check) { c.RealertInterval = h }),
					want{status: down, deadline: at(h + 10*m)}},
				{"re-alert", at(h + 10*m), tick, want{status: down, alert: firing, deadline: at(2*h + 10*m)}},
				{"re-alert off", at(h + 10*m), reschedule(func(c *nightjar.Check) { c.RealertInterval = 0 }),
					want{status: down}},
			},
		},
		{
			name:  "reschedule a simple check to a cron schedule",
			check: simpleCheck,
			steps: []step{
				{"first ping", at(0), success, want{status: up, flip: "new->up", deadline: at(h)}},
				{"hourly at :30", at(10 * m), reschedule(func(c *nightjar.Check) {
					c.Kind, c.Schedule, c.TZ = nightjar.KindCron, "30 * * * *", "UTC"
				}), want{status: up, deadline: at(30 * m)}},
				{"slot", at(30 * m), tick, want{status: late, flip: "up->late", deadline: at(40 * m)}},
			},
		},
		{
			name:  "reschedule leaves new and paused checks alone",
			check: simpleCheck,
			steps: []step{
				{"new", at(0), reschedule(func(c *nightjar.Check) { c.Timeout = 2 * h }), want{status: fresh}},
				{"pause", at(0), pause, want{status: paused, flip: "new->paused"}},
				{"paused", at(10 * m), reschedule(func(c *nightjar.Check) { c.Timeout = 3 * h }), want{status: paused}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, tt.check(), tt.steps)
		})
	}
}

// TestCronCheck follows a daily cron check through a job that pings a few
// seconds before its slot: the ping counts for that slot, so the check is
// not late when the slot comes.
func TestCronCheck(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	local := func(day, hour, min, sec int) time.Time {
		return time.Date(2026, 1, day, hour, min, sec, 0, berlin)
	}
	c := simpleCheck()
	c.Kind, c.Schedule, c.TZ = nightjar.KindCron, "0 2 * * *", "Europe/Berlin"
	c.EarlyTolerance = time.Minute
	runSteps(t, c, []step{
		{"early ping", local(10, 1, 59, 30), success, want{status: nightjar.StatusUp, flip: "new->up", deadline: local(11, 2, 0, 0)}},
		{"its slot", local(10, 2, 0, 0), tick, want{status: nightjar.StatusUp, deadline: local(11, 2, 0, 0)}},
		{"next slot", local(11, 2, 0, 0), tick, want{status: nightjar.StatusLate, flip: "up->late", deadline: local(11, 2, 10, 0)}},
		{"late ping", local(11, 2, 5, 0), success, want{status: nightjar.StatusUp, flip: "late->up", deadline: local(12, 2, 0, 0)}},
		{"missed", local(12, 2, 10, 0), tick, want{status: nightjar.StatusDown, flip: "up->down", alert: nightjar.AlertFiring}},
	})
}

func TestExpectedAfter(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	newYork := mustZone(t, "America/New_York")
	utc := time.UTC
	tests := []struct {
		name     string
		kind     string
		timeout  time.Duration
		schedule string
		tz       string
		tol      time.Duration
		ping     time.Time
		want     time.Time
	}{
		{name: "simple", kind: nightjar.KindSimple, timeout: 24 * h,
			ping: time.Date(2026, 3, 28, 12, 0, 0, 0, berlin), want: time.Date(2026, 3, 29, 13, 0, 0, 0, berlin)},
		{name: "simple ignores the schedule", kind: nightjar.KindSimple, timeout: 90 * s, schedule: "0 2 * * *", tz: "Europe/Berlin",
			ping: base, want: base.Add(90 * s)},

		// A daily job at 02:00 Berlin time with a minute of tolerance.
		{name: "early within tolerance counts for today's slot", schedule: "0 2 * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 1, 10, 1, 59, 30, 0, berlin), want: time.Date(2026, 1, 11, 2, 0, 0, 0, berlin)},
		{name: "exactly the tolerance before the slot", schedule: "0 2 * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 1, 10, 1, 59, 0, 0, berlin), want: time.Date(2026, 1, 11, 2, 0, 0, 0, berlin)},
		{name: "just outside the tolerance", schedule: "0 2 * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 1, 10, 1, 58, 59, 0, berlin), want: time.Date(2026, 1, 10, 2, 0, 0, 0, berlin)},
		{name: "ten minutes early expects today's slot", schedule: "0 2 * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 1, 10, 1, 50, 0, 0, berlin), want: time.Date(2026, 1, 10, 2, 0, 0, 0, berlin)},
		{name: "on the slot", schedule: "0 2 * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 1, 10, 2, 0, 0, 0, berlin), want: time.Date(2026, 1, 11, 2, 0, 0, 0, berlin)},
		{name: "after the slot", schedule: "0 2 * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 1, 10, 2, 7, 12, 0, berlin), want: time.Date(2026, 1, 11, 2, 0, 0, 0, berlin)},
		{name: "no tolerance", schedule: "0 2 * * *", tz: "Europe/Berlin", tol: 0,
			ping: time.Date(2026, 1, 10, 1, 59, 59, 0, berlin), want: time.Date(2026, 1, 10, 2, 0, 0, 0, berlin)},
		{name: "larger tolerance", schedule: "0 2 * * *", tz: "Europe/Berlin", tol: 10 * m,
			ping: time.Date(2026, 1, 10, 1, 50, 0, 0, berlin), want: time.Date(2026, 1, 11, 2, 0, 0, 0, berlin)},
		{name: "slot in the check's zone, not UTC", schedule: "0 2 * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 1, 10, 1, 30, 0, 0, utc), want: time.Date(2026, 1, 11, 2, 0, 0, 0, berlin)},
		{name: "no zone means UTC", schedule: "0 2 * * *", tz: "", tol: time.Minute,
			ping: time.Date(2026, 1, 10, 1, 30, 0, 0, utc), want: time.Date(2026, 1, 10, 2, 0, 0, 0, utc)},

		// The tolerance is capped at half the gap to the following slot.
		{name: "cap: more than half the gap early", schedule: "*/10 * * * *", tz: "UTC", tol: 24 * h,
			ping: time.Date(2026, 1, 10, 12, 4, 0, 0, utc), want: time.Date(2026, 1, 10, 12, 10, 0, 0, utc)},
		{name: "cap: exactly half the gap early", schedule: "*/10 * * * *", tz: "UTC", tol: 24 * h,
			ping: time.Date(2026, 1, 10, 12, 5, 0, 0, utc), want: time.Date(2026, 1, 10, 12, 20, 0, 0, utc)},
		{name: "cap: every minute", schedule: "* * * * *", tz: "UTC", tol: time.Minute,
			ping: time.Date(2026, 1, 10, 12, 4, 20, 0, utc), want: time.Date(2026, 1, 10, 12, 5, 0, 0, utc)},
		{name: "cap: every minute, late in the minute", schedule: "* * * * *", tz: "UTC", tol: time.Minute,
			ping: time.Date(2026, 1, 10, 12, 4, 40, 0, utc), want: time.Date(2026, 1, 10, 12, 6, 0, 0, utc)},

		// Daylight-saving changes, as Vixie cron handles them.
		{name: "spring forward: 02:30 runs at 03:00 CEST", schedule: "30 2 * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 3, 28, 2, 30, 5, 0, berlin), want: time.Date(2026, 3, 29, 1, 0, 0, 0, utc)},
		{name: "spring forward: early for the shifted slot", schedule: "30 2 * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 3, 29, 0, 59, 30, 0, utc), want: time.Date(2026, 3, 30, 2, 30, 0, 0, berlin)},
		{name: "spring forward: after the shifted run", schedule: "30 2 * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 3, 29, 3, 0, 20, 0, berlin), want: time.Date(2026, 3, 30, 2, 30, 0, 0, berlin)},
		{name: "spring forward: a day of 23 hours", schedule: "0 3 * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 3, 28, 3, 0, 10, 0, berlin), want: time.Date(2026, 3, 29, 1, 0, 0, 0, utc)},
		{name: "fall back: fixed time runs once", schedule: "30 2 * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 10, 25, 0, 30, 10, 0, utc), want: time.Date(2026, 10, 26, 2, 30, 0, 0, berlin)},
		{name: "fall back: wildcard hour runs twice", schedule: "30 * * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 10, 25, 0, 30, 10, 0, utc), want: time.Date(2026, 10, 25, 1, 30, 0, 0, utc)},
		{name: "fall back: early for the repeated copy", schedule: "30 * * * *", tz: "Europe/Berlin", tol: time.Minute,
			ping: time.Date(2026, 10, 25, 1, 29, 30, 0, utc), want: time.Date(2026, 10, 25, 2, 30, 0, 0, utc)},

		{name: "weekdays: Friday's run expects Monday", schedule: "0 9 * * 1-5", tz: "America/New_York", tol: time.Minute,
			ping: time.Date(2026, 1, 9, 8, 59, 45, 0, newYork), want: time.Date(2026, 1, 12, 9, 0, 0, 0, newYork)},
		{name: "invalid schedule expects nothing", schedule: "not cron", tz: "UTC", tol: time.Minute,
			ping: base, want: none},
		{name: "impossible date expects nothing", schedule: "0 0 30 2 *", tz: "UTC", tol: time.Minute,
			ping: base, want: none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := simpleCheck()
			c.Kind, c.Timeout, c.Schedule, c.TZ, c.EarlyTolerance = nightjar.KindCron, tt.timeout, tt.schedule, tt.tz, tt.tol
			if tt.kind != "" {
				c.Kind = tt.kind
			}
			got := heartbeat.ExpectedAfter(c, tt.ping)
			if !got.Equal(tt.want) {
				t.Errorf("ExpectedAfter(%s) = %s, want %s", tt.ping.Format(time.RFC3339), fmtOrNone(got), fmtOrNone(tt.want))
			}
		})
	}
}

// fmtOrNone formats an instant in UTC, or "none".
func fmtOrNone(x time.Time) string {
	if x.IsZero() {
		return "none"
	}
	return x.UTC().Format(time.RFC3339)
}

// TestCronDSTDeadline checks that a cron check's deadline over the spring
// change is the instant Vixie cron runs the job, not the skipped wall time.
func TestCronDSTDeadline(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	c := simpleCheck()
	c.Kind, c.Schedule, c.TZ = nightjar.KindCron, "30 2 * * *", "Europe/Berlin"
	cest3 := time.Date(2026, 3, 29, 3, 0, 0, 0, berlin)
	if !cest3.Equal(time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)) {
		t.Fatalf("03:00 on 2026-03-29 in Berlin is %s, not CEST", cest3.Format(time.RFC3339))
	}
	runSteps(t, c, []step{
		{"Saturday's run", time.Date(2026, 3, 28, 2, 30, 40, 0, berlin), success,
			want{status: nightjar.StatusUp, flip: "new->up", deadline: cest3}},
		{"a nanosecond before", cest3.Add(-1), tick, want{status: nightjar.StatusUp, deadline: cest3}},
		{"03:00 CEST", cest3, tick, want{status: nightjar.StatusLate, flip: "up->late", deadline: cest3.Add(10 * m)}},
		{"Sunday's run", cest3.Add(2 * m), success,
			want{status: nightjar.StatusUp, flip: "late->up", deadline: time.Date(2026, 3, 30, 2, 30, 0, 0, berlin)}},
	})
}

func TestDuration(t *testing.T) {
	tests := []struct {
		name string
		// starts are the start pings sent before the finish; their kind is set by the test.
		starts []heartbeat.PingInput
		finish heartbeat.PingInput
		want   time.Duration
		// keep is whether the run in progress is still remembered after.
		keep bool
	}{
		{name: "no start", finish: heartbeat.PingInput{Kind: nightjar.PingSuccess, At: at(5 * m)}},
		{name: "start and success without rid",
			starts: []heartbeat.PingInput{{At: at(0)}},
			finish: heartbeat.PingInput{Kind: nightjar.PingSuccess, At: at(5 * m)}, want: 5 * m},
		{name: "start and failure without rid",
			starts: []heartbeat.PingInput{{At: at(0)}},
			finish: heartbeat.PingInput{Kind: nightjar.PingFail, At: at(3*m + 250*time.Millisecond)}, want: 3*m + 250*time.Millisecond},
		{name: "latest start without rid counts",
			starts: []heartbeat.PingInput{{At: at(0)}, {At: at(2 * m)}},
			finish: heartbeat.PingInput{Kind: nightjar.PingSuccess, At: at(5 * m)}, want: 3 * m},
		{name: "rid with its run start",
			starts: []heartbeat.PingInput{{RID: "a", At: at(0)}},
			finish: heartbeat.PingInput{Kind: nightjar.PingSuccess, RID: "a", RunStart: at(0), At: at(7 * m)}, want: 7 * m},
		{name: "rid of an earlier, overlapping run",
			starts: []heartbeat.PingInput{{RID: "a", At: at(0)}, {RID: "b", At: at(2 * m)}},
			finish: heartbeat.PingInput{Kind: nightjar.PingSuccess, RID: "a", RunStart: at(0), At: at(9 * m)}, want: 9 * m, keep: true},
		{name: "rid whose start is unknown",
			starts: []heartbeat.PingInput{{RID: "a", At: at(0)}},
			finish: heartbeat.PingInput{Kind: nightjar.PingSuccess, RID: "x", At: at(4 * m)}, keep: true},
		{name: "no rid while a run with rid is in progress",
			starts: []heartbeat.PingInput{{RID: "a", At: at(0)}},
			finish: heartbeat.PingInput{Kind: nightjar.PingSuccess, At: at(4 * m)}, keep: true},
		{name: "rid while a run without rid is in progress",
			starts: []heartbeat.PingInput{{At: at(0)}},
			finish: heartbeat.PingInput{Kind: nightjar.PingSuccess, RID: "a", At: at(4 * m)}, keep: true},
		{name: "run start after the finish",
			finish: heartbeat.PingInput{Kind: nightjar.PingSuccess, RID: "a", RunStart: at(6 * m), At: at(5 * m)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := simpleCheck()
			for _, st := range tt.starts {
				st.Kind = nightjar.PingStart
				heartbeat.ApplyPing(c, st)
			}
			lastStart := c.State.LastStart
			out := heartbeat.ApplyPing(c, tt.finish)
			if out.Duration != tt.want || c.State.LastDuration != tt.want {
				t.Errorf("duration = %s, last duration = %s, want %s", out.Duration, c.State.LastDuration, tt.want)
			}
			if out.Kind != tt.finish.Kind {
				t.Errorf("kind = %q, want %q", out.Kind, tt.finish.Kind)
			}
			if got := !c.State.LastStart.IsZero(); got != tt.keep {
				t.Errorf("run in progress remembered = %v (last start %s), want %v", got, show(c.State.LastStart), tt.keep)
			}
			if tt.keep && !c.State.LastStart.Equal(lastStart) {
				t.Errorf("last start = %s, want %s", show(c.State.LastStart), show(lastStart))
			}
		})
	}
}

func TestMinRuntime(t *testing.T) {
	tests := []struct {
		name      string
		threshold int
		start     *heartbeat.PingInput
		finish    heartbeat.PingInput
		wantKind  string
		wantNote  string
		status    string
	}{
		{name: "too fast", threshold: 1, start: &heartbeat.PingInput{At: at(0)},
			finish:   heartbeat.PingInput{Kind: nightjar.PingSuccess, At: at(30 * s)},
			wantKind: nightjar.PingFail, wantNote: "finished in 30s, faster than the minimum runtime 1m0s", status: nightjar.StatusDown},
		{name: "exactly the minimum", threshold: 1, start: &heartbeat.PingInput{At: at(0)},
			finish:   heartbeat.PingInput{Kind: nightjar.PingSuccess, At: at(m)},
			wantKind: nightjar.PingSuccess, status: nightjar.StatusUp},
		{name: "long enough", threshold: 1, start: &heartbeat.PingInput{At: at(0)},
			finish:   heartbeat.PingInput{Kind: nightjar.PingSuccess, At: at(5 * m)},
			wantKind: nightjar.PingSuccess, status: nightjar.StatusUp},
		{name: "no start: duration unknown", threshold: 1,
			finish:   heartbeat.PingInput{Kind: nightjar.PingSuccess, At: at(30 * s)},
			wantKind: nightjar.PingSuccess, status: nightjar.StatusUp},
		{name: "too fast by rid", threshold: 1, start: &heartbeat.PingInput{RID: "r1", At: at(0)},
			finish:   heartbeat.PingInput{Kind: nightjar.PingSuccess, RID: "r1", RunStart: at(0), At: at(20*s + 500*time.Millisecond)},
			wantKind: nightjar.PingFail, wantNote: "finished in 20.5s, faster than the minimum runtime 1m0s", status: nightjar.StatusDown},
		{name: "too fast, below the threshold", threshold: 3, start: &heartbeat.PingInput{At: at(0)},
			finish:   heartbeat.PingInput{Kind: nightjar.PingSuccess, At: at(10 * s)},
			wantKind: nightjar.PingFail, wantNote: "finished in 10s, faster than the minimum runtime 1m0s (failure 1 of 3 before alerting)", status: nightjar.StatusUp},
		{name: "fast failure keeps its own reason", threshold: 1, start: &heartbeat.PingInput{At: at(0)},
			finish:   heartbeat.PingInput{Kind: nightjar.PingFail, At: at(10 * s)},
			wantKind: nightjar.PingFail, status: nightjar.StatusDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := simpleCheck()
			c.MinRuntime = time.Minute
			c.FailureThreshold = tt.threshold
			if tt.start != nil {
				in := *tt.start
				in.Kind = nightjar.PingStart
				heartbeat.ApplyPing(c, in)
			}
			out := heartbeat.ApplyPing(c, tt.finish)
			if out.Kind != tt.wantKind || out.Note != tt.wantNote {
				t.Errorf("outcome = {%q, %q}, want {%q, %q}", out.Kind, out.Note, tt.wantKind, tt.wantNote)
			}
			if c.State.Status != tt.status {
				t.Errorf("status = %q, want %q", c.State.Status, tt.status)
			}
			if (tt.status == nightjar.StatusDown) != (out.Alert != nil && out.Alert.Status == nightjar.AlertFiring) {
				t.Errorf("alert = %+v with status %s", out.Alert, c.State.Status)
			}
			if tt.status == nightjar.StatusDown && tt.wantNote != "" && out.Alert.Details["reason"] != tt.wantNote {
				t.Errorf("alert reason = %q, want %q", out.Alert.Details["reason"], tt.wantNote)
			}
		})
	}
}

func TestMetricRules(t *testing.T) {
	const relative = "bytes >= 0.5 * previous"
	tests := []struct {
		name     string
		rules    []string
		last     map[string]float64
		kind     string
		metrics  map[string]float64
		wantKind string
		wantNote string
		// wantLast is LastMetrics after the ping.
		wantLast map[string]float64
	}{
		{name: "no previous metrics: nothing to compare with", rules: []string{relative},
			metrics: map[string]float64{"bytes": 120}, wantKind: nightjar.PingSuccess, wantLast: map[string]float64{"bytes": 120}},
		{name: "far below the previous run", rules: []string{relative}, last: map[string]float64{"bytes": 2e6},
			metrics: map[string]float64{"bytes": 120}, wantKind: nightjar.PingFail,
			wantNote: "metric rule failed: bytes = 120 is not >= 0.5 * previous (= 1000000)", wantLast: map[string]float64{"bytes": 2e6}},
		{name: "exactly half the previous run", rules: []string{relative}, last: map[string]float64{"bytes": 2e6},
			metrics: map[string]float64{"bytes": 1e6}, wantKind: nightjar.PingSuccess, wantLast: map[string]float64{"bytes": 1e6}},
		{name: "metric missing", rules: []string{relative}, last: map[string]float64{"bytes": 2e6},
			metrics: map[string]float64{"rows": 3}, wantKind: nightjar.PingFail,
			wantNote: "metric rule failed: metric bytes missing", wantLast: map[string]float64{"bytes": 2e6}},
		{name: "no metrics at all", rules: []string{relative}, last: map[string]float64{"bytes": 2e6},
			wantKind: nightjar.PingFail, wantNote: "metric rule failed: metric bytes missing", wantLast: map[string]float64{"bytes": 2e6}},
		{name: "first failing rule wins", rules: []string{"rows > 0", relative}, last: map[string]float64{"bytes": 2e6},
			metrics: map[string]float64{"bytes": 1, "rows": 0}, wantKind: nightjar.PingFail,
			wantNote: "metric rule failed: rows = 0 is not > 0", wantLast: map[string]float64{"bytes": 2e6}},
		{name: "all rules pass", rules: []string{"rows > 0", relative}, last: map[string]float64{"bytes": 2e6},
			metrics: map[string]float64{"bytes": 3e6, "rows": 9}, wantKind: nightjar.PingSuccess,
			wantLast: map[string]float64{"bytes": 3e6, "rows": 9}},
		{name: "rules do not judge a failure", rules: []string{"rows > 0"},
			kind: nightjar.PingFail, metrics: map[string]float64{"rows": 5}, wantKind: nightjar.PingFail},
		{name: "no rules: metrics remembered", metrics: map[string]float64{"bytes": 5}, wantKind: nightjar.PingSuccess,
			wantLast: map[string]float64{"bytes": 5}},
		{name: "success without metrics keeps the last ones", last: map[string]float64{"bytes": 5},
			wantKind: nightjar.PingSuccess, wantLast: map[string]float64{"bytes": 5}},
		{name: "unparsable rules never fail a ping", rules: []string{"bytes >="},
			metrics: map[string]float64{"rows": 1}, wantKind: nightjar.PingSuccess, wantLast: map[string]float64{"rows": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := simpleCheck()
			runSteps(t, c, []step{{"first ping", at(0), success, want{status: nightjar.StatusUp, flip: "new->up", deadline: at(h)}}})
			c.MetricRules = tt.rules
			c.State.LastMetrics = maps.Clone(tt.last)
			kind := tt.kind
			if kind == "" {
				kind = nightjar.PingSuccess
			}
			out := heartbeat.ApplyPing(c, heartbeat.PingInput{Kind: kind, At: at(10 * m), Metrics: tt.metrics})
			if out.Kind != tt.wantKind || out.Note != tt.wantNote {
				t.Errorf("outcome = {%q, %q}, want {%q, %q}", out.Kind, out.Note, tt.wantKind, tt.wantNote)
			}
			wantStatus := nightjar.StatusUp
			if tt.wantKind == nightjar.PingFail {
				wantStatus = nightjar.StatusDown
				if out.Alert == nil || out.Alert.Status != nightjar.AlertFiring {
					t.Errorf("alert = %+v, want firing", out.Alert)
				} else if tt.wantNote != "" && out.Alert.Details["reason"] != tt.wantNote {
					t.Errorf("alert reason = %q, want %q", out.Alert.Details["reason"], tt.wantNote)
				}
			}
			if c.State.Status != wantStatus {
				t.Errorf("status = %q, want %q", c.State.Status, wantStatus)
			}
			if !maps.Equal(c.State.LastMetrics, tt.wantLast) {
				t.Errorf("last metrics = %v, want %v", c.State.LastMetrics, tt.wantLast)
			}
		})
	}
}

// TestMetricRuleSequence runs a backup job whose output collapses once: the
// collapsed run fails, and the next run is compared with the last good one.
func TestMetricRuleSequence(t *testing.T) {
	c := simpleCheck()
	c.MetricRules = []string{"bytes >= 0.5 * previous"}
	c.FailureThreshold = 2
	bytes := func(n float64) action {
		return pingIn(heartbeat.PingInput{Kind: nightjar.PingSuccess, Metrics: map[string]float64{"bytes": n}})
	}
	up, down := nightjar.StatusUp, nightjar.StatusDown
	runSteps(t, c, []step{
		{"first run", at(0), bytes(2e6), want{status: up, flip: "new->up", deadline: at(h), more: note(nightjar.PingSuccess, "")}},
		{"collapsed run", at(h), bytes(100), want{status: up, deadline: at(2 * h),
			more: note(nightjar.PingFail, "metric rule failed: bytes = 100 is not >= 0.5 * previous (= 1000000) (failure 1 of 2 before alerting)")}},
		{"collapsed again", at(2 * h), bytes(150), want{status: down, flip: "up->down", alert: nightjar.AlertFiring,
			more: all(failures(2), reason("bytes = 150 is not >= 0.5 * previous (= 1000000) (2 failures in a row)"))}},
		{"recovered", at(3 * h), bytes(1.5e6), want{status: up, flip: "down->up", alert: nightjar.AlertResolved, deadline: at(4 * h),
			more: note(nightjar.PingSuccess, "")}},
		{"compared with the recovered run", at(4 * h), bytes(7e5), want{status: up, deadline: at(5 * h),
			more: note(nightjar.PingFail, "(= 750000)")}},
	})
}

// statesForTest builds checks in each status, all with a ping history
// that ends by +1h, so a later event has something to leave alone.
func statesForTest(t *testing.T) map[string]*nightjar.Check {
	t.Helper()
	build := func(c *nightjar.Check, acts ...action) *nightjar.Check {
		for i, a := range acts {
			a(t, c, at(time.Duration(i)*m))
		}
		return c
	}
	lateCheck := build(simpleCheck(), success)
	heartbeat.Tick(lateCheck, at(h))
	manual := simpleCheck()
	manual.ManualResume = true
	realert := simpleCheck()
	realert.RealertInterval = 2 * h
	return map[string]*nightjar.Check{
		"new":                   simpleCheck(),
		"up":                    build(simpleCheck(), success),
		"up with metrics":       build(simpleCheck(), pingIn(heartbeat.PingInput{Kind: nightjar.PingSuccess, Metrics: map[string]float64{"bytes": 1}})),
		"started":               build(simpleCheck(), success, start),
		"late":                  lateCheck,
		"down":                  build(simpleCheck(), success, fail),
		"down with re-alert":    build(realert, success, fail),
		"paused":                build(simpleCheck(), success, pause),
		"paused, manual resume": build(manual, success, pause),
		"up after 2 of 3 fails": build(with(func(c *nightjar.Check) { c.FailureThreshold = 3 })(), success, fail, fail),
	}
}

// cloneCheck copies a check deeply enough for before/after comparisons.
func cloneCheck(c *nightjar.Check) *nightjar.Check {
	d := *c
	d.State.LastMetrics = maps.Clone(c.State.LastMetrics)
	return &d
}

// TestLogAndIgnoredPings checks that log pings change only the ping count
// and last ping time, and ignored ones only the count, in every status. A
// check paused until resumed by hand ignores log pings too.
func TestLogAndIgnoredPings(t *testing.T) {
	for name, c := range statesForTest(t) {
		for _, kind := range []string{nightjar.PingLog, nightjar.PingIgnored} {
			t.Run(name+"/"+kind, func(t *testing.T) {
				c := cloneCheck(c)
				want := cloneCheck(c)
				now := at(h + 5*m)
				want.State.NPings++
				wantOut := heartbeat.Outcome{Kind: kind}
				switch {
				case kind == nightjar.PingIgnored:
				case c.ManualResume && c.State.Status == nightjar.StatusPaused:
					wantOut = heartbeat.Outcome{Kind: nightjar.PingIgnored, Note: "the check is paused and resumes only by hand"}
				default:
					want.State.LastPing = now
				}
				out := heartbeat.ApplyPing(c, heartbeat.PingInput{Kind: kind, At: now, Metrics: map[string]float64{"bytes": 0}})
				if !reflect.DeepEqual(out, wantOut) {
					t.Errorf("outcome = %+v, want %+v", out, wantOut)
				}
				if !reflect.DeepEqual(c, want) {
					t.Errorf("state = %+v\nwant    %+v", c.State, want.State)
				}
			})
		}
	}
}

// TestTickBeforeDeadline checks that a tick before a check's deadline, or
// on a check without one, changes nothing.
func TestTickBeforeDeadline(t *testing.T) {
	for name, c := range statesForTest(t) {
		t.Run(name, func(t *testing.T) {
			now := c.State.NextDeadline.Add(-time.Nanosecond)
			if c.State.NextDeadline.IsZero() {
				now = at(1000 * h)
			}
			c = cloneCheck(c)
			want := cloneCheck(c)
			out := heartbeat.Tick(c, now)
			if !reflect.DeepEqual(out, heartbeat.Outcome{}) {
				t.Errorf("Tick(%s) = %+v, want nothing", show(now), out)
			}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("state = %+v\nwant    %+v", c.State, want.State)
			}
		})
	}
}

// TestTickClearsStaleDeadlines checks that a deadline left on a check
// that no longer needs one is cleared without any other effect.
func TestTickClearsStaleDeadlines(t *testing.T) {
	tests := []struct {
		name  string
		setup []action
	}{
		{"down, re-alert switched off", []action{fail}},
		{"paused", []action{success, pause}},
		{"new", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := simpleCheck()
			c.RealertInterval = h
			for _, a := range tt.setup {
				a(t, c, at(0))
			}
			c.RealertInterval = 0
			c.State.NextDeadline = at(h)
			want := cloneCheck(c)
			want.State.NextDeadline = none
			if out := heartbeat.Tick(c, at(2*h)); !reflect.DeepEqual(out, heartbeat.Outcome{}) {
				t.Errorf("Tick = %+v, want nothing", out)
			}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("state = %+v\nwant    %+v", c.State, want.State)
			}
		})
	}
}

// TestAlertContents checks what the firing and resolving alerts of one
// outage carry.
func TestAlertContents(t *testing.T) {
	c := simpleCheck()
	heartbeat.ApplyPing(c, heartbeat.PingInput{Kind: nightjar.PingSuccess, At: at(0)})
	fired := heartbeat.ApplyPing(c, heartbeat.PingInput{Kind: nightjar.PingFail, At: at(10 * m)}).Alert
	resolved := heartbeat.ApplyPing(c, heartbeat.PingInput{Kind: nightjar.PingSuccess, At: at(h)}).Alert
	if fired == nil || resolved == nil {
		t.Fatalf("alerts = %+v, %+v; want a firing and a resolving one", fired, resolved)
	}
	wantFired := &nightjar.Alert{
		ProjectID: "p1", DedupKey: "check:c1", Source: "check", SourceID: "c1", Service: "db",
		Severity: nightjar.SeverityPage, Status: nightjar.AlertFiring, StartsAt: at(10 * m),
		Summary: `Check "nightly backup" is down: the job reported failure`,
		Details: map[string]string{"reason": "the job reported failure", "check": "nightly backup", "last_ping": "2026-01-05T10:10:00Z"},
	}
	if !reflect.DeepEqual(fired, wantFired) {
		t.Errorf("firing alert = %+v\nwant           %+v", *fired, *wantFired)
	}
	if resolved.Status != nightjar.AlertResolved || resolved.DedupKey != fired.DedupKey ||
		!resolved.StartsAt.Equal(at(10*m)) || !resolved.EndsAt.Equal(at(h)) ||
		resolved.Summary != `Check "nightly backup" is up again` {
		t.Errorf("resolving alert = %+v", *resolved)
	}

	// A check without a name is named by its id.
	c = simpleCheck()
	c.Name = ""
	a := heartbeat.ApplyPing(c, heartbeat.PingInput{Kind: nightjar.PingFail, At: at(0)}).Alert
	if a == nil || a.Summary != `Check "c1" is down: the job reported failure` {
		t.Errorf("alert = %+v, want one naming the check by id", a)
	}
}

func TestDedupKey(t *testing.T) {
	if got := heartbeat.DedupKey("abc"); got != "check:abc" {
		t.Errorf("DedupKey = %q", got)
	}
}
