package schedule

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Describe parses expr and returns a short English description of it, such
// as "At 09:00 on Monday through Friday", for showing next to a schedule in
// the console so that users can catch mistakes before a check goes red.
// OnCalendar schedules, whose syntax already reads as dates and times, are
// named as such with their expressions. It returns the same errors as
// [Parse].
func Describe(expr string) (string, error) {
	s, err := Parse(expr)
	if err != nil {
		return "", err
	}
	if c, ok := s.(*Cron); ok {
		return c.Describe(), nil
	}
	return "OnCalendar: " + strings.ReplaceAll(s.String(), "\n", "; "), nil
}

// Describe returns a short English description of the schedule. The wording
// favours brevity over completeness and is meant as a hint, not as a
// specification; times are wall-clock times in the check's time zone.
func (c *Cron) Describe() string {
	var b strings.Builder
	clock, fixed := c.describeTime()
	b.WriteString(clock)

	dom, dow, month := c.terms[fDom], c.terms[fDow], c.terms[fMonth]
	domAll, dowAll, monthAll := plainStar(dom), plainStar(dow), plainStar(month)
	monthDone := false
	switch {
	case domAll && dowAll:
		if fixed {
			b.WriteString(" every day")
		}
	case dowAll:
		if ds, ok := singleValues(dom); ok && len(ds) == 1 {
			if ms, ok := singleValues(month); ok && len(ms) == 1 {
				// "on January 1" reads better than "on the 1st of the month in January".
				fmt.Fprintf(&b, " on %s %d", monthNames[ms[0]], ds[0])
				monthDone = true
				break
			}
		}
		b.WriteString(" on " + describeDom(dom))
	case domAll:
		b.WriteString(" on " + describeDow(dow))
	case c.domStar || c.dowStar:
		// Both fields must match.
		b.WriteString(" on " + describeDom(dom) + " if it is " + describeDow(dow))
	default:
		// Either field may match.
		b.WriteString(" on " + describeDom(dom) + " and on " + describeDow(dow))
	}
	if !monthAll && !monthDone {
		b.WriteString(" in " + describeMonth(month))
	}
	if c.never {
		b.WriteString(" (this date never occurs)")
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

var (
	monthNames   = []string{"", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	weekdayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	nthWords     = []string{"", "first", "second", "third", "fourth", "fifth"}
)

// describeTime describes the minute and hour fields. It reports whether the
// job runs at a few specific times of day, after which "every day" reads
// naturally.
func (c *Cron) describeTime() (string, bool) {
	minutes, hours := c.terms[fMinute], c.terms[fHour]
	ms, mSingles := singleValues(minutes)
	hs, hSingles := singleValues(hours)

	if mSingles && hSingles && len(ms)*len(hs) <= 4 {
		var times []string
		for _, h := range hs {
			for _, m := range ms {
				times = append(times, fmt.Sprintf("%02d:%02d", h, m))
			}
		}
		return "at " + joinAnd(times), true
	}

	mStar := len(minutes) == 1 && minutes[0].kind == kindStar
	hStar := len(hours) == 1 && hours[0].kind == kindStar
	switch {
	case mStar && hStar && hours[0].step == 1:
		return everyMinutes(minutes[0].step), false
	case mSingles && len(ms) == 1 && hStar:
		n := hours[0].step
		switch {
		case n == 1 && ms[0] == 0:
			return "every hour", false
		case n == 1:
			return fmt.Sprintf("at minute %d of every hour", ms[0]), false
		case ms[0] == 0 && 24%n == 0:
			return fmt.Sprintf("every %d hours", n), false
		}
		return fmt.Sprintf("at minute %d past every %s hour", ms[0], ordinal(n)), false
	case mStar && len(hours) == 1 && hours[0].kind == kindRange && hours[0].step == 1:
		return fmt.Sprintf("%s from %02d:00 through %02d:59", everyMinutes(minutes[0].step), hours[0].lo, hours[0].hi), false
	}

	hourPart := describeList(hours, "hour", "hours", strconv.Itoa)
	if hStar && hours[0].step == 1 {
		hourPart = "every hour"
	}
	return describeMinutes(minutes) + " past " + hourPart, false
}

func everyMinutes(step int) string {
	switch {
	case step == 1:
		return "every minute"
	case 60%step == 0:
		return fmt.Sprintf("every %d minutes", step)
	}
	return fmt.Sprintf("every %s minute", ordinal(step))
}

func describeMinutes(terms []term) string {
	s := describeList(terms, "minute", "minutes", strconv.Itoa)
	for _, t := range terms {
		if t.kind == kindRange && t.lo == t.hi && !t.openEnd {
			return "at " + s
		}
	}
	return s
}

// describeList describes the number, range, wildcard and step terms of a
// minute, hour or month field.
func describeList(terms []term, unit, units string, label func(int) string) string {
	var parts, singles []string
	flush := func() {
		switch len(singles) {
		case 0:
		case 1:
			parts = append(parts, unit+" "+singles[0])
		default:
			parts = append(parts, units+" "+joinAnd(singles))
		}
		singles = nil
	}
	for _, t := range terms {
		if t.kind == kindRange && t.lo == t.hi && !t.openEnd {
			singles = append(singles, label(t.lo))
			continue
		}
		flush()
		parts = append(parts, describeSeq(t, unit, label))
	}
	flush()
	return joinAnd(parts)
}

// describeSeq describes a wildcard or range term, with or without a step.
func describeSeq(t term, unit string, label func(int) string) string {
	every := "every " + unit
	if t.step > 1 {
		every = "every " + ordinal(t.step) + " " + unit
	}
	if t.kind == kindStar {
		return every
	}
	return fmt.Sprintf("%s from %s through %s", every, label(t.lo), label(t.hi))
}

func describeDom(terms []term) string {
	var parts, singles []string
	flush := func() {
		if len(singles) > 0 {
			parts = append(parts, "the "+joinAnd(singles))
			singles = nil
		}
	}
	for _, t := range terms {
		if t.kind == kindRange && t.lo == t.hi && !t.openEnd {
			singles = append(singles, ordinal(t.lo))
			continue
		}
		flush()
		switch t.kind {
		case kindLast:
			parts = append(parts, "the last day")
		case kindLastWeekday:
			parts = append(parts, "the last weekday")
		case kindNearest:
			parts = append(parts, "the weekday nearest the "+ordinal(t.lo))
		case kindStar:
			parts = append(parts, describeSeq(t, "day", nil))
		default:
			if t.step == 1 {
				parts = append(parts, fmt.Sprintf("the %s through %s", ordinal(t.lo), ordinal(t.hi)))
			} else {
				parts = append(parts, fmt.Sprintf("every %s day from the %s through the %s", ordinal(t.step), ordinal(t.lo), ordinal(t.hi)))
			}
		}
	}
	flush()
	return joinAnd(parts) + " of the month"
}

func describeDow(terms []term) string {
	var parts []string
	for _, t := range terms {
		switch {
		case t.kind == kindLastDow:
			parts = append(parts, "the last "+weekdayNames[t.lo]+" of the month")
		case t.kind == kindNth:
			parts = append(parts, "the "+nthWords[t.nth]+" "+weekdayNames[t.lo]+" of the month")
		case t.kind == kindStar:
			parts = append(parts, describeSeq(t, "day of the week", nil))
		case t.lo == t.hi && !t.openEnd:
			parts = append(parts, weekdayNames[t.lo])
		case t.step == 1:
			parts = append(parts, weekdayNames[t.lo]+" through "+weekdayNames[t.hi])
		default:
			parts = append(parts, describeSeq(t, "day of the week", func(v int) string { return weekdayNames[v] }))
		}
	}
	return joinAnd(parts)
}

func describeMonth(terms []term) string {
	var parts, singles []string
	flush := func() {
		if len(singles) > 0 {
			parts = append(parts, joinAnd(singles))
			singles = nil
		}
	}
	for _, t := range terms {
		switch {
		case t.kind == kindRange && t.lo == t.hi && !t.openEnd:
			singles = append(singles, monthNames[t.lo])
			continue
		case t.kind == kindRange && t.step == 1:
			flush()
			parts = append(parts, monthNames[t.lo]+" through "+monthNames[t.hi])
		default:
			flush()
			parts = append(parts, describeSeq(t, "month", func(v int) string { return monthNames[v] }))
		}
	}
	flush()
	return joinAnd(parts)
}

// plainStar reports whether a field is exactly "*", that is, unrestricted.
func plainStar(terms []term) bool {
	return len(terms) == 1 && terms[0].kind == kindStar && terms[0].step == 1
}

// singleValues returns the sorted, distinct values of a field made only of
// single numbers, and whether it is such a field.
func singleValues(terms []term) ([]int, bool) {
	vals := make([]int, 0, len(terms))
	for _, t := range terms {
		if t.kind != kindRange || t.lo != t.hi || t.openEnd {
			return nil, false
		}
		vals = append(vals, t.lo)
	}
	slices.Sort(vals)
	return slices.Compact(vals), true
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	case 2:
		return items[0] + " and " + items[1]
	}
	return strings.Join(items[:len(items)-1], ", ") + ", and " + items[len(items)-1]
}

// ordinal formats 1 as "1st", 2 as "2nd", 11 as "11th" and so on.
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}
