package oncall_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/oncall"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with the current output")

// names are display names chosen to need escaping and folding.
var names = map[string]string{
	"alice": `Alice "Ops" Müller, SRE; nights \ weekends`,
	"bob":   "Bob",
	"carol": strings.Repeat("Ĉarolĩne ", 8) + "the Long-Named",
}

func nameOf(id string) string { return names[id] }

// berlinSpring is a daily rotation with a restricted layer over it and an
// override, across Berlin's spring change.
func berlinSpring(tb testing.TB) *oncall.Schedule {
	return build(tb, oncall.Definition{
		TimeZone: "Europe/Berlin",
		Layers: []oncall.Layer{
			{Name: "Primary, 24/7", Participants: []string{"alice", "bob"}, Shift: "daily", Start: "2024-03-29T09:00"},
			{Name: "Nights; weekend", Participants: []string{"carol"}, Shift: "weekly", Start: "2024-03-25T00:00",
				Restrictions: []oncall.Restriction{{Days: []string{"sat"}, Start: "22:00", End: "06:00"}}},
		},
		Overrides: []oncall.Override{{Start: "2024-03-31T12:00", End: "2024-03-31T14:00", RemoveUser: "alice", AddUser: "bob"}},
	})
}

var stamp = time.Date(2024, 3, 28, 12, 0, 0, 0, time.UTC)

func TestICalendarGolden(t *testing.T) {
	s := berlinSpring(t)
	got, err := s.ICalendar(instant(t, "2024-03-30T00:00:00+01:00"), instant(t, "2024-04-01T00:00:00+02:00"),
		oncall.CalendarOptions{ScheduleID: "sched-1", Name: "Payments, on call", UserName: nameOf, Stamp: stamp})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "berlin-spring.ics")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("iCalendar differs from %s (run with -update after checking):\n%s", golden, got)
	}
}

// event is a VEVENT read back from an export, its text unescaped.
type event map[string]string

