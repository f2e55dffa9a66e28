package nightjar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
)

func TestLoadLocation(t *testing.T) {
	a, err := nightjar.LoadLocation("Europe/Berlin")
	if err != nil || a.String() != "Europe/Berlin" {
		t.Fatalf("LoadLocation = %v, %v", a, err)
	}
	if b, _ := nightjar.LoadLocation("Europe/Berlin"); b != a {
		t.Fatal("the zone was loaded again instead of shared")
	}
	for _, bad := range []string{"", "Local", "Mars/Olympus", "../../etc/passwd"} {
		if loc, err := nightjar.LoadLocation(bad); err == nil {
			t.Errorf("LoadLocation(%q) = %v, want an error", bad, loc)
		}
	}
}

// A schedule that never runs, or not within ScheduleHorizonYears, is
// refused as a schedule error; so is a kind that does not fit the
// schedule's syntax. OnCalendar schedules make oncalendar checks.
func TestValidateAtSchedules(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	check := func(expr string) *nightjar.Check {
		c := nightjar.NewCheck("p", "c")
		c.Kind, c.Schedule, c.TZ = nightjar.ScheduleKind(expr), expr, "Europe/Berlin"
		return c
	}
	for expr, wantErr := range map[string]string{
		"0 0 31 2 *":              "never runs within 10 years",
		"0 0 * 2 MON#5":           "never runs within 10 years",
		"*-02-30":                 "never runs within 10 years",
		"2020-01-01 12:00":        "never runs within 10 years",
		"0 0 29 2 *":              "",
		"Mon..Fri *-*-* 09:00":    "",
		"daily\n12:00 Asia/Tokyo": "",
		"Mon *-*-* 25:00":         "hour",
		"0 0 * * * *":             "cron expression, it needs 5 fields",
		"*/15 * * * *":            "",
	} {
		err := check(expr).ValidateAt(now)
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("%q: %v", expr, err)
		case wantErr != "" && (err == nil || nightjar.ErrorField(err) != "schedule" || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("%q: %v, want a schedule error containing %q", expr, err, wantErr)
		}
	}
	if k := nightjar.ScheduleKind("Mon 09:00"); k != nightjar.KindOnCalendar {
		t.Errorf("kind of an OnCalendar schedule = %q", k)
	}
	c := check("Mon 09:00")
	c.Kind = nightjar.KindCron
	if err := c.Validate(); nightjar.ErrorField(err) != "schedule" {
		t.Errorf("cron kind with an OnCalendar schedule: %v", err)
	}
}
