package schedule

import (
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// OnCalendar is a parsed schedule in systemd's OnCalendar syntax, the
// second kind of schedule Healthchecks accepts: one or more expressions,
// one a line, each optionally ending in its own IANA time zone. It runs
// whenever any of its expressions does.
//
// The syntax and the evaluation follow the library Healthchecks uses for
// it, so a schedule is accepted, and runs, exactly when it would there:
//
//   - An expression is [weekdays] [date] [time] [time zone]. Weekdays are
//     names (Mon or Monday, any case) in lists and ranges (Mon..Fri or
//     Mon-Fri), with an optional trailing comma; the date is
//     [year-]month-day and defaults to *-*-*; the time is hour:minute[:second]
//     and defaults to 00:00:00.
//   - Each number field is *, a value, a list (1,15), a range (1..5), or a
//     value or range with a step (0/15 is 0, 15, 30 and 45; 1..10/3 is 1,
//     4, 7 and 10). * may only stand alone. Two-digit years mean 1970 to
//     2069; years run from 1970 to 2199, as in systemd.
//   - A day written after ~ instead of - counts from the end of the month:
//     *-02~01 is the last day of February, *~07/1 each of a month's last
//     seven days. Such days go up to 28.
//   - minutely, hourly, daily, weekly, monthly, yearly (or annually),
//     quarterly and semiannually stand for their usual expansions.
//
// Times are wall-clock times in the expression's time zone, or the zone
// Next is given. A time skipped by a daylight-saving change does not run
// at all, and one that occurs twice runs once, at the first occurrence.
//
// An OnCalendar is immutable once parsed and safe for concurrent use.
type OnCalendar struct {
	text  string
	exprs []*calendarExpr
}

// calendarExpr is one line of an OnCalendar schedule.
type calendarExpr struct {
	loc      *time.Location // the expression's own zone, or nil
	years    [(maxCalendarYear - minCalendarYear + 64) / 64]uint64
	months   uint16 // bit m: month m (1-12)
	days     uint32 // bit d: day d (1-31)
	lastDays uint32 // bit d: the d-th day from the end (1 is the last)
	weekdays uint8  // bit w: weekday w, 0 is Monday as in systemd
	hours    uint32
	minutes  uint64
	seconds  uint64
}

// The years an OnCalendar expression can name; systemd stops at 2200.
const (
	minCalendarYear = 1970
	maxCalendarYear = 2199
)

// calendarShorthands are the special expressions and their expansions.
var calendarShorthands = map[string]string{
	"minutely":     "*-*-* *:*:00",
	"hourly":       "*-*-* *:00:00",
	"daily":        "*-*-* 00:00:00",
	"monthly":      "*-*-01 00:00:00",
	"weekly":       "Mon *-*-* 00:00:00",
	"yearly":       "*-01-01 00:00:00",
	"annually":     "*-01-01 00:00:00",
	"quarterly":    "*-01,04,07,10-01 00:00:00",
	"semiannually": "*-01,07-01 00:00:00",
}

// IsCron reports whether expr is written as a cron expression rather than
// in OnCalendar syntax, by Healthchecks' rule: one line of exactly five
// fields is cron, anything else OnCalendar. Nightjar's cron macros
// (@daily and the like) count as cron too.
func IsCron(expr string) bool {
	s := strings.TrimSpace(expr)
	if strings.HasPrefix(s, "@") {
		return true
	}
	return !strings.Contains(s, "\n") && len(strings.Fields(s)) == numFields
}

// ParseOnCalendar parses one or more OnCalendar expressions, one a line.
// Errors are of type *ParseError and say which line and which part of it
// is wrong and what was expected.
func ParseOnCalendar(text string) (*OnCalendar, error) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	oc := &OnCalendar{}
	for i, line := range lines {
		line = strings.TrimSpace(line)
		e, perr := parseCalendarExpr(line)
		if perr != nil {
			msg := perr.Error()
			if len(lines) > 1 {
				msg = fmt.Sprintf("line %d: %s", i+1, msg)
			} else if n := len(strings.Fields(line)); n > 1 && !strings.ContainsAny(line, ":~") {
				msg += fmt.Sprintf(" (or, as a cron expression, it needs 5 fields and has %d)", n)
			}
			return nil, &ParseError{Msg: msg}
		}
		oc.exprs = append(oc.exprs, e)
		lines[i] = strings.Join(strings.Fields(line), " ")
	}
	oc.text = strings.Join(lines, "\n")
	return oc, nil
}

// String returns the schedule with each line's spacing made canonical, so
// that it parses back to the same schedule.
func (oc *OnCalendar) String() string { return oc.text }