// readCalendar checks an export's lines (CRLF ends, at most 75 octets,
// UTF-8 kept whole, continuation lines starting with one space), unfolds
// them and returns the events, checking that each has the properties RFC
// 5545 requires of it exactly once.
func readCalendar(tb testing.TB, doc []byte) (calendar event, events []event) {
	tb.Helper()
	if !bytes.HasSuffix(doc, []byte("\r\n")) {
		tb.Fatalf("document does not end in CRLF")
	}
	var logical []string
	for _, physical := range strings.Split(strings.TrimSuffix(string(doc), "\r\n"), "\r\n") {
		switch {
		case len(physical) > 75:
			tb.Errorf("line of %d octets: %q", len(physical), physical)
		case !utf8.ValidString(physical):
			tb.Errorf("line splits a UTF-8 sequence: %q", physical)
		case strings.ContainsAny(physical, "\r\n"):
			tb.Errorf("bare CR or LF in line %q", physical)
		case strings.HasSuffix(physical, `\`) && !strings.HasSuffix(physical, `\\`):
			tb.Errorf("line ends inside an escape sequence: %q", physical)
		}
		if strings.HasPrefix(physical, " ") {
			logical[len(logical)-1] += physical[1:]
		} else {
			logical = append(logical, physical)
		}
	}
	unescape := strings.NewReplacer(`\\`, `\`, `\;`, ";", `\,`, ",", `\n`, "\n", `\N`, "\n")
	calendar = event{}
	var current event
	for _, line := range logical {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			tb.Fatalf("line without a colon: %q", line)
		}
		switch {
		case line == "BEGIN:VEVENT":
			current = event{}
		case line == "END:VEVENT":
			for _, p := range []string{"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"} {
				if _, ok := current[p]; !ok {
					tb.Errorf("event %v has no %s", current, p)
				}
			}
			events = append(events, current)
			current = nil
		case current != nil:
			if _, dup := current[name]; dup {
				tb.Errorf("event has %s twice", name)
			}
			current[name] = unescape.Replace(value)
		default:
			calendar[name] = unescape.Replace(value)
		}
	}
	if logical[0] != "BEGIN:VCALENDAR" || logical[len(logical)-1] != "END:VCALENDAR" || calendar["VERSION"] != "2.0" || calendar["PRODID"] == "" {
		tb.Errorf("not a VCALENDAR with VERSION 2.0 and a PRODID: %v", calendar)
	}
	return calendar, events
}

func icalUTC(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse("20060102T150405Z", s)
	if err != nil {
		tb.Fatalf("not an RFC 5545 UTC date-time: %q", s)
	}
	return t
}

func TestICalendarEventsAreTheShifts(t *testing.T) {
	s := berlinSpring(t)
	from, to := instant(t, "2024-03-30T00:00:00+01:00"), instant(t, "2024-04-01T00:00:00+02:00")
	doc, err := s.ICalendar(from, to, oncall.CalendarOptions{ScheduleID: "sched-1", Name: "Payments, on call", UserName: nameOf, Stamp: stamp})
	if err != nil {
		t.Fatal(err)
	}
	calendar, events := readCalendar(t, doc)
	if calendar["X-WR-CALNAME"] != "Payments, on call" {
		t.Errorf("calendar name = %q", calendar["X-WR-CALNAME"])
	}
	// The shifts overlapping the range, whole: the first began the day
	// before it.
	shifts, err := s.Shifts(from.Add(-48*time.Hour), to.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var want []oncall.Shift
	for _, sh := range shifts {
		if sh.End.After(from) && sh.Start.Before(to) {
			want = append(want, sh)
		}
	}
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d:\n%s", len(events), len(want), doc)
	}
	uids := map[string]bool{}
	for i, e := range events {
		sh := want[i]
		if !icalUTC(t, e["DTSTART"]).Equal(sh.Start) || !icalUTC(t, e["DTEND"]).Equal(sh.End) || !icalUTC(t, e["DTSTAMP"]).Equal(stamp) {
			t.Errorf("event %d = %v, want the shift %+v", i, e, sh)
		}
		if wantSummary := "On call: " + names[sh.UserID] + " (Payments, on call)"; e["SUMMARY"] != wantSummary {
			t.Errorf("SUMMARY = %q, want %q", e["SUMMARY"], wantSummary)
		}
		if uids[e["UID"]] {
			t.Errorf("UID %s used twice", e["UID"])
		}
		uids[e["UID"]] = true
	}
	if !strings.HasPrefix(events[0]["DTSTART"], "20240329T") {
		t.Errorf("the shift running at the range's start is not shown whole: %v", events[0])
	}
}

func TestICalendarUIDsAreStableAcrossExports(t *testing.T) {
	s := berlinSpring(t)
	opt := oncall.CalendarOptions{ScheduleID: "sched-1", Stamp: stamp}
	cut := instant(t, "2024-03-31T12:30:00+02:00")
	docA, errA := s.ICalendar(instant(t, "2024-03-25T00:00:00+01:00"), cut, opt)
	docB, errB := s.ICalendar(cut, instant(t, "2024-04-05T00:00:00+02:00"), opt)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	_, a := readCalendar(t, docA)
	_, b := readCalendar(t, docB)
	// bob's override shift (12:00-14:00) crosses the cut: the same event
	// in both exports.
	crossing := func(events []event) event {
		i := slices.IndexFunc(events, func(e event) bool { return e["DTSTART"] == "20240331T100000Z" && strings.Contains(e["SUMMARY"], "bob") })
		if i < 0 {
			t.Fatalf("no event for bob's override shift in %v", events)
		}
		return events[i]
	}
	ea, eb := crossing(a), crossing(b)
	if ea["UID"] != eb["UID"] || ea["DTEND"] != eb["DTEND"] || ea["DTEND"] != "20240331T120000Z" {
		t.Errorf("the shift crossing the cut differs between exports:\n%v\n%v", ea, eb)
	}
	// Another schedule's identical shift gets another UID.
	other, err := s.ICalendar(cut, instant(t, "2024-04-05T00:00:00+02:00"), oncall.CalendarOptions{ScheduleID: "sched-2", Stamp: stamp})
	if err != nil {
		t.Fatal(err)
	}
	if _, c := readCalendar(t, other); crossing(c)["UID"] == eb["UID"] {
		t.Errorf("two schedules share the UID %s", eb["UID"])
	}
}

func TestICalendarOfOnePerson(t *testing.T) {
	s := berlinSpring(t)
	doc, err := s.ICalendar(instant(t, "2024-03-29T00:00:00+01:00"), instant(t, "2024-04-05T00:00:00+02:00"),
		oncall.CalendarOptions{ScheduleID: "sched-1", UserID: "carol", UserName: nameOf, Stamp: stamp})
	if err != nil {
		t.Fatal(err)
	}
	_, events := readCalendar(t, doc)
	// carol has one night: Saturday 22:00 to Sunday 06:00, seven hours
	// because the clocks go forward.
	if len(events) != 1 || events[0]["DTSTART"] != "20240330T210000Z" || events[0]["DTEND"] != "20240331T040000Z" ||
		events[0]["SUMMARY"] != "On call: "+names["carol"] || events[0]["DESCRIPTION"] != "Layer 2 (Nights; weekend) of the rotation" {
		t.Errorf("carol's calendar = %v", events)
	}
}

func TestICalendarRefusesWhatItCannotStamp(t *testing.T) {
	s := berlinSpring(t)
	from, to := instant(t, "2024-03-29T00:00:00+01:00"), instant(t, "2024-03-30T00:00:00+01:00")
	for field, opt := range map[string]oncall.CalendarOptions{
		"schedule_id": {Stamp: stamp},
		"stamp":       {ScheduleID: "s"},
	} {
		if _, err := s.ICalendar(from, to, opt); nightjar.ErrorField(err) != field {
			t.Errorf("ICalendar with %+v: %v, want an error about %s", opt, err, field)
		}
	}
}

// TestICalendarText checks escaping and folding at their edges through
// a layer name, which the export writes into each description.
func TestICalendarText(t *testing.T) {
	cases := []struct {
		name  string
		layer string
		want  []string // the DESCRIPTION's physical lines
	}{
		{"fits exactly", strings.Repeat("x", 75-len("DESCRIPTION:Layer 1 () of the rotation")),
			[]string{"DESCRIPTION:Layer 1 (" + strings.Repeat("x", 37) + ") of the rotation"}},
		{"one octet over", strings.Repeat("x", 76-len("DESCRIPTION:Layer 1 () of the rotation")),
			[]string{"DESCRIPTION:Layer 1 (" + strings.Repeat("x", 38) + ") of the rotatio", " n"}},
		{"a two-octet letter across the limit moves to the next line", strings.Repeat("x", 53) + "é",
			[]string{"DESCRIPTION:Layer 1 (" + strings.Repeat("x", 53), " é) of the rotation"}},
		{"an escape across the limit moves whole", strings.Repeat("x", 53) + ",",
			[]string{"DESCRIPTION:Layer 1 (" + strings.Repeat("x", 53), ` \,) of the rotation`}},
		{"special characters", `a;b,c\d"e:f`,
			[]string{`DESCRIPTION:Layer 1 (a\;b\,c\\d"e:f) of the rotation`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := build(t, oncall.Definition{TimeZone: "UTC", Layers: []oncall.Layer{
				{Name: tc.layer, Participants: []string{"a"}, Shift: "daily", Start: "2024-01-01T00:00"},
			}})
			doc, err := s.ICalendar(instant(t, "2024-01-01T00:00:00Z"), instant(t, "2024-01-01T01:00:00Z"), oncall.CalendarOptions{ScheduleID: "s", Stamp: stamp})
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(doc), "\r\n")
			i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "DESCRIPTION:") })
			got := lines[i : i+len(tc.want)]
			if !slices.Equal(got, tc.want) || strings.HasPrefix(lines[i+len(tc.want)], " ") {
				t.Errorf("DESCRIPTION lines:\n%q\nwant\n%q", lines[i:i+len(tc.want)+1], tc.want)
			}
			_, events := readCalendar(t, doc)
			if want := "Layer 1 (" + tc.layer + ") of the rotation"; events[0]["DESCRIPTION"] != want {
				t.Errorf("DESCRIPTION reads back as %q, want %q", events[0]["DESCRIPTION"], want)
			}
		})
	}
	// Names from elsewhere may hold line breaks and control characters:
	// breaks are escaped, the rest become spaces, and bad UTF-8 is
	// replaced.
	s := build(t, oncall.Definition{TimeZone: "UTC", Layers: []oncall.Layer{rotation("daily", "2024-01-01T00:00", "a")}})
	doc, err := s.ICalendar(instant(t, "2024-01-01T00:00:00Z"), instant(t, "2024-01-01T01:00:00Z"), oncall.CalendarOptions{
		ScheduleID: "s", Stamp: stamp, UserName: func(string) string { return "two\r\nlines\tand\x00bad\xff" },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, events := readCalendar(t, doc); events[0]["SUMMARY"] != "On call: two\nlines and bad\uFFFD" {
		t.Errorf("SUMMARY = %q", events[0]["SUMMARY"])
	}
}
