package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustOnCalendar(t testing.TB, text string) *OnCalendar {
	t.Helper()
	oc, err := ParseOnCalendar(text)
	if err != nil {
		t.Fatalf("ParseOnCalendar(%q): %v", text, err)
	}
	return oc
}

// runs returns the next n runs as RFC 3339 times in loc.
func runs(oc *OnCalendar, after time.Time, loc *time.Location, n int) []string {
	var out []string
	for _, t := range NextN(oc, after, loc, n) {
		out = append(out, t.In(loc).Format(time.RFC3339))
	}
	return out
}

func TestIsCron(t *testing.T) {
	for expr, want := range map[string]bool{
		"0 9 * * 1-5":         true,
		" 0 9 * * 1-5 ":       true,
		"@daily":              true,
		"0 9 * * 1-5\n":       true, // the newline is outside the trimmed text
		"0 9 * *":             false,
		"0 0 * * * *":         false,
		"Mon *-*-* 09:00":     false,
		"daily":               false,
		"0 9 * * 1\n0 10 * *": false,
	} {
		if got := IsCron(expr); got != want {
			t.Errorf("IsCron(%q) = %v, want %v", expr, got, want)
		}
	}
}

// The cases of the parser Healthchecks uses, field by field.
func TestParseOnCalendarFields(t *testing.T) {
	all := func(lo, hi int) (m uint64) {
		for v := lo; v <= hi; v++ {
			m |= 1 << v
		}
		return m
	}
	for _, tc := range []struct {
		expr                      string
		weekdays                  uint8
		months                    uint16
		days, lastDays            uint32
		hours                     uint32
		minutes, seconds          uint64
		firstYear, lastYear, year int
	}{
		{expr: "*-*-* *:*:*", weekdays: 127, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: uint32(all(0, 23)), minutes: all(0, 59), seconds: all(0, 59)},
		{expr: "Mon", weekdays: 1, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: 1, minutes: 1, seconds: 1},
		{expr: "MONDAY", weekdays: 1, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: 1, minutes: 1, seconds: 1},
		{expr: "Mon, 12:34", weekdays: 1, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: 1 << 12, minutes: 1 << 34, seconds: 1},
		{expr: "Mon-Tue", weekdays: 3, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: 1, minutes: 1, seconds: 1},
		{expr: "Sat..Sun,Wed", weekdays: 1<<5 | 1<<6 | 1<<2, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: 1, minutes: 1, seconds: 1},
		{expr: "2023-11-30", weekdays: 127, months: 1 << 11, days: 1 << 30, hours: 1, minutes: 1, seconds: 1, year: 2023},
		{expr: "11-30", weekdays: 127, months: 1 << 11, days: 1 << 30, hours: 1, minutes: 1, seconds: 1},
		{expr: "69-*-*", weekdays: 127, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: 1, minutes: 1, seconds: 1, year: 2069},
		{expr: "70-*-*", weekdays: 127, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: 1, minutes: 1, seconds: 1, year: 1970},
		{expr: "11:22:33", weekdays: 127, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: 1 << 11, minutes: 1 << 22, seconds: 1 << 33},
		{expr: "*:1..3,7..9:*", weekdays: 127, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: uint32(all(0, 23)), minutes: all(1, 3) | all(7, 9), seconds: all(0, 59)},
		{expr: "*:0/15", weekdays: 127, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: uint32(all(0, 23)), minutes: 1 | 1<<15 | 1<<30 | 1<<45, seconds: 1},
		{expr: "*:0..10/2", weekdays: 127, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: uint32(all(0, 23)), minutes: 1 | 1<<2 | 1<<4 | 1<<6 | 1<<8 | 1<<10, seconds: 1},
		{expr: "*:5/15", weekdays: 127, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: uint32(all(0, 23)), minutes: 1<<5 | 1<<20 | 1<<35 | 1<<50, seconds: 1},
		{expr: "*-*~1", weekdays: 127, months: uint16(all(1, 12)), lastDays: 1 << 1, hours: 1, minutes: 1, seconds: 1},
		{expr: "*~1", weekdays: 127, months: uint16(all(1, 12)), lastDays: 1 << 1, hours: 1, minutes: 1, seconds: 1},
		{expr: "*-*~1,8", weekdays: 127, months: uint16(all(1, 12)), lastDays: 1<<1 | 1<<8, hours: 1, minutes: 1, seconds: 1},
		{expr: "*-*~1..2,4..5", weekdays: 127, months: uint16(all(1, 12)), lastDays: 1<<1 | 1<<2 | 1<<4 | 1<<5, hours: 1, minutes: 1, seconds: 1},
		{expr: "*-*~1..5/2", weekdays: 127, months: uint16(all(1, 12)), lastDays: 1<<1 | 1<<3 | 1<<5, hours: 1, minutes: 1, seconds: 1},
		{expr: "*-*~3/2", weekdays: 127, months: uint16(all(1, 12)), lastDays: 1<<1 | 1<<3, hours: 1, minutes: 1, seconds: 1},
		{expr: "MiNuTeLY", weekdays: 127, months: uint16(all(1, 12)), days: uint32(all(1, 31)), hours: uint32(all(0, 23)), minutes: all(0, 59), seconds: 1},
		{expr: "quarterly", weekdays: 127, months: 1<<1 | 1<<4 | 1<<7 | 1<<10, days: 1 << 1, hours: 1, minutes: 1, seconds: 1},
	} {
		oc := mustOnCalendar(t, tc.expr)
		e := oc.exprs[0]
		if e.weekdays != tc.weekdays || e.months != tc.months || e.days != tc.days || e.lastDays != tc.lastDays ||
			e.hours != tc.hours || e.minutes != tc.minutes || e.seconds != tc.seconds {
			t.Errorf("%q: weekdays %b months %b days %b last days %b hours %b minutes %b seconds %b", tc.expr,
				e.weekdays, e.months, e.days, e.lastDays, e.hours, e.minutes, e.seconds)
		}
		for y := minCalendarYear; y <= maxCalendarYear; y++ {
			if want := tc.year == 0 || y == tc.year; e.hasYear(y) != want {
				t.Errorf("%q: year %d %v, want %v", tc.expr, y, e.hasYear(y), want)
				break
			}
		}
	}
}

