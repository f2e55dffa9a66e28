package oncall_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/oncall"
)

// valid returns a definition with no problems, for cases to break.
func valid() oncall.Definition {
	return oncall.Definition{
		TimeZone: "Europe/Berlin",
		Layers: []oncall.Layer{{
			Name:         "primary",
			Participants: []string{"alice", "bob"},
			Shift:        "weekly",
			Start:        "2024-03-04T09:00",
			Restrictions: []oncall.Restriction{{Days: []string{"mon", "Tue"}, Start: "22:00", End: "06:00"}},
		}},
		Overrides: []oncall.Override{{Start: "2024-03-05T09:00", End: "2024-03-05T12:00:00+01:00", AddUser: "carol", RemoveUser: "alice"}},
	}
}

func TestValidateNamesTheFieldAndWhatWasExpected(t *testing.T) {
	many := func(n int, s string) []string { return slices.Repeat([]string{s}, n) }
	cases := []struct {
		name   string
		change func(d *oncall.Definition)
		field  string
		says   string
	}{
		{"no zone", func(d *oncall.Definition) { d.TimeZone = "" }, "time_zone", "must not be empty"},
		{"unknown zone", func(d *oncall.Definition) { d.TimeZone = "Mars/Olympus_Mons" }, "time_zone", "IANA time zone name"},
		{"the machine's zone", func(d *oncall.Definition) { d.TimeZone = "Local" }, "time_zone", "IANA time zone name"},
		{"no layers", func(d *oncall.Definition) { d.Layers = nil }, "layers", "at least one layer"},
		{"too many layers", func(d *oncall.Definition) { d.Layers = slices.Repeat(d.Layers, oncall.MaxLayers+1) }, "layers", "at most 20"},
		{"no participants", func(d *oncall.Definition) { d.Layers[0].Participants = nil }, "layers[0].participants", "at least one user id"},
		{"too many participants", func(d *oncall.Definition) { d.Layers[0].Participants = many(oncall.MaxParticipants+1, "a") }, "layers[0].participants", "at most 100"},
		{"empty participant", func(d *oncall.Definition) { d.Layers[0].Participants[1] = " " }, "layers[0].participants[1]", "must not be empty"},
		{"participant with a line break", func(d *oncall.Definition) { d.Layers[0].Participants[0] = "al\nice" }, "layers[0].participants[0]", "control characters"},
		{"participant not UTF-8", func(d *oncall.Definition) { d.Layers[0].Participants[0] = "al\xffice" }, "layers[0].participants[0]", "valid UTF-8"},
		{"participant too long", func(d *oncall.Definition) { d.Layers[0].Participants[0] = strings.Repeat("é", 101) }, "layers[0].participants[0]", "at most 100 characters"},
		{"layer name with a tab", func(d *oncall.Definition) { d.Layers[0].Name = "a\tb" }, "layers[0].name", "control characters"},
		{"no shift", func(d *oncall.Definition) { d.Layers[0].Shift = "" }, "layers[0].shift", "hourly, daily, weekly"},
		{"unknown shift", func(d *oncall.Definition) { d.Layers[0].Shift = "fortnightly" }, "layers[0].shift", "such as 12h, 3d or 2w"},
		{"zero shift", func(d *oncall.Definition) { d.Layers[0].Shift = "0h" }, "layers[0].shift", "from 1h to 365d"},
		{"minutes", func(d *oncall.Definition) { d.Layers[0].Shift = "90m" }, "layers[0].shift", "from 1h to 365d"},
		{"over a year in days", func(d *oncall.Definition) { d.Layers[0].Shift = "366d" }, "layers[0].shift", "from 1h to 365d"},
		{"over a year in weeks", func(d *oncall.Definition) { d.Layers[0].Shift = "53w" }, "layers[0].shift", "from 1h to 365d"},
		{"over a year in hours", func(d *oncall.Definition) { d.Layers[0].Shift = "8761h" }, "layers[0].shift", "from 1h to 365d"},
		{"Go duration", func(d *oncall.Definition) { d.Layers[0].Shift = "1h30m" }, "layers[0].shift", "such as 12h"},
		{"no start", func(d *oncall.Definition) { d.Layers[0].Start = "" }, "layers[0].start", "local date and time such as 2024-03-04T09:00"},
		{"start with an offset", func(d *oncall.Definition) { d.Layers[0].Start = "2024-03-04T09:00:00+01:00" }, "layers[0].start", "without an offset"},
		{"start with a space", func(d *oncall.Definition) { d.Layers[0].Start = "2024-03-04 09:00" }, "layers[0].start", "such as 2024-03-04T09:00"},
		{"start on 30 February", func(d *oncall.Definition) { d.Layers[0].Start = "2024-02-30T09:00" }, "layers[0].start", "such as 2024-03-04T09:00"},
		{"start before 1970", func(d *oncall.Definition) { d.Layers[0].Start = "1969-12-31T23:00" }, "layers[0].start", "1970 or later"},
		{"too many windows", func(d *oncall.Definition) {
			d.Layers[0].Restrictions = slices.Repeat(d.Layers[0].Restrictions, oncall.MaxRestrictions+1)
		}, "layers[0].restrictions", "at most 50"},
		{"unknown day", func(d *oncall.Definition) { d.Layers[0].Restrictions[0].Days = []string{"monday"} }, "layers[0].restrictions[0].days[0]", "one of mon, tue"},
		{"day twice", func(d *oncall.Definition) { d.Layers[0].Restrictions[0].Days = []string{"mon", "MON"} }, "layers[0].restrictions[0].days[1]", "lists mon a second time"},
		{"window start without a leading zero", func(d *oncall.Definition) { d.Layers[0].Restrictions[0].Start = "9:00" }, "layers[0].restrictions[0].start", "HH:MM"},
		{"window starting at 24:00", func(d *oncall.Definition) { d.Layers[0].Restrictions[0].Start = "24:00" }, "layers[0].restrictions[0].start", "00:00 to 23:59"},
		{"window end past midnight", func(d *oncall.Definition) { d.Layers[0].Restrictions[0].End = "24:30" }, "layers[0].restrictions[0].end", "00:00 to 24:00"},
		{"window end with seconds", func(d *oncall.Definition) { d.Layers[0].Restrictions[0].End = "06:00:00" }, "layers[0].restrictions[0].end", "HH:MM"},
		{"too many overrides", func(d *oncall.Definition) { d.Overrides = slices.Repeat(d.Overrides, oncall.MaxOverrides+1) }, "overrides", "at most 1000"},
		{"override naming nobody", func(d *oncall.Definition) { d.Overrides[0].AddUser, d.Overrides[0].RemoveUser = "", "" }, "overrides[0]", "a user to add (add_user), a user to remove (remove_user), or both"},
		{"override replacing someone with themselves", func(d *oncall.Definition) { d.Overrides[0].AddUser = "alice" }, "overrides[0].add_user", "must differ from remove_user"},
		{"override user with a line break", func(d *oncall.Definition) { d.Overrides[0].RemoveUser = "x\r" }, "overrides[0].remove_user", "control characters"},
		{"override ending before it starts", func(d *oncall.Definition) { d.Overrides[0].End = "2024-03-05T08:00" }, "overrides[0].end", "must be after start"},
		{"override ending as it starts", func(d *oncall.Definition) { d.Overrides[0].End = "2024-03-05T09:00:00+01:00" }, "overrides[0].end", "must be after start"},
		{"override start in words", func(d *oncall.Definition) { d.Overrides[0].Start = "tomorrow" }, "overrides[0].start", "RFC 3339 time such as"},
		{"override start with a fraction of a second", func(d *oncall.Definition) { d.Overrides[0].Start = "2024-03-05T09:00:00.5+01:00" }, "overrides[0].start", "whole second"},
		{"override before 1970", func(d *oncall.Definition) { d.Overrides[0].Start = "1969-03-05T09:00:00Z" }, "overrides[0].start", "1970 or later"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			d.Layers = slices.Clone(d.Layers)
			d.Layers[0].Participants = slices.Clone(d.Layers[0].Participants)
			d.Layers[0].Restrictions = slices.Clone(d.Layers[0].Restrictions)
			d.Overrides = slices.Clone(d.Overrides)
			tc.change(&d)
			problems := d.Problems()
			if len(problems) != 1 {
				t.Fatalf("Problems() = %v, want one problem with %s", problems, tc.field)
			}
			p := problems[0]
			if p.Code != nightjar.EINVALID || p.Field != tc.field || !strings.HasPrefix(p.Message, tc.field+": ") || !strings.Contains(p.Message, tc.says) {
				t.Errorf("problem = %+v, want field %s saying %q", p, tc.field, tc.says)
			}
			s, err := oncall.New(d)
			if s != nil || nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != tc.field {
				t.Errorf("New = %v, %v; want the invalid error about %s", s, err, tc.field)
			}
		})
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	d := oncall.Definition{
		TimeZone: "Nowhere/Special",
		Layers: []oncall.Layer{
			{Participants: []string{"alice"}, Shift: "daily", Start: "2024-03-04T09:00"},
			{Participants: nil, Shift: "5y", Start: "soon", Restrictions: []oncall.Restriction{{Start: "25:00", End: "06:00"}}},
		},
		// The zone is unknown, so the local times cannot be placed, but
		// they still compare.
		Overrides: []oncall.Override{{Start: "2024-03-05T09:00", End: "2024-03-05T08:00", AddUser: "carol"}},
	}
	var fields []string
	for _, p := range d.Problems() {
		fields = append(fields, p.Field)
	}
	want := []string{"time_zone", "layers[1].participants", "layers[1].shift", "layers[1].start", "layers[1].restrictions[0].start", "overrides[0].end"}
	if !slices.Equal(fields, want) {
		t.Errorf("problems name %q, want %q", fields, want)
	}
	err := d.Validate()
	if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != "time_zone" {
		t.Errorf("Validate() = %v, want an invalid error naming the zone's field first", err)
	}
	for _, p := range d.Problems() {
		if !strings.Contains(nightjar.ErrorMessage(err), p.Message) {
			t.Errorf("Validate() = %v, want it to say %q", err, p.Message)
		}
	}
	good := valid()
	if err := good.Validate(); err != nil || len(good.Problems()) != 0 {
		t.Errorf("a valid definition is refused: %v", err)
	}
}

