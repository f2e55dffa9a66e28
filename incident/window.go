package incident

import (
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/schedule"
)

// Window is a span of time, once or again and again: maintenance, or a
// team's working hours. A one-off window is [Start, End). A recurring one
// starts at every run of Schedule (cron or OnCalendar, as for checks) in
// Zone and lasts Duration; Start and End, when set, bound which starts
// count and cut the last instance short at End.
//
// Duration is absolute time: a window from 01:00 lasting four hours on the
// night clocks go forward ends at 06:00 local time. Starts follow the
// schedule package's daylight-saving rules, those of the cron daemon.
type Window struct {
	Start    time.Time
	End      time.Time
	Schedule string
	Zone     string
	Duration time.Duration
}

// MaxWindowDuration is the longest a recurring window's instance may last.
const MaxWindowDuration = 31 * 24 * time.Hour

// Recurring reports whether the window repeats on a schedule.
func (w *Window) Recurring() bool { return w.Schedule != "" }

// Validate returns a field error, named under field (as field.schedule
// etc.), for a window that cannot be evaluated.
func (w *Window) Validate(field string) error {
	if !w.Recurring() {
		switch {
		case w.Start.IsZero() || w.End.IsZero():
			return nightjar.FieldError(field+".start", "a one-off window needs both start and end (or a schedule to recur on)")
		case !w.End.After(w.Start):
			return nightjar.FieldError(field+".end", "must be after start")
		case w.Zone != "" || w.Duration != 0:
			return nightjar.FieldError(field+".duration", "only a window with a schedule has a duration and zone")
		}
		return nil
	}
	switch {
	case !nightjar.ValidText(w.Schedule):
		return nightjar.TextFieldError(field + ".schedule")
	case len(w.Schedule) > 1000:
		return nightjar.FieldError(field+".schedule", "must be at most 1000 characters")
	case !nightjar.ValidText(w.Zone) || len(w.Zone) > 100:
		return nightjar.FieldError(field+".zone", "must be an IANA time zone name such as Europe/Berlin")
	case w.Duration < time.Minute || w.Duration > MaxWindowDuration:
		return nightjar.FieldError(field+".duration", "must be between 60 and %d seconds", int(MaxWindowDuration.Seconds()))
	case !w.Start.IsZero() && !w.End.IsZero() && !w.End.After(w.Start):
		return nightjar.FieldError(field+".end", "must be after start")
	}
	if _, err := schedule.ParseCached(w.Schedule); err != nil {
		return nightjar.FieldError(field+".schedule", "%v", err)
	}
	if _, err := nightjar.LoadLocation(w.Zone); err != nil {
		return nightjar.FieldError(field+".zone", "must be an IANA time zone name such as Europe/Berlin")
	}
	return nil
}

// ActiveAt reports whether t falls in the window, and if so until when at
// least: the end of the instance that started first among those covering
// t. A window that does not validate is never active.
func (w *Window) ActiveAt(t time.Time) (bool, time.Time) {
	if !w.Recurring() {
		if !t.Before(w.Start) && t.Before(w.End) {
			return true, w.End
		}
		return false, time.Time{}
	}
	sched, loc, ok := w.parsed()
	if !ok || (!w.End.IsZero() && !t.Before(w.End)) {
		return false, time.Time{}
	}
	// An instance covers t when it started in (t-Duration, t]; Next finds
	// the first start strictly after its argument.
	after := t.Add(-w.Duration)
	if !w.Start.IsZero() && after.Before(w.Start) {
		after = w.Start.Add(-time.Nanosecond)
	}
	s := sched.Next(after, loc)
	if s.IsZero() || s.After(t) {
		return false, time.Time{}
	}
	until := s.Add(w.Duration)
	if !w.End.IsZero() && until.After(w.End) {
		until = w.End
	}
	return true, until
}

// NextStart returns the first instant at or after t when the window is
// active: t itself when it already is, or the zero time when it never is
// again.
func (w *Window) NextStart(t time.Time) time.Time {
	if ok, _ := w.ActiveAt(t); ok {
		return t
	}
	if !w.Recurring() {
		if t.Before(w.Start) {
			return w.Start
		}
		return time.Time{}
	}
	sched, loc, ok := w.parsed()
	if !ok {
		return time.Time{}
	}
	after := t.Add(-time.Nanosecond)
	if !w.Start.IsZero() && after.Before(w.Start) {
		after = w.Start.Add(-time.Nanosecond)
	}
	s := sched.Next(after, loc)
	if s.IsZero() || (!w.End.IsZero() && !s.Before(w.End)) {
		return time.Time{}
	}
	return s
}

// parsed returns the window's schedule and zone, or false when either is
// unusable.
func (w *Window) parsed() (schedule.Schedule, *time.Location, bool) {
	if w.Duration <= 0 {
		return nil, nil, false
	}
	sched, err := schedule.ParseCached(w.Schedule)
	if err != nil {
		return nil, nil, false
	}
	loc, err := nightjar.LoadLocation(w.Zone)
	if err != nil {
		return nil, nil, false
	}
	return sched, loc, true
}

// inAny reports whether t falls in any of the windows, and when the
// earliest of them is next active otherwise. No windows means always.
func inAny(ws []Window, t time.Time) (bool, time.Time) {
	if len(ws) == 0 {
		return true, t
	}
	var next time.Time
	for i := range ws {
		s := ws[i].NextStart(t)
		if s.Equal(t) {
			return true, t
		}
		if !s.IsZero() && (next.IsZero() || s.Before(next)) {
			next = s
		}
	}
	return false, next
}
