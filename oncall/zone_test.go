package oncall

import (
	"testing"
	"time"
	_ "time/tzdata" // expectations must not depend on the machine's zoneinfo
)

// TestResolveAgreesWithAScanOfTheClock checks resolve against its
// definition, the first instant whose wall clock shows w or later, found
// by reading the clock minute by minute. Walls are taken every 10 minutes
// around every offset change of several zones and years, including 2040,
// a leap year past the changes the zone database lists, where the
// standard library's zone bounds are unreliable.
func TestResolveAgreesWithAScanOfTheClock(t *testing.T) {
	zones := []string{"Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Apia", "America/Santiago", "Asia/Kolkata"}
	years := []int{2011, 2012, 2024, 2040}
	checked := 0
	for _, name := range zones {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		z := zone{loc}
		for _, year := range years {
			first := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
			last := time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
			// Offset changes of the year, to the hour, and a quiet
			// wall time to check too.
			changes := []int64{first + 100*secondsPerDay}
			for u := first; u < last; u += secondsPerHour {
				if z.offset(u) != z.offset(u+secondsPerHour) {
					changes = append(changes, u)
				}
			}
			for _, c := range changes {
				for w := z.wall(c) - 4*secondsPerHour; w <= z.wall(c)+4*secondsPerHour; w += 10 * 60 {
					want := scanClock(z, w)
					if got := z.resolve(w); got != want {
						t.Errorf("%s: resolve(%s) = %s, want %s", name, time.Unix(w, 0).UTC().Format("2006-01-02 15:04"),
							time.Unix(got, 0).In(loc).Format(time.RFC3339), time.Unix(want, 0).In(loc).Format(time.RFC3339))
					}
					checked++
				}
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("checked only %d wall times", checked)
	}
}

// scanClock reads the clock a minute at a time and returns the first
// instant at which it shows w or later. Every offset and change of the
// zones tested falls on a whole minute, so the minute grid holds the
// answer.
func scanClock(z zone, w int64) int64 {
	for u := w - resolveSpan; ; u += 60 {
		if z.wall(u) >= w {
			return u
		}
	}
}

func TestWeekdayOf(t *testing.T) {
	for _, d := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC),
		time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC),
	} {
		if got := weekdayOf(d.Unix()); got != int(d.Weekday()) {
			t.Errorf("weekdayOf(%s) = %d, want %d", d, got, d.Weekday())
		}
	}
}
