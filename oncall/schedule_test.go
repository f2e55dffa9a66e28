package oncall_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/oncall"
)

// edgesWeek is a daily rotation in an ordinary June week with overrides
// placed on its edges: starting and ending exactly at handoffs, spanning
// one, replacing someone who is not on call, leaving nobody, and
// overlapping each other.
func edgesWeek(tb testing.TB) *oncall.Schedule {
	return build(tb, oncall.Definition{
		TimeZone: "Europe/Berlin",
		Layers:   []oncall.Layer{rotation("daily", "2024-06-03T09:00", "alice", "bob")},
		Overrides: []oncall.Override{
			// 0: carol covers the first three hours of alice's turn.
			{Start: "2024-06-03T09:00", End: "2024-06-03T12:00", RemoveUser: "alice", AddUser: "carol"},
			// 1: dave joins across the 09:00 handoff from alice to bob.
			{Start: "2024-06-04T08:00:00+02:00", End: "2024-06-04T10:00:00+02:00", AddUser: "dave"},
			// 2: bob is off from 17:00 until his turn ends: nobody is on call.
			{Start: "2024-06-04T17:00", End: "2024-06-05T09:00", RemoveUser: "bob"},
			// 3: erin would cover alice, who is not on call then: no effect.
			{Start: "2024-06-04T12:00", End: "2024-06-04T13:00", RemoveUser: "alice", AddUser: "erin"},
			// 4: bob joins alice for an hour.
			{Start: "2024-06-05T10:00", End: "2024-06-05T11:00", AddUser: "bob"},
			// 5: bob covers alice; while 4 still has bob on call, alice
			// just goes off.
			{Start: "2024-06-05T10:30", End: "2024-06-05T11:30", RemoveUser: "alice", AddUser: "bob"},
		},
	})
}

func TestOverridesAtTheEdges(t *testing.T) {
	s := edgesWeek(t)
	expectShifts(t, s, "2024-06-03T09:00:00+02:00", "2024-06-06T09:00:00+02:00", []string{
		"Mon 2024-06-03 09:00 +0200 → Mon 2024-06-03 12:00 +0200 (3h) carol, override 0",
		"Mon 2024-06-03 12:00 +0200 → Tue 2024-06-04 09:00 +0200 (21h) alice, layer 0",
		"Tue 2024-06-04 08:00 +0200 → Tue 2024-06-04 10:00 +0200 (2h) dave, override 1",
		"Tue 2024-06-04 09:00 +0200 → Tue 2024-06-04 17:00 +0200 (8h) bob, layer 0",
		"Wed 2024-06-05 09:00 +0200 → Wed 2024-06-05 10:30 +0200 (1h30m) alice, layer 0",
		"Wed 2024-06-05 10:00 +0200 → Wed 2024-06-05 11:00 +0200 (1h) bob, override 4",
		"Wed 2024-06-05 11:00 +0200 → Wed 2024-06-05 11:30 +0200 (30m) bob, override 5",
		"Wed 2024-06-05 11:30 +0200 → Thu 2024-06-06 09:00 +0200 (21h30m) alice, layer 0",
	})

	expectOnCall(t, s, map[string][]string{
		"2024-06-03T08:59:59+02:00": {},
		"2024-06-03T09:00:00+02:00": {"carol"},
		"2024-06-03T12:00:00+02:00": {"alice"},
		"2024-06-04T08:30:00+02:00": {"alice", "dave"},
		"2024-06-04T09:00:00+02:00": {"bob", "dave"},
		"2024-06-04T12:30:00+02:00": {"bob"},
		"2024-06-04T20:00:00+02:00": {},
		"2024-06-05T10:15:00+02:00": {"alice", "bob"},
		"2024-06-05T10:45:00+02:00": {"bob"},
		"2024-06-05T11:15:00+02:00": {"bob"},
	})

	var got []string
	for _, h := range s.NextHandoffs(instant(t, "2024-06-03T08:00:00+02:00"), 11) {
		got = append(got, fmt.Sprintf("%s %q → %q", h.At.Format("Mon 15:04"), h.Before, h.After))
	}
	diffLines(t, "handoffs", got, []string{
		`Mon 09:00 [] → ["carol"]`,
		`Mon 12:00 ["carol"] → ["alice"]`,
		`Tue 08:00 ["alice"] → ["alice" "dave"]`,
		`Tue 09:00 ["alice" "dave"] → ["bob" "dave"]`,
		`Tue 10:00 ["bob" "dave"] → ["bob"]`,
		`Tue 17:00 ["bob"] → []`,
		`Wed 09:00 [] → ["alice"]`,
		`Wed 10:00 ["alice"] → ["alice" "bob"]`,
		`Wed 10:30 ["alice" "bob"] → ["bob"]`,
		// At 11:00 bob stays on call through another override: no handoff.
		`Wed 11:30 ["bob"] → ["alice"]`,
		`Thu 09:00 ["alice"] → ["bob"]`,
	})
}

