package oncall

import "time"

// Instants are Unix seconds; wall-clock times are "wall seconds": seconds
// since 1970-01-01 00:00 of the local calendar, as if the local clock were
// UTC. Day arithmetic on wall seconds is exact, so the rotation and window
// arithmetic stays free of time zones; zones enter only when a wall time is
// mapped to an instant, in resolve.

const (
	secondsPerHour = 3600
	secondsPerDay  = 86400
	// resolveSpan bounds how far an instant lies from the wall time its
	// clock shows: no zone's offset exceeds 14 hours.
	resolveSpan = 18 * secondsPerHour
)

// Bounds of the instants a schedule is evaluated at: the start of the
// year 1 and the end of the year 9999. Keeping instants inside them keeps
// every sum of an instant and a shift length far from overflowing.
var (
	minUnix = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxUnix = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
)

// zone maps between instants and wall-clock times of one location.
type zone struct{ loc *time.Location }

// offset returns the UTC offset in force at instant u, in seconds.
func (z zone) offset(u int64) int64 {
	_, off := time.Unix(u, 0).In(z.loc).Zone()
	return int64(off)
}

// wall returns the wall-clock time that the zone's clock shows at u.
func (z zone) wall(u int64) int64 { return u + z.offset(u) }

// resolve returns the first instant at which the zone's clock shows wall
// time w or a later one. For a wall time that occurs once that is the
// instant it occurs; for one repeated by a backward change it is the first
// occurrence; for one skipped by a forward change it is the instant of the
// change, the first instant after the gap.
//
// Every instant whose clock can show w lies within resolveSpan of w, and
// offsets change at most once in that span: since 1970 no zone has changed
// its offset twice within a week.
func (z zone) resolve(w int64) int64 {
	lo, hi := w-resolveSpan, w+resolveSpan
	before, after := z.offset(lo), z.offset(hi)
	if before == after {
		return w - before
	}
	// Find the change to the second: the offset is after's from hi on.
	for hi-lo > 1 {
		if mid := lo + (hi-lo)/2; z.offset(mid) == before {
			lo = mid
		} else {
			hi = mid
		}
	}
	if u := w - before; u < hi {
		return u // the clock showed w before the change
	}
	// After the change the clock shows w at w-after, or, when the change
	// skipped w, was already past it at the change itself.
	return max(hi, w-after)
}

// floorDiv divides rounding towards negative infinity; b must be positive.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// weekdayOf returns the weekday (0 is Sunday) of the local day that wall
// time w falls on; 1970-01-01 was a Thursday.
func weekdayOf(w int64) int {
	d := floorDiv(w, secondsPerDay) + 4
	return int(d - floorDiv(d, 7)*7)
}
