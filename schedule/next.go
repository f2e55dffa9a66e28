package schedule

import "time"

// HorizonYears bounds how far ahead Next searches. The Gregorian calendar
// repeats every 400 years, so an expression that has no wall-clock match in
// that span never has one; the bound also ends the search for runs that
// always fall into a daylight-saving gap.
const HorizonYears = 400

// Thresholds of Vixie cron's clock-change handling, in minutes. The daemon
// wakes once a minute and compares the local wall-clock minute with the one
// it processed last; a forward change of g minutes shows up as a difference
// of g+1 and a backward change of o minutes as 1-o.
const (
	// smallJumpMinutes: up to this difference the daemon runs every job,
	// fixed-time or wildcard, for each skipped minute.
	smallJumpMinutes = 5
	// largeJumpMinutes: beyond this difference, either way, the daemon
	// treats the change as a jump and runs only what matches the new time.
	largeJumpMinutes = 3 * 60
)

// Next returns the first time strictly after `after` at which a Vixie-derived
// cron daemon whose clock is set to loc would run the job. A nil loc means
// UTC. The result is expressed in loc.
//
// Daylight-saving changes are handled as the daemon handles them:
//
//   - A wildcard job (minute or hour field starting with "*") runs at every
//     instant whose local wall-clock time matches: in both copies of a
//     repeated interval, and not at all for wall-clock times skipped by a
//     forward change.
//   - A fixed-time job (neither field starting with "*") whose wall-clock
//     time is skipped by a forward change of less than three hours runs at
//     the instant of the change; one inside a skipped interval of three hours
//     or more does not run.
//   - A fixed-time job whose wall-clock time is repeated by a backward change
//     of up to three hours and one minute runs only at the first occurrence;
//     after a larger backward change it runs in both copies.
//   - When a forward change skips fewer than five minutes, wildcard jobs in
//     the skipped interval also run at the instant of the change.
//
// Several runs that collapse onto the same instant count once.
//
// Next returns the zero time when the job never runs (for example
// "0 0 30 2 *") or does not run within [HorizonYears] years after `after`.
func (c *Cron) Next(after time.Time, loc *time.Location) time.Time {
	if c.never || c.minutes == 0 {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	t := after.In(loc)
	off, start, end := zoneSpan(t)
	wall := t.Unix() + off
	limitYear := yearOfWall(wall) + HorizonYears
	// The first candidate is the first whole wall-clock minute strictly
	// after `after`.
	lb := (floorDiv(wall, secondsPerMinute) + 1) * secondsPerMinute

	// If `after` lies in the second copy of a repeated interval, runs that
	// already happened in the first copy must not be predicted again.
	if !start.IsZero() && !start.After(t) && t.Sub(start) <= (largeJumpMinutes+2)*time.Minute {
		_, prevOff := start.Add(-time.Second).Zone()
		if delta := off - int64(prevOff); delta < 0 && !c.runsTwice(-delta) {
			lb = max(lb, ceilMinute(start.Unix()+off-delta))
		}
	}

	for {
		w, ok := c.nextWall(lb, limitYear)
		if !ok {
			return time.Time{}
		}
		if end.IsZero() || w-off < end.Unix() {
			return time.Unix(w-off, 0).In(loc)
		}

		// The match lies beyond the current offset: continue from the
		// instant the offset changes.
		t = end
		prevOff := off
		off, _, end = zoneSpan(t)
		startWall := t.Unix() + off
		if yearOfWall(startWall) > limitYear {
			return time.Time{}
		}
		lb = ceilMinute(startWall)
		switch delta := off - prevOff; {
		case delta > 0 && c.runsInGap(delta):
			// Runs whose wall-clock time was skipped happen now.
			gapStart := ceilMinute(t.Unix() + prevOff)
			if w, ok := c.nextWall(gapStart, limitYear); ok && w < startWall {
				return t
			}
		case delta < 0 && !c.runsTwice(-delta):
			// The repeated wall-clock times had their runs before the
			// change.
			lb = max(lb, ceilMinute(startWall-delta))
		}
	}
}

// zoneSpan returns the UTC offset in force at t, in seconds, together with
// the bounds of the period during which it stays in force (either may be
// zero when unbounded). Periods may be split where the offset does not
// actually change; callers compare offsets.
//
// The standard library computes periods after a zone's last listed
// transition from the zone's rule, and then may report an end on the last
// day of a leap year that is not after t. Such an end is replaced by the
// next actual change of offset within a day, or by t plus one day.
func zoneSpan(t time.Time) (off int64, start, end time.Time) {
	_, o := t.Zone()
	start, end = t.ZoneBounds()
	if !end.IsZero() && !end.After(t) {
		end = nextOffsetChange(t, o, secondsPerDay)
	}
	return int64(o), start, end
}

// nextOffsetChange returns the first whole second after t, at most span
// seconds later, at which the offset differs from off, or t plus span if it
// does not change. It assumes at most one change within span.
func nextOffsetChange(t time.Time, off int, span int64) time.Time {
	loc := t.Location()
	offsetAt := func(sec int64) int {
		_, o := time.Unix(sec, 0).In(loc).Zone()
		return o
	}
	lo, hi := t.Unix(), t.Unix()+span
	if offsetAt(hi) == off {
		return time.Unix(hi, 0).In(loc)
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if offsetAt(mid) == off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return time.Unix(hi, 0).In(loc)
}

// yearOfWall returns the calendar year of a wall-clock time.
func yearOfWall(wall int64) int {
	y, _, _ := civilFromDays(floorDiv(wall, secondsPerDay))
	return y
}

// NextN returns the next n runs after `after`, in order, as repeated calls to
// Next would. It stops early when there is no further run, so the result may
// be shorter than n.
func (c *Cron) NextN(after time.Time, loc *time.Location, n int) []time.Time {
	return NextN(c, after, loc, n)
}

// runsInGap reports whether a run whose wall-clock time falls into a forward
// change of gap seconds happens at the instant of the change.
func (c *Cron) runsInGap(gap int64) bool {
	diff := gap/secondsPerMinute + 1
	switch {
	case diff > largeJumpMinutes:
		return false
	case diff > smallJumpMinutes:
		return c.fixed
	default:
		return true
	}
}

// runsTwice reports whether a job whose wall-clock time is repeated by a
// backward change of overlap seconds runs in the second copy too.
func (c *Cron) runsTwice(overlap int64) bool {
	diff := 1 - overlap/secondsPerMinute
	if diff < -largeJumpMinutes {
		return true
	}
	return !c.fixed
}

func ceilMinute(wall int64) int64 {
	return -floorDiv(-wall, secondsPerMinute) * secondsPerMinute
}

// nextWall returns the first matching wall-clock minute at or after lb (wall
// seconds, a whole minute), ignoring time zones. It gives up after
// limitYear.
func (c *Cron) nextWall(lb int64, limitYear int) (int64, bool) {
	w := wallSpec{months: c.months, hours: c.hours, minutes: c.minutes, seconds: 1,
		days: func(_, _, length int, first int64) uint32 { return c.dayTable[length-28][weekdayOfDays(first)] }}
	return w.next(lb, limitYear)
}
