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
