package incident_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/oncall"
)

// people is a resolver that knows two people by id and email address.
func people(kind incident.RefKind, field, ref string) (string, error) {
	if kind != incident.RefUser {
		return "", nightjar.FieldError(field, "names no %s of the project", kind)
	}
	switch ref {
	case "u1", "alice@example.com":
		return "u1", nil
	case "u2", "bob@example.com":
		return "u2", nil
	}
	return "", nightjar.FieldError(field, "names no user of the project")
}

var scheduleSeeds = []string{
	`{"name":"primary","time_zone":"Europe/Berlin","layers":[{"shift":"weekly","start":"2026-01-05T09:00","participants":["alice@example.com","u2"]}]}`,
	`{"name":"p","time_zone":"America/New_York","layers":[{"shift":"12h","start":"2026-03-08T01:30","participants":["u1"],
	  "restrictions":[{"days":["mon","fri"],"start":"22:00","end":"06:00"}]}],
	  "overrides":[{"start":"2026-03-08T02:30","end":"2026-03-09T00:00:00Z","add_user":"bob@example.com","remove_user":"u1"}]}`,
	`{"name":"","time_zone":"UTC","layers":[]}`,
	`{"name":"x","time_zone":"Mars/Olympus","layers":[{"shift":"fortnightly","start":"nope","participants":["eve"]}]}`,
	`{"name":"x","time_zone":"UTC","layers":[{"shift":"1h","start":"2026-01-01T00:00","participants":["u1"]}],"overrides":[{"start":"b","end":"a"}]}`,
	`{"name":"x","time_zone":"UTC","layers":[{"shift":"daily","start":"2026-01-01T00:00","participants":["u1\u0000"]}]}`,
	`{"name":"x","time_zone":"Pacific/Apia","layers":[{"shift":"3d","start":"2011-12-29T00:00","participants":["u1","u2","u1"]}]}`,
	`{"name":"x"}`, `{}`, `[]`, `null`,
}

// checkSchedule holds a decoded schedule spec to the one rule every front
// door relies on: resolving it either fails with a field error, or gives
// a definition that oncall compiles and whose people are all resolved ids.
func checkSchedule(t *testing.T, sp *incident.ScheduleSpec) {
	name, def, err := sp.Resolved(people)
	if err != nil {
		if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) == "" {
			t.Fatalf("%+v refused with %v, want a field error", sp, err)
		}
		return
	}
	if name != sp.Name {
		t.Fatalf("name %q, want %q", name, sp.Name)
	}
	if _, err := oncall.New(def); err != nil {
		t.Fatalf("resolved definition %+v does not compile: %v", def, err)
	}
	for _, l := range def.Layers {
		for _, p := range l.Participants {
			if p != "u1" && p != "u2" {
				t.Fatalf("participant %q was not resolved", p)
			}
		}
	}
	// Resolving what was resolved changes nothing: ids stay ids.
	again := incident.ScheduleSpec{Name: name, Definition: def}
	_, def2, err := again.Resolved(people)
	if err != nil || !reflect.DeepEqual(def, def2) {
		t.Fatalf("resolving again: %+v, %v; want %+v", def2, err, def)
	}
}

// FuzzScheduleSpecJSON feeds the API's schedule bodies to the decoder and
// the spec.
func FuzzScheduleSpecJSON(f *testing.F) {
	for _, s := range scheduleSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var sp incident.ScheduleSpec
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if dec.Decode(&sp) != nil {
			return
		}
		checkSchedule(t, &sp)
	})
}

// FuzzScheduleSpecYAML does the same for the schedules of a configuration
// file, which decode into the same spec.
func FuzzScheduleSpecYAML(f *testing.F) {
	for _, s := range scheduleSeeds {
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			y, _ := yaml.Marshal(v)
			f.Add(y)
		}
	}
	f.Add([]byte("name: p\ntime_zone: UTC\nlayers:\n  - shift: hourly\n    start: 2026-01-01T00:00\n    participants: [u1]\n"))
	f.Add([]byte("name: p\ntime_zone: UTC\nlayers: &a [{shift: daily, start: '2026-01-01T00:00', participants: [u1]}]\noverrides: *a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var sp incident.ScheduleSpec
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if dec.Decode(&sp) != nil {
			return
		}
		checkSchedule(t, &sp)
	})
}

// Durations on the wire read the same from JSON and YAML, as numbers of
// seconds or Go durations, and anything else is refused.
func TestDurationWire(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"300", 300, true}, {`"5m"`, 300, true}, {`"90s"`, 90, true}, {"1.5", 1.5, true}, {`"300"`, 300, true},
		{`"soon"`, 0, false}, {"true", 0, false}, {"1e300", 0, false}, {`"2 days"`, 0, false},
	} {
		var j struct {
			D incident.Duration `json:"d" yaml:"d"`
		}
		errJ := json.Unmarshal([]byte(`{"d":`+tc.in+`}`), &j)
		var y struct {
			D incident.Duration `yaml:"d"`
		}
		errY := yaml.Unmarshal([]byte("d: "+tc.in), &y)
		if (errJ == nil) != tc.ok || (errY == nil) != tc.ok {
			t.Errorf("%s: json %v, yaml %v; want ok=%v", tc.in, errJ, errY, tc.ok)
			continue
		}
		if tc.ok && (j.D != y.D || float64(j.D)/1e9 != tc.want) {
			t.Errorf("%s: json %v, yaml %v; want %vs", tc.in, j.D, y.D, tc.want)
		}
		if errJ != nil && !strings.Contains(errJ.Error(), "json") {
			t.Errorf("%s: json error %v is not a JSON type error", tc.in, errJ)
		}
	}
}
