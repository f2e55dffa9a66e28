package oncall_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/oncall"
)

// FuzzDefinitionJSON feeds the API's form of a schedule through decoding
// and validation: nothing panics, a refused definition gets field errors
// that name their field, and an accepted one answers every query
// consistently.
func FuzzDefinitionJSON(f *testing.F) {
	good, err := json.Marshal(valid())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, int64(0))
	f.Add([]byte(`{"time_zone":"Pacific/Apia","layers":[{"participants":["a","b","c"],"shift":"daily","start":"2011-12-28T00:00"}]}`), int64(1325152800))
	f.Add([]byte(`{"time_zone":"Australia/Lord_Howe","layers":[{"participants":["a"],"shift":"hourly","start":"2024-10-05T02:15"},{"participants":["b","a"],"shift":"36h","start":"2024-10-01T00:00:59","restrictions":[{"days":["sun"],"start":"02:00","end":"02:30"},{"start":"23:00","end":"23:00"}]}],"overrides":[{"start":"2024-10-06T02:10","end":"2024-10-06T03:00:00+11:00","remove_user":"a"}]}`), int64(1728140000))
	f.Add([]byte(`{"time_zone":"UTC","layers":[{"participants":["a"],"shift":"365d","start":"9999-12-31T23:59:59"}],"overrides":[{"start":"9999-12-31T00:00:00Z","end":"9999-12-31T23:59:59Z","add_user":"b"}]}`), int64(253402300000))
	for _, seed := range []string{
		`{}`, `null`, `[]`, `{"time_zone":"Local"}`, `{"layers":[{}]}`, `{"layers":[null]}`,
		`{"time_zone":"Europe/Berlin","layers":[{"participants":[""],"shift":"0h","start":"2024-02-30T25:00"}]}`,
		`{"time_zone":"Europe/Berlin","layers":[{"participants":["a"],"shift":"daily","start":"2024-03-31T02:30","restrictions":[{"days":["xyz","mon","mon"],"start":"24:00","end":"-1:00"}]}]}`,
		`{"time_zone":"Europe/Berlin","layers":[{"participants":["a"],"shift":"weekly","start":"2024-01-01T00:00"}],"overrides":[{"start":"x","end":"2024-01-01T00:00","add_user":"a","remove_user":"a"}]}`,
	} {
		f.Add([]byte(seed), int64(1711846800))
	}
	f.Fuzz(func(t *testing.T, data []byte, at int64) {
		var d oncall.Definition
		if json.Unmarshal(data, &d) != nil {
			return // refusing malformed JSON is the HTTP layer's job
		}
		checkDefinition(t, d, at)
	})
}

// FuzzDefinitionFields varies each field of a two-layer schedule with an
// override, which reaches accepted definitions far more often than
// mutating JSON does.
func FuzzDefinitionFields(f *testing.F) {
	f.Add("Europe/Berlin", "daily", "2024-03-29T02:30", "22:00", "06:00", "sat", "2024-03-31T01:00", "2024-03-31T04:00:00+02:00", "bob", "", int64(1711846800))
	f.Add("Pacific/Apia", "12h", "2011-12-29T23:59:59", "00:00", "00:00", "fri", "2011-12-30T10:00", "2011-12-31T10:00", "", "a", int64(1325152800))
	f.Add("America/Santiago", "3d", "2024-09-07T00:00", "23:30", "24:00", "SUN", "2024-09-08T00:00", "2024-09-09T00:00", "c", "a", int64(1725768000))
	f.Add("Australia/Sydney", "2w", "1970-01-01T00:00", "09:00", "17:00", "mon", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "x", "y", int64(-1))
	f.Fuzz(func(t *testing.T, zone, shift, start, winStart, winEnd, day, ovStart, ovEnd, add, remove string, at int64) {
		d := oncall.Definition{
			TimeZone: zone,
			Layers: []oncall.Layer{
				{Participants: []string{"a", "b", "a"}, Shift: "weekly", Start: "2011-01-03T09:00"},
				{Participants: []string{"c", "a"}, Shift: shift, Start: start, Restrictions: []oncall.Restriction{{Days: []string{day}, Start: winStart, End: winEnd}}},
			},
			Overrides: []oncall.Override{{Start: ovStart, End: ovEnd, AddUser: add, RemoveUser: remove}},
		}
		checkDefinition(t, d, at)
	})
}

// checkDefinition validates d and, when it is accepted, asks the schedule
// every question around the instant at (Unix seconds, folded into the
// years 1970 to 9999).
func checkDefinition(t *testing.T, d oncall.Definition, at int64) {
	problems := d.Problems()
	s, err := oncall.New(d)
	if (err == nil) != (len(problems) == 0) || (err == nil) != (d.Validate() == nil) {
		t.Fatalf("New says %v, Problems %v, Validate %v: they must agree", err, problems, d.Validate())
	}
	if err != nil {
		var e *nightjar.Error
		if !errors.As(err, &e) || e.Code != nightjar.EINVALID || e.Field != problems[0].Field {
			t.Fatalf("New returned %T %v, want an invalid *nightjar.Error naming %s", err, err, problems[0].Field)
		}
		for _, p := range problems {
			if p.Code != nightjar.EINVALID || p.Field == "" || !strings.HasPrefix(p.Message, p.Field+": ") {
				t.Fatalf("problem %+v does not name its field", p)
			}
		}
		return
	}

	const years = 8030 * 365 * 86400
	t0 := time.Unix(((at%years)+years)%years, 0)
	to := t0.Add(72 * time.Hour)
	shifts, err := s.Shifts(t0, to)
	if err != nil {
		t.Fatalf("Shifts(%s, %s): %v", t0, to, err)
	}
	for _, sh := range shifts {
		if !sh.Start.Before(sh.End) {
			t.Fatalf("empty shift %+v", sh)
		}
		if got := s.OnCallAt(sh.Start); !slices.Contains(got, sh.UserID) {
			t.Fatalf("OnCallAt(%s) = %q, missing %s of shift %+v", sh.Start, got, sh.UserID, sh)
		}
	}
	if got, want := s.OnCallAt(t0), onCallFromShifts(shifts, t0); !slices.Equal(got, want) {
		t.Fatalf("OnCallAt(%s) = %q, the shifts say %q", t0, got, want)
	}
	for _, h := range s.NextHandoffs(t0, 3) {
		if got := s.OnCallAt(h.At); !h.At.After(t0) || !slices.Equal(got, h.After) {
			t.Fatalf("handoff %+v after %s, OnCallAt says %q", h, t0, got)
		}
	}
	cal, err := s.ICalendar(t0, to, oncall.CalendarOptions{ScheduleID: "s", Name: "fuzz", Stamp: t0})
	if err != nil {
		t.Fatalf("ICalendar: %v", err)
	}
	for _, line := range bytes.SplitAfter(cal, []byte("\r\n")) {
		if len(line) > 77 || (len(line) > 0 && !bytes.HasSuffix(line, []byte("\r\n"))) {
			t.Fatalf("iCalendar line %q is longer than 75 octets or does not end in CRLF", line)
		}
	}
}
