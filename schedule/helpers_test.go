package schedule

import (
	"encoding/binary"
	"testing"
	"time"
	_ "time/tzdata" // tests must not depend on the machine's zoneinfo
)

func mustParse(tb testing.TB, expr string) *Cron {
	tb.Helper()
	c, err := ParseCron(expr)
	if err != nil {
		tb.Fatalf("ParseCron(%q): %v", expr, err)
	}
	return c
}

func mustZone(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatalf("time.Parse(%q): %v", s, err)
	}
	return t
}

// nextRuns formats the next n runs as RFC 3339, which shows both the wall
// clock and the offset, and so which copy of a repeated hour was chosen.
func nextRuns(tb testing.TB, c *Cron, after time.Time, loc *time.Location, n int) []string {
	tb.Helper()
	var out []string
	for range n {
		next := c.Next(after, loc)
		if next.IsZero() {
			out = append(out, "never")
			break
		}
		out = append(out, next.Format(time.RFC3339))
		after = next
	}
	return out
}

// syntheticZone returns a zone whose UTC offset changes from `before` to
// `after` seconds at instant `at`. It lets tests probe the daemon's
// thresholds with changes that no real zone has.
func syntheticZone(tb testing.TB, name string, before, after int32, at time.Time) *time.Location {
	tb.Helper()
	// A version 1 TZif file: header, one transition, two local time types.
	var b []byte
	b = append(b, "TZif"...)
	b = append(b, make([]byte, 16)...) // version 1 and reserved bytes
	for _, n := range []uint32{0, 0, 0, 1, 2, 8} {
		b = binary.BigEndian.AppendUint32(b, n) // isut, isstd, leap, time, type, char counts
	}
	b = binary.BigEndian.AppendUint32(b, uint32(int32(at.Unix())))
	b = append(b, 1)
	b = binary.BigEndian.AppendUint32(b, uint32(before))
	b = append(b, 0, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(after))
	b = append(b, 0, 4)
	b = append(b, "AAA\x00BBB\x00"...)
	loc, err := time.LoadLocationFromTZData(name, b)
	if err != nil {
		tb.Fatalf("LoadLocationFromTZData: %v", err)
	}
	return loc
}

// refMatches decides whether a wall-clock time (given as a UTC time whose
// fields are the local fields) matches the expression, written directly from
// the rules rather than from the bitmask tables that Next uses.
func refMatches(c *Cron, wall time.Time) bool {
	if !refPlain(c.terms[fMinute], wall.Minute(), false) ||
		!refPlain(c.terms[fHour], wall.Hour(), false) ||
		!refPlain(c.terms[fMonth], int(wall.Month()), false) {
		return false
	}
	dom, dow := refDom(c.terms[fDom], wall), refDow(c.terms[fDow], wall)
	if c.domStar || c.dowStar {
		return dom && dow
	}
	return dom || dow
}

func refPlain(terms []term, v int, weekday bool) bool {
	for _, t := range terms {
		if t.kind != kindStar && t.kind != kindRange {
			continue
		}
		for x := t.lo; x <= t.hi; x += t.step {
			if x == v || (weekday && x%7 == v) {
				return true
			}
		}
	}
	return false
}

func refDom(terms []term, wall time.Time) bool {
	y, m, d := wall.Date()
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	isWeekday := func(day int) bool {
		wd := time.Date(y, m, day, 0, 0, 0, 0, time.UTC).Weekday()
		return wd != time.Saturday && wd != time.Sunday
	}
	if refPlain(terms, d, false) {
		return true
	}
	for _, t := range terms {
		switch t.kind {
		case kindLast:
			if d == last {
				return true
			}
		case kindLastWeekday:
			lw := last
			for !isWeekday(lw) {
				lw--
			}
			if d == lw {
				return true
			}
		case kindNearest:
			if t.lo > last {
				continue
			}
			// Candidates in order of distance; the first weekday wins,
			// without leaving the month.
			for _, cand := range []int{t.lo, t.lo - 1, t.lo + 1, t.lo - 2, t.lo + 2} {
				if cand >= 1 && cand <= last && isWeekday(cand) {
					if d == cand {
						return true
					}
					break
				}
			}
		}
	}
	return false
}

func refDow(terms []term, wall time.Time) bool {
	wd := int(wall.Weekday())
	if refPlain(terms, wd, true) {
		return true
	}
	y, m, d := wall.Date()
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	for _, t := range terms {
		switch t.kind {
		case kindLastDow:
			if wd == t.lo && d+7 > last {
				return true
			}
		case kindNth:
			if wd == t.lo && (d-1)/7+1 == t.nth {
				return true
			}
		}
	}
	return false
}

// simulateDaemon replays a Vixie-derived cron daemon minute by minute and
// returns the first instant strictly after `after` at which it would start
// the job, looking no further than window. It follows the daemon's main loop:
// the daemon wakes at every minute, compares the local wall-clock minute with
// the minute it processed last ("virtual time"), and depending on the
// difference runs jobs normally, catches up on skipped minutes, or holds
// fixed-time jobs back while the clock repeats.
func simulateDaemon(c *Cron, loc *time.Location, after time.Time, window time.Duration) (time.Time, bool) {
	localMinute := func(i time.Time) int64 {
		_, off := i.In(loc).Zone()
		return floorDiv(i.Unix()+int64(off), 60)
	}
	matches := func(lm int64) bool { return refMatches(c, time.Unix(lm*60, 0).UTC()) }

	// Start early enough that the virtual time is settled when `after` comes.
	r := after.Truncate(time.Minute).Add(-4 * time.Hour)
	virtual := localMinute(r)
	stop := after.Add(window)
	for r = r.Add(time.Minute); !r.After(stop); r = r.Add(time.Minute) {
		clock := localMinute(r)
		diff := clock - virtual
		ran := false
		switch {
		case diff == 1, diff > 180, diff < -180:
			// Normal tick, or a jump so large that the daemon just
			// resynchronises and runs what matches now.
			virtual = clock
			ran = matches(clock)
		case diff > 5:
			// Medium jump forward: wildcard jobs for the current
			// minute, fixed-time jobs for every skipped minute.
			ran = !c.fixed && matches(clock)
			for virtual < clock {
				virtual++
				if c.fixed && matches(virtual) {
					ran = true
				}
			}
		case diff > 0:
			// Woke up a little late: everything for every minute.
			for virtual < clock {
				virtual++
				if matches(virtual) {
					ran = true
				}
			}
		default:
			// The clock went back: only wildcard jobs, and virtual time
			// waits until the clock catches up.
			ran = !c.fixed && matches(clock)
		}
		if ran && r.After(after) {
			return r.In(loc), true
		}
	}
	return time.Time{}, false
}