func TestLaterLayersTakePrecedenceWhereTheyHaveSomeone(t *testing.T) {
	// Three layers: a weekly base, a business-hours layer over it, and a
	// Friday-evening layer over both that starts only on 7 June.
	s := build(t, oncall.Definition{TimeZone: "Europe/Berlin", Layers: []oncall.Layer{
		rotation("weekly", "2024-06-03T09:00", "base"),
		only(rotation("daily", "2024-06-03T09:00", "ann", "ben"), "09:00", "17:00", "mon", "tue", "wed", "thu", "fri"),
		only(rotation("weekly", "2024-06-07T00:00", "eve"), "16:00", "20:00", "fri"),
	}})
	expectShifts(t, s, "2024-06-06T16:00:00+02:00", "2024-06-10T10:00:00+02:00", []string{
		"Thu 2024-06-06 16:00 +0200 → Thu 2024-06-06 17:00 +0200 (1h) ben, layer 1",
		"Thu 2024-06-06 17:00 +0200 → Fri 2024-06-07 09:00 +0200 (16h) base, layer 0",
		"Fri 2024-06-07 09:00 +0200 → Fri 2024-06-07 16:00 +0200 (7h) ann, layer 1",
		"Fri 2024-06-07 16:00 +0200 → Fri 2024-06-07 20:00 +0200 (4h) eve, layer 2",
		"Fri 2024-06-07 20:00 +0200 → Mon 2024-06-10 09:00 +0200 (61h) base, layer 0",
		"Mon 2024-06-10 09:00 +0200 → Mon 2024-06-10 10:00 +0200 (1h) ben, layer 1",
	})
	// Before its start a layer has nobody, even inside its window.
	before := build(t, oncall.Definition{TimeZone: "Europe/Berlin", Layers: []oncall.Layer{
		only(rotation("weekly", "2024-06-07T18:00", "eve"), "16:00", "20:00", "fri"),
	}})
	expectOnCall(t, before, map[string][]string{
		"2024-06-07T17:59:59+02:00": {},
		"2024-06-07T18:00:00+02:00": {"eve"},
		"2024-06-07T20:00:00+02:00": {},
		"2024-06-14T16:00:00+02:00": {"eve"},
	})
}

func TestRepeatedParticipantsMergeIntoOneShift(t *testing.T) {
	s := build(t, oncall.Definition{TimeZone: "UTC", Layers: []oncall.Layer{
		rotation("daily", "2024-06-03T09:00", "alice", "alice", "bob"),
	}})
	expectShifts(t, s, "2024-06-03T00:00:00Z", "2024-06-07T00:00:00Z", []string{
		"Mon 2024-06-03 09:00 +0000 → Wed 2024-06-05 09:00 +0000 (48h) alice, layer 0",
		"Wed 2024-06-05 09:00 +0000 → Thu 2024-06-06 09:00 +0000 (24h) bob, layer 0",
		"Thu 2024-06-06 09:00 +0000 → Fri 2024-06-07 00:00 +0000 (15h) alice, layer 0",
	})
}