func TestLimitsThatAreAllowed(t *testing.T) {
	for _, shift := range []string{"hourly", "daily", "weekly", "1h", "8760h", "365d", "52w", "12h", "3d"} {
		d := valid()
		d.Layers = []oncall.Layer{rotation(shift, "1970-01-01T00:00", "a")}
		if err := d.Validate(); err != nil {
			t.Errorf("shift %q refused: %v", shift, err)
		}
	}
	d := valid()
	d.Layers = []oncall.Layer{only(rotation("daily", "9999-12-31T23:59:59", "a"), "00:00", "24:00")}
	d.Overrides = []oncall.Override{{Start: "2024-03-05T09:00", End: "9999-12-31T23:59:59Z", RemoveUser: "a"}}
	if err := d.Validate(); err != nil {
		t.Errorf("extreme but valid definition refused: %v", err)
	}
}

// TestDefinitionsDecodeFromJSONAndYAML shows the forms the API and the
// configuration file will use.
func TestDefinitionsDecodeFromJSONAndYAML(t *testing.T) {
	const js = `{
	  "time_zone": "Europe/Berlin",
	  "layers": [
	    {"name": "weekly", "participants": ["alice", "bob"], "shift": "weekly", "start": "2024-03-04T09:00"},
	    {"name": "office", "participants": ["carol"], "shift": "daily", "start": "2024-03-04T09:00",
	     "restrictions": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}]}
	  ],
	  "overrides": [{"start": "2024-03-06T00:00", "end": "2024-03-07T00:00", "remove_user": "alice", "add_user": "dave"}]
	}`
	const ym = `
time_zone: Europe/Berlin
layers:
  - name: weekly
    participants: [alice, bob]
    shift: weekly
    start: "2024-03-04T09:00"
  - name: office
    participants: [carol]
    shift: daily
    start: "2024-03-04T09:00"
    restrictions:
      - days: [mon, tue, wed, thu, fri]
        start: "09:00"
        end: "17:00"
overrides:
  - start: "2024-03-06T00:00"
    end: "2024-03-07T00:00"
    remove_user: alice
    add_user: dave
`
	var fromJSON, fromYAML oncall.Definition
	if err := json.Unmarshal([]byte(js), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(ym), &fromYAML); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]oncall.Definition{"JSON": fromJSON, "YAML": fromYAML} {
		s := build(t, d)
		for at, want := range map[string][]string{
			"2024-03-05T08:00:00+01:00": {"alice"},
			"2024-03-05T10:00:00+01:00": {"carol"},
			"2024-03-06T08:00:00+01:00": {"dave"},
			"2024-03-09T10:00:00+01:00": {"alice"},
		} {
			if got := s.OnCallAt(instant(t, at)); !slices.Equal(got, want) {
				t.Errorf("%s: OnCallAt(%s) = %q, want %q", name, at, got, want)
			}
		}
	}
	again, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	var back oncall.Definition
	if err := json.Unmarshal(again, &back); err != nil || back.Layers[1].Restrictions[0].End != "17:00" || back.Overrides[0].AddUser != "dave" {
		t.Errorf("JSON round trip of the YAML definition = %+v, %v", back, err)
	}
}
