package schedule

import (
	"errors"
	"testing"
	"time"
)

// FuzzParseCron checks that no input makes the parser or the evaluator
// panic, that rejected input yields a *ParseError with a message, and that
// for accepted input Next moves strictly forward and agrees with a
// minute-by-minute replay of the daemon over the next two days, in UTC and
// in zones with daylight-saving changes.
func FuzzParseCron(f *testing.F) {
	for _, seed := range []string{
		"* * * * *", "*/15 * * * *", "30 2 * * *", "0 9 * * 1-5", "0 0 L * *",
		"0 0 LW * *", "0 0 15W * *", "0 0 * * 5L", "0 0 * * MON#2", "@daily",
		"@reboot", "0 0 30 2 *", "5/15 3/6 10/5 2/3 1/2", "0 0 1,15 * MON",
		"0 0 */2 * MON", "0-59 0-23 1-31 1-12 0-7", "* * * * 8", "1,,2 * * * *",
		"* 2 25-31 3 */7", "0 0 * 2 MON#5", "0 0 29 2 *", "", "@", "L-3 * * * *",
	} {
		f.Add(seed, int64(0), uint8(0))
	}
	f.Add("30 2 * * *", int64(7_776_000), uint8(1))
	f.Add("*/30 * * * *", int64(25_660_800), uint8(2))

	zones := []*time.Location{
		time.UTC,
		mustZone(f, "Europe/Berlin"),
		mustZone(f, "Australia/Lord_Howe"),
		mustZone(f, "America/Santiago"),
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

	f.Fuzz(func(t *testing.T, expr string, offset int64, zone uint8) {
		c, err := ParseCron(expr)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || err.Error() == "" {
				t.Fatalf("ParseCron(%q) returned %T %q, want a *ParseError with a message", expr, err, err)
			}
			return
		}
		if c.Describe() == "" {
			t.Fatalf("empty description for %q", expr)
		}
		again, err := ParseCron(c.String())
		if err != nil || again.String() != c.String() || again.dayTable != c.dayTable ||
			again.minutes != c.minutes || again.hours != c.hours || again.months != c.months {
			t.Fatalf("String() of %q = %q does not parse back to the same schedule (%v)", expr, c.String(), err)
		}

		loc := zones[int(zone)%len(zones)]
		// Any minute within two years of the base, with some seconds.
		if offset < 0 {
			offset = -offset
		}
		after := base.Add(time.Duration(offset%(2*366*86400)) * time.Second).In(loc)
		const window = 48 * time.Hour
		for step := 0; step < 4; step++ {
			next := c.Next(after, loc)
			want, ok := simulateDaemon(c, loc, after, window)
			switch {
			case ok && !next.Equal(want):
				t.Fatalf("%q in %s after %s: Next = %s, daemon runs at %s", expr, loc, after.Format(time.RFC3339), next.Format(time.RFC3339), want.Format(time.RFC3339))
			case !ok && !next.IsZero() && !next.After(after.Add(window)):
				t.Fatalf("%q in %s after %s: Next = %s, daemon runs nothing within %s", expr, loc, after.Format(time.RFC3339), next.Format(time.RFC3339), window)
			}
			if next.IsZero() {
				return
			}
			if !next.After(after) {
				t.Fatalf("%q in %s: Next(%s) = %s is not after it", expr, loc, after.Format(time.RFC3339), next.Format(time.RFC3339))
			}
			if next.Location() != loc {
				t.Fatalf("%q: Next returned a time in %s, want %s", expr, next.Location(), loc)
			}
			after = next
		}
	})
}