// Next returns the first time strictly after `after` at which any of the
// schedule's expressions runs, expressed in loc (UTC when nil), or the
// zero time when none runs again before the year 2200. Expressions
// without a zone of their own run in loc.
func (oc *OnCalendar) Next(after time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	var best time.Time
	for _, e := range oc.exprs {
		if t := e.next(after, loc); !t.IsZero() && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if best.IsZero() {
		return best
	}
	return best.In(loc)
}

// calendarError makes the *ParseError for a bad part of an expression.
func calendarError(part, text, expected string) *ParseError {
	return &ParseError{Field: part, Text: text, Msg: expected}
}

func parseCalendarExpr(expr string) (*calendarExpr, *ParseError) {
	e := &calendarExpr{}
	whole := expr
	if fields := strings.Fields(expr); len(fields) > 1 {
		last := fields[len(fields)-1]
		if !strings.ContainsAny(last[:1], "0123456789*") && last != "Local" {
			if loc, err := time.LoadLocation(last); err == nil {
				e.loc = loc
				expr = strings.Join(fields[:len(fields)-1], " ")
			} else if strings.Contains(last, "/") {
				return nil, calendarError("time zone", last, "expected an IANA time zone name such as Europe/Berlin")
			}
		}
	}
	if full, ok := calendarShorthands[strings.ToLower(expr)]; ok {
		expr = full
	}
	parts := strings.Fields(strings.ReplaceAll(expr, "~", "-~"))
	if len(parts) == 0 {
		return nil, &ParseError{Msg: "empty OnCalendar expression: expected [weekdays] [date] [time] [time zone], such as Mon..Fri *-*-* 09:00 or daily"}
	}
	e.hours, e.minutes, e.seconds = 1, 1, 1
	if last := parts[len(parts)-1]; strings.Contains(last, ":") {
		parts = parts[:len(parts)-1]
		hms := strings.Split(last, ":")
		if len(hms) != 2 && len(hms) != 3 {
			return nil, calendarError("time", last, "expected hour:minute or hour:minute:second, such as 09:30")
		}
		if len(hms) == 2 {
			hms = append(hms, "0")
		}
		var err *ParseError
		var v uint64
		if v, err = calHour.parse(hms[0]); err != nil {
			return nil, err
		}
		e.hours = uint32(v)
		if e.minutes, err = calMinute.parse(hms[1]); err != nil {
			return nil, err
		}
		if e.seconds, err = calSecond.parse(hms[2]); err != nil {
			return nil, err
		}
	}
	e.months, e.days = 1<<13-2, 1<<32-2
	for i := range e.years {
		e.years[i] = ^uint64(0)
	}
	if n := len(parts); n > 0 && strings.Contains(parts[n-1], "-") && strings.ContainsAny(parts[n-1][:1], "0123456789*") {
		date := parts[n-1]
		parts = parts[:n-1]
		ymd := strings.Split(date, "-")
		if len(ymd) != 2 && len(ymd) != 3 {
			return nil, calendarError("date", strings.ReplaceAll(date, "-~", "~"), "expected [year-]month-day, such as 2026-03-31, *-*-01 or *-02~01")
		}
		if len(ymd) == 2 {
			ymd = append([]string{"*"}, ymd...)
		}
		if err := e.parseYears(ymd[0]); err != nil {
			return nil, err
		}
		v, err := calMonth.parse(ymd[1])
		if err != nil {
			return nil, err
		}
		e.months = uint16(v)
		if err := e.parseDays(ymd[2]); err != nil {
			return nil, err
		}
	}
	e.weekdays = 1<<7 - 1
	if len(parts) > 0 {
		w, err := parseWeekdays(parts[0])
		if err != nil {
			return nil, err
		}
		e.weekdays = w
		parts = parts[1:]
	}
	if len(parts) > 0 {
		return nil, &ParseError{Msg: fmt.Sprintf("%q has too many parts: expected [weekdays] [date] [time] [time zone], such as Mon..Fri *-*-* 09:00 Europe/Berlin", whole)}
	}
	return e, nil
}

// calField is a number field of an OnCalendar expression.
type calField struct {
	name     string
	min, max int
}

var (
	calHour   = calField{"hour", 0, 23}
	calMinute = calField{"minute", 0, 59}
	calSecond = calField{"second", 0, 59}
	calMonth  = calField{"month", 1, 12}
	calDay    = calField{"day-of-month", 1, 31}
	calYear   = calField{"year", minCalendarYear, maxCalendarYear}
)

// values parses a field into its sorted values: * alone, or a
// comma-separated list of values, ranges a..b, and either with a step /n.
// reverse is for days counted from the end of the month (~): they are
// returned as positive counts, 1 being the last day, and go up to 28.
func (f calField) values(text string, reverse bool) ([]int, *ParseError) {
	bad := func(expected string) ([]int, *ParseError) {
		return nil, calendarError(f.name, text, expected)
	}
	if text == "*" {
		out := make([]int, 0, f.max-f.min+1)
		for v := f.min; v <= f.max; v++ {
			out = append(out, v)
		}
		return out, nil
	}
	if strings.Contains(text, "*") {
		return bad("* may only stand alone, not in a list, range or step")
	}
	var out []int
	seen := map[int]bool{}
	for _, term := range strings.Split(text, ",") {
		vals, err := f.term(term, reverse)
		if err != nil {
			return nil, calendarError(f.name, text, err.Msg)
		}
		for _, v := range vals {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out, nil
}

// term parses one list element: a value, a range, or either with a step.
// Values come back signed as the field uses them: reverse days negative.
func (f calField) term(term string, reverse bool) ([]int, *ParseError) {
	if base, stepText, ok := strings.Cut(term, "/"); ok {
		step, err := f.digits(stepText, "a step must be a whole number, as in 0/15")
		if err != nil {
			return nil, err
		}
		if step == 0 {
			return nil, &ParseError{Msg: "a step must be at least 1"}
		}
		items, err := f.term(base, reverse)
		if err != nil {
			return nil, err
		}
		var out []int
		if len(items) == 1 {
			end := f.max
			if reverse {
				end = 0
			}
			for v := items[0]; v <= end; v += step {
				out = append(out, v)
			}
			return out, nil
		}
		for i := 0; i < len(items); i += step {
			out = append(out, items[i])
		}
		return out, nil
	}
	if a, b, ok := strings.Cut(term, ".."); ok {
		lo, err := f.value(a)
		if err != nil {
			return nil, err
		}
		hi, err := f.value(b)
		if err != nil {
			return nil, err
		}
		if hi < lo {
			return nil, &ParseError{Msg: fmt.Sprintf("range %s..%s runs backwards", a, b)}
		}
		if reverse {
			lo, hi = -hi, -lo
		}
		out := make([]int, 0, hi-lo+1)
		for v := lo; v <= hi; v++ {
			out = append(out, v)
		}
		return out, nil
	}
	v, err := f.value(term)
	if err != nil {
		return nil, err
	}
	if reverse {
		if v > 28 {
			return nil, &ParseError{Msg: "a day counted from the end of the month (after ~) must be from 1 to 28"}
		}
		v = -v
	}
	return []int{v}, nil
}

// value parses one number within the field's range; two-digit years are
// 1970-2069.
func (f calField) value(s string) (int, *ParseError) {
	v, err := f.digits(s, "")
	if err != nil {
		return 0, err
	}
	if f.name == calYear.name && v < 100 {
		if v < 70 {
			v += 2000
		} else {
			v += 1900
		}
	}
	if v < f.min || v > f.max {
		return 0, &ParseError{Msg: fmt.Sprintf("value %s out of range %d-%d", s, f.min, f.max)}
	}
	return v, nil
}

// digits parses a non-empty run of ASCII digits.
func (f calField) digits(s, hint string) (int, *ParseError) {
	n, ok := digits(s)
	if !ok {
		if hint == "" {
			hint = fmt.Sprintf("expected a number %d-%d, found %q", f.min, f.max, s)
		}
		return 0, &ParseError{Msg: hint}
	}
	return n, nil
}

// parse returns the field's values as a bitmask.
func (f calField) parse(text string) (uint64, *ParseError) {
	vals, err := f.values(text, false)
	if err != nil {
		return 0, err
	}
	var mask uint64
	for _, v := range vals {
		mask |= 1 << v
	}
	return mask, nil
}

func (e *calendarExpr) parseYears(text string) *ParseError {
	vals, err := calYear.values(text, false)
	if err != nil {
		return err
	}
	for i := range e.years {
		e.years[i] = 0
	}
	for _, y := range vals {
		i := y - minCalendarYear
		e.years[i/64] |= 1 << (i % 64)
	}
	return nil
}

func (e *calendarExpr) parseDays(text string) *ParseError {
	reverse := strings.HasPrefix(text, "~")
	vals, err := calDay.values(strings.TrimPrefix(text, "~"), reverse)
	if err != nil {
		if reverse {
			err.Text = "~" + err.Text
		}
		return err
	}
	e.days = 0
	for _, d := range vals {
		if d < 0 {
			e.lastDays |= 1 << -d
		} else {
			e.days |= 1 << d
		}
	}
	return nil
}

// calendarWeekdays are the weekdays systemd knows, Monday first.
var calendarWeekdays = []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"}

// parseWeekdays parses the weekday part: names, in full or their first
// three letters, in a list of names and ranges (.. or -), with an optional
// trailing comma. Bit 0 is Monday.
func parseWeekdays(text string) (uint8, *ParseError) {
	bad := func(expected string) (uint8, *ParseError) {
		return 0, calendarError("day-of-week", text, expected)
	}
	s := strings.TrimRight(text, ",")
	s = strings.ReplaceAll(s, "-", "..")
	var mask uint8
	for _, term := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(term, "..")
		lo, ok := weekday(a)
		if !ok {
			return bad(fmt.Sprintf("expected weekday names such as Mon, Tuesday or Mon..Fri, found %q", term))
		}
		hi := lo
		if isRange {
			if hi, ok = weekday(b); !ok {
				return bad(fmt.Sprintf("expected weekday names such as Mon, Tuesday or Mon..Fri, found %q", term))
			}
			if hi < lo {
				return bad(fmt.Sprintf("range %s runs backwards: weekdays go from Mon to Sun", term))
			}
		}
		for w := lo; w <= hi; w++ {
			mask |= 1 << w
		}
	}
	return mask, nil
}

// weekday returns the number of a weekday name (0 is Monday).
func weekday(name string) (int, bool) {
	up := asciiUpper(name)
	for i, full := range calendarWeekdays {
		if up == full || up == full[:3] {
			return i, true
		}
	}
	return 0, false
}

// next returns the expression's first run strictly after `after`, in its
// own zone or else loc.
func (e *calendarExpr) next(after time.Time, loc *time.Location) time.Time {
	if e.loc != nil {
		loc = e.loc
	}
	t := after.In(loc)
	_, off := t.Zone()
	lb := t.Unix() + int64(off) + 1 // the first whole wall-clock second after `after`
	for {
		w, ok := e.nextWall(lb)
		if !ok {
			return time.Time{}
		}
		at, ok := firstInstant(w, loc)
		// A wall time skipped by a clock change does not run; one that
		// occurs twice runs at its first occurrence, which may lie
		// before `after` when `after` is in the second.
		if ok && at.After(after) {
			return at
		}
		lb = w + 1
	}
}

// firstInstant returns the first instant at which loc's clocks show the
// wall time w (in wall seconds), or false when a clock change skips it.
func firstInstant(w int64, loc *time.Location) (time.Time, bool) {
	offsetAt := func(u int64) int64 {
		_, o := time.Unix(u, 0).In(loc).Zone()
		return int64(o)
	}
	// The offsets in force within a day of w cover every instant that
	// can show w.
	cands := []int64{offsetAt(w - 26*3600), offsetAt(w + 26*3600)}
	cands = append(cands, offsetAt(w-cands[0]), offsetAt(w-cands[1]))
	var best int64
	found := false
	for _, o := range cands {
		if u := w - o; offsetAt(u) == o && (!found || u < best) {
			best, found = u, true
		}
	}
	return time.Unix(best, 0).In(loc), found
}

// nextWall returns the first wall-clock second at or after lb (in wall
// seconds) that the expression matches, or false when there is none
// before the year 2200.
func (e *calendarExpr) nextWall(lb int64) (int64, bool) {
	if start := daysFromCivil(minCalendarYear, 1, 1) * secondsPerDay; lb < start {
		lb = start
	}
	w := wallSpec{months: e.months, hours: e.hours, minutes: e.minutes, seconds: e.seconds, years: e.hasYear,
		days: func(y, m, length int, first int64) uint32 { return e.monthDays(length, first) }}
	return w.next(lb, maxCalendarYear)
}

func (e *calendarExpr) hasYear(y int) bool {
	i := y - minCalendarYear
	return e.years[i/64]&(1<<(i%64)) != 0
}

// monthDays returns the days of a month that match both the day-of-month
// and the weekday parts, as a bitmask (bit d for day d), given the month's
// length and the day number of its 1st.
func (e *calendarExpr) monthDays(length int, first int64) uint32 {
	full := uint32(1)<<(length+1) - 2
	dom := e.days & full
	for last := e.lastDays; last != 0; last &= last - 1 {
		if k := bits.TrailingZeros32(last); k <= length {
			dom |= 1 << (length - k + 1)
		}
	}
	wd1 := (weekdayOfDays(first) + 6) % 7 // weekday of the 1st, 0 is Monday
	var dow uint32
	for w := 0; w < 7; w++ {
		if e.weekdays&(1<<w) != 0 {
			first := (w-wd1+7)%7 + 1
			for d := first; d <= length; d += 7 {
				dow |= 1 << d
			}
		}
	}
	return dom & dow
}
