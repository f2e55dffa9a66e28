package oncall_test

import (
	"slices"
	"testing"

	"github.com/nightjar-dev/nightjar/oncall"
)

// The timelines below are derived by hand from the zone rules and the
// package's rules (a local time that does not exist happens at the first
// instant after the gap; a repeated one at its first occurrence; days and
// weeks are calendar lengths, hours absolute):
//
//   - Europe/Berlin, 2024: 31 Mar 02:00 +01 jumps to 03:00 +02; 27 Oct
//     03:00 +02 falls back to 02:00 +01, so 02:00-02:59 repeats.
//   - America/New_York, 2024: 10 Mar 02:00 -05 jumps to 03:00 -04; 3 Nov
//     02:00 -04 falls back to 01:00 -05, so 01:00-01:59 repeats.
//   - Australia/Sydney, 2024: 7 Apr 03:00 +11 falls back to 02:00 +10;
//     6 Oct 02:00 +10 jumps to 03:00 +11.
//   - Australia/Lord_Howe, 2024 (half-hour changes): 7 Apr 02:00 +11 falls
//     back to 01:30 +1030, so 01:30-01:59 repeats; 6 Oct 02:00 +1030 jumps
//     to 02:30 +11.
//   - Pacific/Apia crossed the date line: 29 Dec 2011 23:59:59 -10 was
//     followed by 31 Dec 2011 00:00 +14, so 30 Dec did not happen there;
//     on 1 Apr 2012 04:00 +14 fell back to 03:00 +13.

// timelineCase is a schedule, a range and the shifts expected in it, plus
// who is on call at some instants of it.
type timelineCase struct {
	name     string
	def      oncall.Definition
	from, to string
	want     []string
	onCall   map[string][]string
}

