package schedule

import (
	"errors"
	"testing"
	"time"
)

// matches reports whether the wall-clock second w (wall seconds) matches
// the expression, computed from the calendar directly rather than with the
// bitmask search Next uses.
func (e *calendarExpr) matches(w int64) bool {
	t := time.Unix(w, 0).UTC()
	y, m, d := t.Date()
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	wd := (int(t.Weekday()) + 6) % 7
	return y >= minCalendarYear && y <= maxCalendarYear && e.hasYear(y) &&
		e.months&(1<<int(m)) != 0 &&
		(e.days&(1<<d) != 0 || e.lastDays&(1<<(last-d+1)) != 0) &&
		e.weekdays&(1<<wd) != 0 &&
		e.hours&(1<<t.Hour()) != 0 && e.minutes&(1<<t.Minute()) != 0 && e.seconds&(1<<t.Second()) != 0
}

// runsAt reports whether some expression of oc runs at the instant u: its
// zone's clock shows a matching time, and u is that time's first
// occurrence.
func (oc *OnCalendar) runsAt(u int64, loc *time.Location) bool {
	for _, e := range oc.exprs {
		l := loc
		if e.loc != nil {
			l = e.loc
		}
		_, off := time.Unix(u, 0).In(l).Zone()
		w := u + int64(off)
		if !e.matches(w) {
			continue
		}
		if first, ok := firstInstant(w, l); ok && first.Unix() == u {
			return true
		}
	}
	return false
}

// FuzzParseOnCalendar checks that no input makes the OnCalendar parser or
// evaluator panic, that rejected input yields a *ParseError with a
// message, and that for accepted input String parses back to the same
// schedule and Next moves strictly forward to a time the schedule runs at,
// with no run skipped on the way (checked second by second over up to two
// hours), in UTC and in zones with daylight-saving changes.
func FuzzParseOnCalendar(f *testing.F) {
	for _, seed := range []string{
		"*-*-* *:*:*", "Mon", "Mon, 12:34", "Mon..Fri *-*-* 09:00", "Mon-Tue", "2023-11-30", "11-30",
		"69-*-*", "11:22:33", "*:1..3,7..9:*", "*:0/15", "*:0..10/2", "*:5/15", "*-*~1", "*~1",
		"*-*~1..5/2", "*-*~3/2", "Sun *~7/1", "minutely", "quarterly", "daily Europe/Riga",
		"Mon 09:00\nFri 17:30 America/New_York", "2019-01-01\n*:*", "*-02-30", "1~29", "* 1-1",
		"*:*/0", "", "\n", "Mon *-*-* *:*:* surprise", "12:00 Mars/Olympus", "0 0 * * * *",
		"*-*-* 02:30", "*:0/30:0/20", "2199-12-31 23:59:59",
	} {
		f.Add(seed, int64(0), uint8(0))
	}
	f.Add("*-*-* 02:30", int64(7_257_600), uint8(1))
	f.Add("*:0/30", int64(26_438_400), uint8(2))
	zones := []*time.Location{time.UTC, mustZone(f, "Europe/Riga"), mustZone(f, "America/New_York"), mustZone(f, "Australia/Lord_Howe")}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	f.Fuzz(func(t *testing.T, text string, offset int64, zone uint8) {
		oc, err := ParseOnCalendar(text)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || err.Error() == "" {
				t.Fatalf("ParseOnCalendar(%q) returned %T %q, want a *ParseError with a message", text, err, err)
			}
			return
		}
		again, err := ParseOnCalendar(oc.String())
		if err != nil || again.String() != oc.String() || len(again.exprs) != len(oc.exprs) {
			t.Fatalf("String() of %q = %q does not parse back to itself (%v)", text, oc.String(), err)
		}
		for i, e := range oc.exprs {
			a := *again.exprs[i]
			if (a.loc == nil) != (e.loc == nil) || (a.loc != nil && a.loc.String() != e.loc.String()) {
				t.Fatalf("String() of %q changed a time zone", text)
			}
			a.loc = e.loc
			if a != *e {
				t.Fatalf("String() of %q = %q parses to another schedule", text, oc.String())
			}
		}

		loc := zones[int(zone)%len(zones)]
		if offset < 0 {
			offset = -offset
		}
		after := base.Add(time.Duration(offset%(2*366*86400)) * time.Second).Add(time.Duration(offset%1000) * time.Millisecond).In(loc)
		for step := 0; step < 3; step++ {
			next := oc.Next(after, loc)
			end := after.Add(2 * time.Hour)
			if !next.IsZero() {
				if !next.After(after) {
					t.Fatalf("%q in %s: Next(%s) = %s is not after it", text, loc, after.Format(time.RFC3339Nano), next.Format(time.RFC3339))
				}
				if next.Location() != loc {
					t.Fatalf("%q: Next returned a time in %s, want %s", text, next.Location(), loc)
				}
				if !oc.runsAt(next.Unix(), loc) {
					t.Fatalf("%q in %s: Next(%s) = %s, when it does not run", text, loc, after.Format(time.RFC3339), next.Format(time.RFC3339))
				}
				if next.Before(end) {
					end = next
				}
			}
			for u := after.Unix() + 1; u < end.Unix(); u++ {
				if oc.runsAt(u, loc) {
					t.Fatalf("%q in %s: Next(%s) = %s skips a run at %s", text, loc, after.Format(time.RFC3339), next.Format(time.RFC3339), time.Unix(u, 0).In(loc).Format(time.RFC3339))
				}
			}
			if next.IsZero() {
				return
			}
			after = next
		}
	})
}