// Everything the parser Healthchecks uses refuses is refused, with a
// *ParseError naming the part and what was expected.
func TestParseOnCalendarErrors(t *testing.T) {
	patterns := []string{"%s *-*-* *:*:*", "%s-*-*", "*-%s-*", "*-*-%s", "*-*~%s", "%s:*:*", "*:%s:*", "*:*:%s"}
	bad := []string{"-1", "1000", "ABC", "1-1", "1:1", "Mon/1", "~1", "*/1", "*,1", "1..*"}
	for _, p := range patterns {
		for _, v := range bad {
			expr := strings.Replace(p, "%s", v, 1)
			if _, err := ParseOnCalendar(expr); err == nil {
				t.Errorf("%q was accepted", expr)
			}
		}
	}
	for expr, want := range map[string]string{
		"":                                 "empty OnCalendar expression",
		"Mon *-*-* *:*:* surprise":         "too many parts: expected [weekdays] [date] [time] [time zone]",
		"*-*-5..1":                         `day-of-month field "5..1": range 5..1 runs backwards`,
		"*:1..1_0":                         `minute field "1..1_0"`,
		"*:*/0":                            `minute field "*/0"`,
		"*:0/0":                            "a step must be at least 1",
		"1-32":                             "value 32 out of range 1-31",
		"* 1-1":                            "day-of-week",
		"1~29":                             "from 1 to 28",
		"12:00:00:00":                      "expected hour:minute",
		"1-2-3-4":                          "expected [year-]month-day",
		"Fri..Mon":                         "runs backwards",
		"0 0 * * * *":                      "as a cron expression, it needs 5 fields and has 6",
		"daily\n\nweekly":                  "line 2: empty OnCalendar expression",
		"daily\n12:61":                     `line 2: minute field "61": value 61 out of range 0-59`,
		"12:00 Mars/Olympus":               `time zone field "Mars/Olympus": expected an IANA time zone name`,
		"Mon *-*-* 09:00 Local":            "too many parts",
		"Mon *-*-* 09:00 ../../etc/passwd": "time zone",
	} {
		_, err := ParseOnCalendar(expr)
		var pe *ParseError
		if err == nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseOnCalendar(%q) = %v, want a *ParseError containing %q", expr, err, want)
		}
	}
}

func TestOnCalendarNext(t *testing.T) {
	now := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		expr string
		from time.Time
		want []string
	}{
		{"*:*:0/5", now, []string{"2020-01-01T00:00:05Z", "2020-01-01T00:00:10Z"}},
		{"*:*", now, []string{"2020-01-01T00:01:00Z", "2020-01-01T00:02:00Z"}},
		{"Mon 2-29", now, []string{"2044-02-29T00:00:00Z", "2072-02-29T00:00:00Z"}},
		{"*~1", now, []string{"2020-01-31T00:00:00Z", "2020-02-29T00:00:00Z", "2020-03-31T00:00:00Z"}},
		{"Sun *~7/1", now, []string{"2020-01-26T00:00:00Z", "2020-02-23T00:00:00Z", "2020-03-29T00:00:00Z"}},
		{"2019-01-01", now, nil},
		{"00:00", now.Add(time.Hour), []string{"2020-01-02T00:00:00Z"}},
		{"Mon..Fri *-*-* 09:00", time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC), []string{"2026-03-09T09:00:00Z", "2026-03-10T09:00:00Z"}},
		{"weekly", now, []string{"2020-01-06T00:00:00Z", "2020-01-13T00:00:00Z"}},
		{"*-02-30", now, nil},
		{"2199-12-31 23:59:59", now, []string{"2199-12-31T23:59:59Z"}},
		// Several lines: whichever runs first.
		{"Mon 09:00\nFri 17:30", time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), []string{"2026-03-06T17:30:00Z", "2026-03-09T09:00:00Z", "2026-03-13T17:30:00Z"}},
		{"12:00\n12:00", now, []string{"2020-01-01T12:00:00Z", "2020-01-02T12:00:00Z"}},
		// A line with a past date does not stop the others.
		{"2019-01-01\n*-*-15", now, []string{"2020-01-15T00:00:00Z"}},
	} {
		oc := mustOnCalendar(t, tc.expr)
		if got := runs(oc, tc.from, time.UTC, max(len(tc.want), 1)); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q after %s: %v, want %v", tc.expr, tc.from.Format(time.RFC3339), got, tc.want)
		}
		// Strictly after: a run at `after` itself is not the next one.
		if len(tc.want) > 0 {
			first, _ := time.Parse(time.RFC3339, tc.want[0])
			if next := oc.Next(first, time.UTC); !next.IsZero() && !next.After(first) {
				t.Errorf("%q: Next(%s) = %s, not after it", tc.expr, tc.want[0], next)
			}
		}
	}
}

