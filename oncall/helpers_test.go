package oncall_test

import (
	"fmt"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // expectations must not depend on the machine's zoneinfo

	"github.com/nightjar-dev/nightjar/oncall"
)

// rotation returns a layer without restrictions.
func rotation(shift, start string, participants ...string) oncall.Layer {
	return oncall.Layer{Participants: participants, Shift: shift, Start: start}
}

// only returns l restricted to one window on the given days (none: every
// day).
func only(l oncall.Layer, start, end string, days ...string) oncall.Layer {
	l.Restrictions = append(slices.Clone(l.Restrictions), oncall.Restriction{Days: days, Start: start, End: end})
	return l
}

// build compiles a definition or stops the test.
func build(tb testing.TB, d oncall.Definition) *oncall.Schedule {
	tb.Helper()
	s, err := oncall.New(d)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return s
}

// instant parses an RFC 3339 time or stops the test.
func instant(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatalf("time.Parse(%q): %v", s, err)
	}
	return t
}

// render writes shifts as the lines of a timeline, in the schedule's zone:
//
//	Sat 2024-03-30 09:00 +0100 → Sun 2024-03-31 09:00 +0200 (23h) bob, layer 0
func render(shifts []oncall.Shift) []string {
	const layout = "Mon 2006-01-02 15:04 -0700"
	lines := []string{}
	for _, sh := range shifts {
		source := fmt.Sprintf("layer %d", sh.Layer)
		if sh.Override >= 0 {
			source = fmt.Sprintf("override %d", sh.Override)
		}
		lines = append(lines, fmt.Sprintf("%s → %s (%s) %s, %s",
			sh.Start.Format(layout), sh.End.Format(layout), hours(sh.End.Sub(sh.Start)), sh.UserID, source))
	}
	return lines
}

// hours writes a duration as 23h, 23h30m or 45m.
func hours(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case m == 0:
		return fmt.Sprintf("%dh", h)
	case h == 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}

// diffLines reports the first difference between two timelines, with
// both in full.
func diffLines(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	if slices.Equal(got, want) {
		return
	}
	msg := what + ":\n got:\n"
	for _, l := range got {
		msg += "\t" + l + "\n"
	}
	msg += " want:\n"
	for _, l := range want {
		msg += "\t" + l + "\n"
	}
	tb.Error(msg)
}

// expectShifts checks the shifts of [from, to) (RFC 3339) against a
// timeline as render writes it, and returns them.
func expectShifts(t *testing.T, s *oncall.Schedule, from, to string, want []string) []oncall.Shift {
	t.Helper()
	shifts, err := s.Shifts(instant(t, from), instant(t, to))
	if err != nil {
		t.Fatalf("Shifts(%s, %s): %v", from, to, err)
	}
	diffLines(t, "shifts from "+from+" to "+to, render(shifts), want)
	return shifts
}

// expectOnCall checks who is on call at each instant (RFC 3339) named.
func expectOnCall(t *testing.T, s *oncall.Schedule, want map[string][]string) {
	t.Helper()
	for at, users := range want {
		if got := s.OnCallAt(instant(t, at)); !slices.Equal(got, users) {
			t.Errorf("OnCallAt(%s) = %q, want %q", at, got, users)
		}
	}
}
