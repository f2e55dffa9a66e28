package oncall_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/oncall"
)

// benchSchedules are a team's schedule (three layers with restrictions
// and overrides, in a zone with a clock change in the month measured) and,
// as the baseline measured in the same run, one plain rotation in UTC.
func benchSchedules(b *testing.B) map[string]*oncall.Schedule {
	team := oncall.Definition{
		TimeZone: "Europe/Berlin",
		Layers: []oncall.Layer{
			rotation("weekly", "2024-01-01T09:00", "ann", "ben", "cat", "dan"),
			only(rotation("daily", "2024-01-01T09:00", "eve", "fay"), "09:00", "17:00", "mon", "tue", "wed", "thu", "fri"),
			only(only(rotation("12h", "2024-01-06T08:00", "gus", "hal"), "08:00", "20:00", "sat", "sun"), "22:00", "02:00", "fri"),
		},
	}
	start := time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)
	for i := range 40 {
		at := start.Add(time.Duration(i) * 37 * time.Hour)
		o := oncall.Override{Start: at.Format(time.RFC3339), End: at.Add(5 * time.Hour).Format(time.RFC3339)}
		switch i % 3 {
		case 0:
			o.AddUser = "ivy"
		case 1:
			o.RemoveUser = "ann"
		default:
			o.RemoveUser, o.AddUser = "eve", "joe"
		}
		team.Overrides = append(team.Overrides, o)
	}
	baseline := oncall.Definition{TimeZone: "UTC", Layers: []oncall.Layer{rotation("weekly", "2024-01-01T09:00", "ann", "ben", "cat", "dan")}}
	return map[string]*oncall.Schedule{"baseline": build(b, baseline), "team": build(b, team)}
}

var benchFrom = time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)

// benchEach runs a benchmark on the baseline and on the team's schedule.
func benchEach(b *testing.B, run func(b *testing.B, s *oncall.Schedule)) {
	schedules := benchSchedules(b)
	for _, name := range []string{"baseline", "team"} {
		b.Run(name, func(b *testing.B) { run(b, schedules[name]) })
	}
}

// BenchmarkOnCallAt measures the question escalation asks of every step.
func BenchmarkOnCallAt(b *testing.B) {
	benchEach(b, func(b *testing.B, s *oncall.Schedule) {
		i := 0
		for b.Loop() {
			// Instants spread over the month, 7h13m apart.
			s.OnCallAt(benchFrom.Add(time.Duration(i%100) * 433 * time.Minute))
			i++
		}
	})
}

// BenchmarkShifts30Days measures a month's view, the console's and a
// calendar feed's.
func BenchmarkShifts30Days(b *testing.B) {
	benchEach(b, func(b *testing.B, s *oncall.Schedule) {
		n := 0
		for b.Loop() {
			shifts, err := s.Shifts(benchFrom, benchFrom.AddDate(0, 0, 30))
			if err != nil {
				b.Fatal(err)
			}
			n = len(shifts)
		}
		b.ReportMetric(float64(n), "shifts")
	})
}

func ExampleSchedule_OnCallAt() {
	s, err := oncall.New(oncall.Definition{
		TimeZone: "Europe/Berlin",
		Layers: []oncall.Layer{
			{Participants: []string{"alice", "bob"}, Shift: "daily", Start: "2024-03-29T09:00"},
		},
		Overrides: []oncall.Override{{Start: "2024-03-31T12:00", End: "2024-03-31T14:00", AddUser: "carol"}},
	})
	if err != nil {
		panic(err)
	}
	berlin := s.Location()
	fmt.Println(s.OnCallAt(time.Date(2024, 3, 30, 10, 0, 0, 0, berlin)))
	fmt.Println(s.OnCallAt(time.Date(2024, 3, 31, 13, 0, 0, 0, berlin)))
	for _, h := range s.NextHandoffs(time.Date(2024, 3, 30, 10, 0, 0, 0, berlin), 2) {
		fmt.Println(h.At.Format("Mon 15:04 MST"), h.Before, "→", h.After)
	}
	// Output:
	// [bob]
	// [alice carol]
	// Sun 09:00 CEST [bob] → [alice]
	// Sun 12:00 CEST [alice] → [alice carol]
}