// Daylight-saving changes, as the parser Healthchecks uses handles them: a
// wall-clock time that a forward change skips does not run, and one that a
// backward change repeats runs once, at its first occurrence.
func TestOnCalendarDST(t *testing.T) {
	riga := mustZone(t, "Europe/Riga")
	ny := mustZone(t, "America/New_York")
	for _, tc := range []struct {
		expr  string
		loc   *time.Location
		after time.Time
		want  []string
	}{
		{"*-*-29 3:30", riga, time.Date(2020, 1, 1, 0, 0, 0, 0, riga),
			[]string{"2020-01-29T03:30:00+02:00", "2020-02-29T03:30:00+02:00", "2020-04-29T03:30:00+03:00"}},
		{"*-*-25 3:30", riga, time.Date(2020, 10, 1, 0, 0, 0, 0, riga),
			[]string{"2020-10-25T03:30:00+03:00", "2020-11-25T03:30:00+02:00", "2020-12-25T03:30:00+02:00"}},
		// Every half hour across New York's changes of 2026.
		{"*:0/30", ny, time.Date(2026, 3, 8, 1, 0, 0, 0, ny),
			[]string{"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"}},
		{"*:0/30", ny, time.Date(2026, 11, 1, 0, 30, 0, 0, ny),
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00"}},
		// After is in the second copy of the repeated hour: the runs of
		// the first copy are over.
		{"*:0/30", ny, time.Date(2026, 11, 1, 6, 10, 0, 0, time.UTC),
			[]string{"2026-11-01T02:00:00-05:00", "2026-11-01T02:30:00-05:00"}},
		{"01:30", ny, time.Date(2026, 10, 31, 12, 0, 0, 0, ny),
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		{"02:30", ny, time.Date(2026, 3, 7, 12, 0, 0, 0, ny),
			[]string{"2026-03-09T02:30:00-04:00"}},
	} {
		oc := mustOnCalendar(t, tc.expr)
		if got := runs(oc, tc.after, tc.loc, len(tc.want)); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q in %s after %s:\n got %v\nwant %v", tc.expr, tc.loc, tc.after.Format(time.RFC3339), got, tc.want)
		}
	}
}

// An expression's own time zone wins over the one Next is given; results
// are expressed in the latter.
func TestOnCalendarTimeZones(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	after := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	oc := mustOnCalendar(t, "Mon..Fri 09:00 America/New_York\nSat,Sun 10:00")
	got := runs(oc, after, berlin, 3)
	want := []string{"2026-01-10T10:00:00+01:00", "2026-01-11T10:00:00+01:00", "2026-01-12T15:00:00+01:00"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("mixed zones: %v, want %v", got, want)
	}
	if oc.String() != "Mon..Fri 09:00 America/New_York\nSat,Sun 10:00" {
		t.Errorf("String() = %q", oc.String())
	}
	if utc := mustOnCalendar(t, "12:00 UTC"); utc.Next(after, berlin).Format(time.RFC3339) != "2026-01-10T13:00:00+01:00" {
		t.Errorf("12:00 UTC in Berlin: %s", utc.Next(after, berlin).Format(time.RFC3339))
	}
}

func TestFirstRunWithin(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for expr, want := range map[string]bool{
		"0 0 31 2 *":      false, // never
		"0 0 30 2 *":      false,
		"0 0 * 2 MON#5":   false, // next in 2044
		"0 0 29 2 *":      true,  // every four years
		"@yearly":         true,
		"*-02-30":         false,
		"2020-01-01":      false, // in the past
		"2150-01-01":      false,
		"2030-06-01":      true, // once, but within the horizon
		"Mon 2-29":        false,
		"*:0/15":          true,
		"2019-01-01\n*:*": true,
	} {
		s, err := Parse(expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", expr, err)
		}
		if _, got := FirstRunWithin(s, now, time.UTC, 10); got != want {
			t.Errorf("FirstRunWithin(%q, 10 years) = %v, want %v", expr, got, want)
		}
	}
}
