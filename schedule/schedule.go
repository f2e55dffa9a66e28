package schedule

import "time"

// Schedule is a parsed schedule of either syntax, cron or OnCalendar:
// when a job is expected to run.
type Schedule interface {
	// Next returns the first run strictly after `after`, expressed in
	// loc (UTC when nil), or the zero time when there is none.
	Next(after time.Time, loc *time.Location) time.Time
	// String returns the schedule in a canonical form that parses back
	// to the same schedule.
	String() string
}

// Parse parses a schedule in cron or OnCalendar syntax, telling the two
// apart as Healthchecks does (see IsCron). Errors are of type
// *ParseError.
func Parse(expr string) (Schedule, error) {
	if IsCron(expr) {
		return ParseCron(expr)
	}
	return ParseOnCalendar(expr)
}

// NextN returns the next n runs of s after `after`, in order, as repeated
// calls to Next would. It stops early when there is no further run.
func NextN(s Schedule, after time.Time, loc *time.Location, n int) []time.Time {
	var out []time.Time
	for range n {
		next := s.Next(after, loc)
		if next.IsZero() {
			break
		}
		out = append(out, next)
		after = next
	}
	return out
}

// FirstRunWithin returns the schedule's first run after `after` and
// whether it comes within the given number of years. A schedule that
// does not is one a check cannot usefully follow: it could never, or
// practically never, be late.
func FirstRunWithin(s Schedule, after time.Time, loc *time.Location, years int) (time.Time, bool) {
	next := s.Next(after, loc)
	return next, !next.IsZero() && !next.After(after.AddDate(years, 0, 0))
}