func TestShiftsCutAtTheRangeToTheNanosecond(t *testing.T) {
	s := build(t, oncall.Definition{TimeZone: "UTC", Layers: []oncall.Layer{rotation("daily", "2024-06-03T09:00", "alice", "bob")}})
	from := instant(t, "2024-06-04T08:59:59Z").Add(250 * time.Millisecond)
	to := instant(t, "2024-06-04T09:00:00Z").Add(500 * time.Millisecond)
	shifts, err := s.Shifts(from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(shifts) != 2 || !shifts[0].Start.Equal(from) || !shifts[0].End.Equal(instant(t, "2024-06-04T09:00:00Z")) ||
		!shifts[1].Start.Equal(instant(t, "2024-06-04T09:00:00Z")) || !shifts[1].End.Equal(to) {
		t.Errorf("Shifts(%s, %s) = %+v, want alice until 09:00 and bob after, cut at both ends", from, to, shifts)
	}
	if shifts, _ := s.Shifts(from, from); len(shifts) != 0 {
		t.Errorf("an empty range has shifts: %+v", shifts)
	}
}

func TestRangesOutsideTheLimitsAreRefused(t *testing.T) {
	s := build(t, oncall.Definition{TimeZone: "UTC", Layers: []oncall.Layer{rotation("daily", "2024-06-03T09:00", "alice")}})
	from := instant(t, "2024-06-03T00:00:00Z")
	for _, to := range []time.Time{from.Add(-time.Second), from.Add(oncall.MaxRange + time.Second)} {
		_, err := s.Shifts(from, to)
		if err == nil || !strings.HasPrefix(err.Error(), "nightjar error: code=invalid field=to ") {
			t.Errorf("Shifts(%s, %s) error = %v, want an invalid error about to", from, to, err)
		}
		_, err = s.ICalendar(from, to, oncall.CalendarOptions{ScheduleID: "s", Stamp: from})
		if err == nil || !strings.HasPrefix(err.Error(), "nightjar error: code=invalid field=to ") {
			t.Errorf("ICalendar(%s, %s) error = %v, want an invalid error about to", from, to, err)
		}
	}
}

func TestNextHandoffs(t *testing.T) {
	s := build(t, oncall.Definition{TimeZone: "Europe/Berlin", Layers: []oncall.Layer{rotation("daily", "2024-03-29T09:00", "alice", "bob")}})
	var got []string
	for _, h := range s.NextHandoffs(instant(t, "2024-03-30T09:00:00+01:00"), 3) {
		got = append(got, fmt.Sprintf("%s %q → %q", h.At.Format(time.RFC3339), h.Before, h.After))
	}
	diffLines(t, "handoffs strictly after a handoff", got, []string{
		`2024-03-31T09:00:00+02:00 ["bob"] → ["alice"]`,
		`2024-04-01T09:00:00+02:00 ["alice"] → ["bob"]`,
		`2024-04-02T09:00:00+02:00 ["bob"] → ["alice"]`,
	})
	if h := s.NextHandoffs(instant(t, "2024-03-30T09:00:00+01:00"), 0); len(h) != 0 {
		t.Errorf("NextHandoffs(…, 0) = %v, want none", h)
	}
	// One participant and no restrictions: nobody ever hands off, and
	// the search stops at the horizon.
	alone := build(t, oncall.Definition{TimeZone: "UTC", Layers: []oncall.Layer{rotation("weekly", "2024-01-01T00:00", "solo")}})
	if h := alone.NextHandoffs(instant(t, "2024-06-01T00:00:00Z"), 5); len(h) != 0 {
		t.Errorf("NextHandoffs of a one-person rotation = %v, want none", h)
	}
	// A yearly rotation hands off within the horizon.
	yearly := build(t, oncall.Definition{TimeZone: "UTC", Layers: []oncall.Layer{rotation("365d", "2024-01-01T00:00", "a", "b")}})
	if h := yearly.NextHandoffs(instant(t, "2024-01-01T00:00:00Z"), 1); len(h) != 1 || !h[0].At.Equal(instant(t, "2024-12-31T00:00:00Z")) {
		t.Errorf("NextHandoffs of a yearly rotation = %v, want one on 2024-12-31", h)
	}
}

func TestTimesOutsideTheYearsEvaluated(t *testing.T) {
	s := build(t, oncall.Definition{TimeZone: "Pacific/Kiritimati", Layers: []oncall.Layer{rotation("hourly", "1970-01-01T00:00", "a", "b")}})
	last := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	for _, at := range []time.Time{{}, time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC), last.Add(time.Second)} {
		if got := s.OnCallAt(at); len(got) != 0 {
			t.Errorf("OnCallAt(%s) = %q, want nobody outside the years 1970 to 9999", at, got)
		}
		if h := s.NextHandoffs(at, 3); len(h) != 0 && at.After(last) {
			t.Errorf("NextHandoffs(%s) = %v, want none", at, h)
		}
		if shifts, err := s.Shifts(at, at.Add(time.Hour)); err != nil || (len(shifts) != 0 && at.After(last)) {
			t.Errorf("Shifts from %s = %v, %v", at, shifts, err)
		}
	}
	if got := s.OnCallAt(last); len(got) != 1 {
		t.Errorf("OnCallAt(%s) = %q, want the rotation's pick", last, got)
	}
	shifts, err := s.Shifts(last.Add(-time.Hour), last.Add(time.Hour))
	if err != nil || len(shifts) == 0 || !shifts[len(shifts)-1].End.Equal(last.Add(time.Second)) {
		t.Errorf("Shifts across the end of 9999 = %v, %v; want them to stop there", shifts, err)
	}
	if _, err := s.ICalendar(last, last.Add(time.Hour), oncall.CalendarOptions{ScheduleID: "s", Stamp: last}); err != nil {
		t.Errorf("ICalendar at the end of 9999: %v", err)
	}
}

// TestScheduleIsSafeToShare asks one schedule every question from several
// goroutines at once; run with -race it shows the schedule is read-only.
func TestScheduleIsSafeToShare(t *testing.T) {
	s := edgesWeek(t)
	from := instant(t, "2024-06-03T00:00:00+02:00")
	done := make(chan error)
	for g := range 4 {
		go func() {
			at := from.Add(time.Duration(g) * 7 * time.Hour)
			s.OnCallAt(at)
			s.NextHandoffs(at, 5)
			_, err := s.Shifts(at, at.Add(72*time.Hour))
			if err == nil {
				_, err = s.ICalendar(at, at.Add(72*time.Hour), oncall.CalendarOptions{ScheduleID: "s", Stamp: at})
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
