package schedule

// Wall-clock times are handled as "wall seconds": seconds since 1970-01-01
// 00:00 of the local calendar, as if the local clock were UTC. This keeps the
// calendar search free of time zone lookups; zones enter only when a wall
// time is mapped to an instant.

const (
	secondsPerMinute = 60
	secondsPerDay    = 86400
)

// floorDiv divides rounding towards negative infinity, so that wall seconds
// before 1970 still map to the right day and minute.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := int64(floorDiv(int64(y), 400))
	yoe := int64(y) - era*400              // year of era, 0..399
	mp := int64((m + 9) % 12)              // month counted from March, 0..11
	doy := (153*mp+2)/5 + int64(d) - 1     // day of the year starting 1 March
	doe := yoe*365 + yoe/4 - yoe/100 + doy // day of the 400-year era
	return era*146097 + doe - 719468       // 719468 days from 0000-03-01 to 1970-01-01
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int((mp+2)%12 + 1)
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

// weekdayOfDays returns the weekday (0 is Sunday) of a day number as
// returned by daysFromCivil; 1970-01-01 was a Thursday.
func weekdayOfDays(z int64) int {
	return int(((z+4)%7 + 7) % 7)
}

func isLeap(y int) bool {
	return y%4 == 0 && (y%100 != 0 || y%400 == 0)
}

func daysInMonth(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// wallSpec is what a wall-clock search matches: the bitmasks of the
// months, hours, minutes and seconds a schedule runs in, and functions for
// the parts that depend on the calendar. Cron and OnCalendar schedules
// both search with it.
type wallSpec struct {
	months  uint16 // bit m: month m (1-12)
	hours   uint32
	minutes uint64
	seconds uint64
	// years reports whether a year matches; nil matches every year.
	years func(y int) bool
	// days returns the matching days of month m of year y as a bitmask
	// (bit d for day d), given the month's length and the day number of
	// its 1st (as daysFromCivil returns it).
	days func(y, m, length int, first int64) uint32
}

// next returns the first matching wall-clock second at or after lb (wall
// seconds), ignoring time zones, or false when there is none by the end of
// limitYear.
func (w *wallSpec) next(lb int64, limitYear int) (int64, bool) {
	days := floorDiv(lb, secondsPerDay)
	sec := int(lb - days*secondsPerDay)
	y, m, d := civilFromDays(days)
	h, mi, s := sec/3600, sec%3600/60, sec%60
	for {
		if y > limitYear {
			return 0, false
		}
		if w.years != nil && !w.years(y) {
			y, m, d, h, mi, s = y+1, 1, 1, 0, 0, 0
			continue
		}
		if w.months&(1<<m) == 0 {
			if later := w.months &^ (1<<(m+1) - 1); later != 0 {
				m = lowestBit(later)
			} else {
				y, m = y+1, lowestBit(w.months)
			}
			d, h, mi, s = 1, 0, 0, 0
			continue
		}
		first := daysFromCivil(y, m, 1)
		length := daysInMonth(y, m)
		dayBits := w.days(y, m, length, first) &^ (1<<d - 1)
		if dayBits == 0 {
			if m++; m > 12 {
				m, y = 1, y+1
			}
			d, h, mi, s = 1, 0, 0, 0
			continue
		}
		if nd := lowestBit(dayBits); nd != d {
			d, h, mi, s = nd, 0, 0, 0
		}
		// Carries past the end of a day, an hour or a minute go round the
		// loop again, which moves to the next day, month or year.
		hourBits := w.hours &^ (1<<h - 1)
		if hourBits == 0 {
			d, h, mi, s = d+1, 0, 0, 0
			continue
		}
		if nh := lowestBit(hourBits); nh != h {
			h, mi, s = nh, 0, 0
		}
		minuteBits := w.minutes &^ (1<<mi - 1)
		if minuteBits == 0 {
			h, mi, s = h+1, 0, 0
			if h == 24 {
				d, h = d+1, 0
			}
			continue
		}
		if nm := lowestBit(minuteBits); nm != mi {
			mi, s = nm, 0
		}
		secondBits := w.seconds &^ (1<<s - 1)
		if secondBits == 0 {
			mi, s = mi+1, 0
			if mi == 60 {
				h, mi = h+1, 0
				if h == 24 {
					d, h = d+1, 0
				}
			}
			continue
		}
		s = lowestBit(secondBits)
		return (first+int64(d-1))*secondsPerDay + int64(h*3600+mi*60+s), true
	}
}