func TestTimelinesAcrossDaylightSaving(t *testing.T) {
	cases := []timelineCase{
		{
			name: "Berlin: a daily shift across the spring change lasts 23 hours",
			def: oncall.Definition{TimeZone: "Europe/Berlin", Layers: []oncall.Layer{
				rotation("daily", "2024-03-29T09:00", "alice", "bob"),
			}},
			from: "2024-03-29T09:00:00+01:00", to: "2024-04-01T09:00:00+02:00",
			want: []string{
				"Fri 2024-03-29 09:00 +0100 → Sat 2024-03-30 09:00 +0100 (24h) alice, layer 0",
				"Sat 2024-03-30 09:00 +0100 → Sun 2024-03-31 09:00 +0200 (23h) bob, layer 0",
				"Sun 2024-03-31 09:00 +0200 → Mon 2024-04-01 09:00 +0200 (24h) alice, layer 0",
			},
		},
		{
			name: "Berlin: a handoff at 02:30 on the spring day happens when the gap ends",
			def: oncall.Definition{TimeZone: "Europe/Berlin", Layers: []oncall.Layer{
				rotation("daily", "2024-03-29T02:30", "alice", "bob"),
			}},
			from: "2024-03-29T02:30:00+01:00", to: "2024-04-02T02:30:00+02:00",
			want: []string{
				"Fri 2024-03-29 02:30 +0100 → Sat 2024-03-30 02:30 +0100 (24h) alice, layer 0",
				"Sat 2024-03-30 02:30 +0100 → Sun 2024-03-31 03:00 +0200 (23h30m) bob, layer 0",
				"Sun 2024-03-31 03:00 +0200 → Mon 2024-04-01 02:30 +0200 (23h30m) alice, layer 0",
				"Mon 2024-04-01 02:30 +0200 → Tue 2024-04-02 02:30 +0200 (24h) bob, layer 0",
			},
			onCall: map[string][]string{
				"2024-03-31T01:59:59+01:00": {"bob"},
				"2024-03-31T03:00:00+02:00": {"alice"},
			},
		},
		{
			name: "Berlin: a handoff at 02:30 on the autumn day happens at the first 02:30",
			def: oncall.Definition{TimeZone: "Europe/Berlin", Layers: []oncall.Layer{
				rotation("daily", "2024-10-25T02:30", "alice", "bob"),
			}},
			from: "2024-10-25T02:30:00+02:00", to: "2024-10-28T02:30:00+01:00",
			want: []string{
				"Fri 2024-10-25 02:30 +0200 → Sat 2024-10-26 02:30 +0200 (24h) alice, layer 0",
				"Sat 2024-10-26 02:30 +0200 → Sun 2024-10-27 02:30 +0200 (24h) bob, layer 0",
				"Sun 2024-10-27 02:30 +0200 → Mon 2024-10-28 02:30 +0100 (25h) alice, layer 0",
			},
			onCall: map[string][]string{
				"2024-10-27T02:29:59+02:00": {"bob"},
				// The second 02:10 and 02:40 of the night: alice took over
				// at the first 02:30.
				"2024-10-27T02:10:00+01:00": {"alice"},
				"2024-10-27T02:40:00+01:00": {"alice"},
			},
		},
		{
			name: "Berlin: hourly shifts are absolute, the skipped hour has none",
			def: oncall.Definition{TimeZone: "Europe/Berlin", Layers: []oncall.Layer{
				rotation("hourly", "2024-03-31T00:00", "a", "b", "c"),
			}},
			from: "2024-03-31T00:00:00+01:00", to: "2024-03-31T05:00:00+02:00",
			want: []string{
				"Sun 2024-03-31 00:00 +0100 → Sun 2024-03-31 01:00 +0100 (1h) a, layer 0",
				"Sun 2024-03-31 01:00 +0100 → Sun 2024-03-31 03:00 +0200 (1h) b, layer 0",
				"Sun 2024-03-31 03:00 +0200 → Sun 2024-03-31 04:00 +0200 (1h) c, layer 0",
				"Sun 2024-03-31 04:00 +0200 → Sun 2024-03-31 05:00 +0200 (1h) a, layer 0",
			},
		},
		{
			name: "Berlin: 12-hour shifts are absolute and move by the autumn change in local time",
			def: oncall.Definition{TimeZone: "Europe/Berlin", Layers: []oncall.Layer{
				rotation("12h", "2024-10-26T09:00", "day", "night"),
			}},
			from: "2024-10-26T09:00:00+02:00", to: "2024-10-27T20:00:00+01:00",
			want: []string{
				"Sat 2024-10-26 09:00 +0200 → Sat 2024-10-26 21:00 +0200 (12h) day, layer 0",
				"Sat 2024-10-26 21:00 +0200 → Sun 2024-10-27 08:00 +0100 (12h) night, layer 0",
				"Sun 2024-10-27 08:00 +0100 → Sun 2024-10-27 20:00 +0100 (12h) day, layer 0",
			},
		},
		{
			name: "New York: a weekly Monday handoff keeps 09:00, the week of the change is an hour short",
			def: oncall.Definition{TimeZone: "America/New_York", Layers: []oncall.Layer{
				rotation("weekly", "2024-03-04T09:00", "alice", "bob"),
			}},
			from: "2024-03-04T09:00:00-05:00", to: "2024-03-18T09:00:00-04:00",
			want: []string{
				"Mon 2024-03-04 09:00 -0500 → Mon 2024-03-11 09:00 -0400 (167h) alice, layer 0",
				"Mon 2024-03-11 09:00 -0400 → Mon 2024-03-18 09:00 -0400 (168h) bob, layer 0",
			},
		},
		{
			name: "New York: a daily handoff at 01:30 on the autumn day happens at the first 01:30",
			def: oncall.Definition{TimeZone: "America/New_York", Layers: []oncall.Layer{
				rotation("daily", "2024-11-02T01:30", "alice", "bob"),
			}},
			from: "2024-11-02T01:30:00-04:00", to: "2024-11-04T01:30:00-05:00",
			want: []string{
				"Sat 2024-11-02 01:30 -0400 → Sun 2024-11-03 01:30 -0400 (24h) alice, layer 0",
				"Sun 2024-11-03 01:30 -0400 → Mon 2024-11-04 01:30 -0500 (25h) bob, layer 0",
			},
			onCall: map[string][]string{
				"2024-11-03T01:29:59-04:00": {"alice"},
				// The second 01:15, before the wall clock reaches 01:30
				// again: bob's shift began an hour ago.
				"2024-11-03T01:15:00-05:00": {"bob"},
			},
		},
		{
			name: "New York: a night window from 22:00 to 06:00 lasts 9 hours as the clocks go back",
			def: oncall.Definition{TimeZone: "America/New_York", Layers: []oncall.Layer{
				rotation("daily", "2024-11-01T09:00", "primary"),
				only(rotation("daily", "2024-11-01T09:00", "night"), "22:00", "06:00"),
			}},
			from: "2024-11-02T20:00:00-04:00", to: "2024-11-03T08:00:00-05:00",
			want: []string{
				"Sat 2024-11-02 20:00 -0400 → Sat 2024-11-02 22:00 -0400 (2h) primary, layer 0",
				"Sat 2024-11-02 22:00 -0400 → Sun 2024-11-03 06:00 -0500 (9h) night, layer 1",
				"Sun 2024-11-03 06:00 -0500 → Sun 2024-11-03 08:00 -0500 (2h) primary, layer 0",
			},
		},
		{
			name: "New York: the same window lasts 7 hours as the clocks go forward",
			def: oncall.Definition{TimeZone: "America/New_York", Layers: []oncall.Layer{
				rotation("daily", "2024-03-01T09:00", "primary"),
				only(rotation("daily", "2024-03-01T09:00", "night"), "22:00", "06:00"),
			}},
			from: "2024-03-09T20:00:00-05:00", to: "2024-03-10T08:00:00-04:00",
			want: []string{
				"Sat 2024-03-09 20:00 -0500 → Sat 2024-03-09 22:00 -0500 (2h) primary, layer 0",
				"Sat 2024-03-09 22:00 -0500 → Sun 2024-03-10 06:00 -0400 (7h) night, layer 1",
				"Sun 2024-03-10 06:00 -0400 → Sun 2024-03-10 08:00 -0400 (2h) primary, layer 0",
			},
		},
		{
			name: "Sydney: a handoff at 02:30 on the October day happens when the gap ends",
			def: oncall.Definition{TimeZone: "Australia/Sydney", Layers: []oncall.Layer{
				rotation("daily", "2024-10-04T02:30", "alice", "bob"),
			}},
			from: "2024-10-04T02:30:00+10:00", to: "2024-10-07T02:30:00+11:00",
			want: []string{
				"Fri 2024-10-04 02:30 +1000 → Sat 2024-10-05 02:30 +1000 (24h) alice, layer 0",
				"Sat 2024-10-05 02:30 +1000 → Sun 2024-10-06 03:00 +1100 (23h30m) bob, layer 0",
				"Sun 2024-10-06 03:00 +1100 → Mon 2024-10-07 02:30 +1100 (23h30m) alice, layer 0",
			},
		},
		{
			name: "Sydney: business hours on top of an after-hours layer, across the April change",
			def: oncall.Definition{TimeZone: "Australia/Sydney", Layers: []oncall.Layer{
				rotation("weekly", "2024-04-01T09:00", "after-hours"),
				only(rotation("daily", "2024-04-01T09:00", "office"), "09:00", "17:00", "mon", "tue", "wed", "thu", "fri"),
			}},
			from: "2024-04-05T16:00:00+11:00", to: "2024-04-08T10:00:00+10:00",
			want: []string{
				"Fri 2024-04-05 16:00 +1100 → Fri 2024-04-05 17:00 +1100 (1h) office, layer 1",
				// Friday 17:00 to Monday 09:00 is 64 hours on the wall
				// clock, 65 in fact.
				"Fri 2024-04-05 17:00 +1100 → Mon 2024-04-08 09:00 +1000 (65h) after-hours, layer 0",
				"Mon 2024-04-08 09:00 +1000 → Mon 2024-04-08 10:00 +1000 (1h) office, layer 1",
			},
			onCall: map[string][]string{
				"2024-04-06T12:00:00+11:00": {"after-hours"},
				"2024-04-05T16:59:59+11:00": {"office"},
			},
		},
		{
			name: "Lord Howe: a handoff in the repeated half hour happens at its first occurrence",
			def: oncall.Definition{TimeZone: "Australia/Lord_Howe", Layers: []oncall.Layer{
				rotation("daily", "2024-04-05T01:45", "alice", "bob"),
			}},
			from: "2024-04-05T01:45:00+11:00", to: "2024-04-08T01:45:00+10:30",
			want: []string{
				"Fri 2024-04-05 01:45 +1100 → Sat 2024-04-06 01:45 +1100 (24h) alice, layer 0",
				"Sat 2024-04-06 01:45 +1100 → Sun 2024-04-07 01:45 +1100 (24h) bob, layer 0",
				"Sun 2024-04-07 01:45 +1100 → Mon 2024-04-08 01:45 +1030 (24h30m) alice, layer 0",
			},
			onCall: map[string][]string{
				"2024-04-07T01:40:00+10:30": {"alice"},
			},
		},
		{
			name: "Lord Howe: a handoff in the half-hour gap happens when the gap ends",
			def: oncall.Definition{TimeZone: "Australia/Lord_Howe", Layers: []oncall.Layer{
				rotation("daily", "2024-10-04T02:15", "alice", "bob"),
			}},
			from: "2024-10-04T02:15:00+10:30", to: "2024-10-07T02:15:00+11:00",
			want: []string{
				"Fri 2024-10-04 02:15 +1030 → Sat 2024-10-05 02:15 +1030 (24h) alice, layer 0",
				"Sat 2024-10-05 02:15 +1030 → Sun 2024-10-06 02:30 +1100 (23h45m) bob, layer 0",
				"Sun 2024-10-06 02:30 +1100 → Mon 2024-10-07 02:15 +1100 (23h45m) alice, layer 0",
			},
		},
		{
			name: "Lord Howe: a window that lies in the gap does not happen that day",
			def: oncall.Definition{TimeZone: "Australia/Lord_Howe", Layers: []oncall.Layer{
				rotation("weekly", "2024-09-30T00:00", "base"),
				only(rotation("weekly", "2024-09-30T00:00", "x"), "02:00", "02:30"),
			}},
			from: "2024-10-05T00:00:00+10:30", to: "2024-10-07T03:00:00+11:00",
			want: []string{
				"Sat 2024-10-05 00:00 +1030 → Sat 2024-10-05 02:00 +1030 (2h) base, layer 0",
				"Sat 2024-10-05 02:00 +1030 → Sat 2024-10-05 02:30 +1030 (30m) x, layer 1",
				"Sat 2024-10-05 02:30 +1030 → Mon 2024-10-07 02:00 +1100 (47h) base, layer 0",
				"Mon 2024-10-07 02:00 +1100 → Mon 2024-10-07 02:30 +1100 (30m) x, layer 1",
				"Mon 2024-10-07 02:30 +1100 → Mon 2024-10-07 03:00 +1100 (30m) base, layer 0",
			},
		},
		{
			name: "Apia: the handoff due on the missing 30 December happens when 31 December begins",
			def: oncall.Definition{TimeZone: "Pacific/Apia", Layers: []oncall.Layer{
				rotation("daily", "2011-12-28T09:00", "a", "b", "c"),
			}},
			from: "2011-12-28T09:00:00-10:00", to: "2012-01-01T09:00:00+14:00",
			want: []string{
				"Wed 2011-12-28 09:00 -1000 → Thu 2011-12-29 09:00 -1000 (24h) a, layer 0",
				"Thu 2011-12-29 09:00 -1000 → Sat 2011-12-31 00:00 +1400 (15h) b, layer 0",
				"Sat 2011-12-31 00:00 +1400 → Sat 2011-12-31 09:00 +1400 (9h) c, layer 0",
				"Sat 2011-12-31 09:00 +1400 → Sun 2012-01-01 09:00 +1400 (24h) a, layer 0",
			},
		},
		{
			name: "Apia: a turn that the missing day swallows whole has no shift",
			def: oncall.Definition{TimeZone: "Pacific/Apia", Layers: []oncall.Layer{
				rotation("daily", "2011-12-28T00:00", "a", "b", "c"),
			}},
			from: "2011-12-28T00:00:00-10:00", to: "2012-01-01T00:00:00+14:00",
			want: []string{
				"Wed 2011-12-28 00:00 -1000 → Thu 2011-12-29 00:00 -1000 (24h) a, layer 0",
				"Thu 2011-12-29 00:00 -1000 → Sat 2011-12-31 00:00 +1400 (24h) b, layer 0",
				// c's turn, 30 December, did not happen.
				"Sat 2011-12-31 00:00 +1400 → Sun 2012-01-01 00:00 +1400 (24h) a, layer 0",
			},
			onCall: map[string][]string{
				"2011-12-29T23:59:59-10:00": {"b"},
				"2011-12-31T00:00:00+14:00": {"a"},
			},
		},
		{
			name: "Apia: a handoff in the repeated hour of April 2012 happens at its first occurrence",
			def: oncall.Definition{TimeZone: "Pacific/Apia", Layers: []oncall.Layer{
				rotation("daily", "2012-03-31T03:30", "a", "b"),
			}},
			from: "2012-03-31T03:30:00+14:00", to: "2012-04-02T03:30:00+13:00",
			want: []string{
				"Sat 2012-03-31 03:30 +1400 → Sun 2012-04-01 03:30 +1400 (24h) a, layer 0",
				"Sun 2012-04-01 03:30 +1400 → Mon 2012-04-02 03:30 +1300 (25h) b, layer 0",
			},
		},
	}
	runTimelines(t, cases)
}

// runTimelines checks each case's shifts and the instants it names, and
// that who is on call at every shift's start and last second agrees.
func runTimelines(t *testing.T, cases []timelineCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := build(t, tc.def)
			shifts := expectShifts(t, s, tc.from, tc.to, tc.want)
			expectOnCall(t, s, tc.onCall)
			for _, sh := range shifts {
				for _, at := range []string{sh.Start.Format("2006-01-02T15:04:05Z07:00"), sh.End.Add(-1e9).Format("2006-01-02T15:04:05Z07:00")} {
					if got := s.OnCallAt(instant(t, at)); !slices.Contains(got, sh.UserID) {
						t.Errorf("OnCallAt(%s) = %q, want it to hold %s", at, got, sh.UserID)
					}
				}
			}
		})
	}
}
