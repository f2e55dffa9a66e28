package schedule

import (
	"slices"
	"testing"
	"time"
)

// The expectations below are derived by hand from the zone rules and the
// daemon's rules described in the package documentation:
//
//   - Europe/Berlin, 2024: 31 Mar 02:00 CET (+01) jumps to 03:00 CEST (+02);
//     27 Oct 03:00 CEST falls back to 02:00 CET, so 02:00-02:59 repeats.
//   - America/New_York, 2024: 10 Mar 02:00 EST (-05) jumps to 03:00 EDT (-04);
//     3 Nov 02:00 EDT falls back to 01:00 EST, so 01:00-01:59 repeats.
//   - Australia/Sydney, 2024 (southern hemisphere): 7 Apr 03:00 AEDT (+11)
//     falls back to 02:00 AEST (+10); 6 Oct 02:00 AEST jumps to 03:00 AEDT.
//   - Australia/Lord_Howe, 2024 (half-hour shift): 7 Apr 02:00 (+11) falls
//     back to 01:30 (+10:30), so 01:30-01:59 repeats; 6 Oct 02:00 (+10:30)
//     jumps to 02:30 (+11).
//   - America/Santiago, 2024 (changes at midnight): 7 Apr 00:00 (-03) falls
//     back to 23:00 on 6 Apr (-04), so 23:00-23:59 on 6 Apr repeats; 8 Sep
//     00:00 (-04) jumps to 01:00 (-03), so 8 Sep has no hour 00.
//   - Pacific/Apia crossed the date line: 29 Dec 2011 23:59:59 (-10) was
//     followed by 31 Dec 2011 00:00 (+14); 30 Dec did not happen there.
func TestNextDST(t *testing.T) {
	type tc struct {
		name  string
		expr  string
		after string
		want  []string
	}
	zones := []struct {
		zone  string
		cases []tc
	}{
		{"Europe/Berlin", []tc{
			{"fixed job in the gap runs at the change", "30 2 * * *", "2024-03-30T12:00:00+01:00",
				[]string{"2024-03-31T03:00:00+02:00", "2024-04-01T02:30:00+02:00"}},
			{"fixed job at the start of the gap", "0 2 * * *", "2024-03-30T12:00:00+01:00",
				[]string{"2024-03-31T03:00:00+02:00", "2024-04-01T02:00:00+02:00"}},
			{"several fixed runs in the gap collapse into one", "0,30 2 * * *", "2024-03-30T12:00:00+01:00",
				[]string{"2024-03-31T03:00:00+02:00", "2024-04-01T02:00:00+02:00"}},
			{"fixed runs in and right after the gap collapse", "0 2,3 * * *", "2024-03-30T12:00:00+01:00",
				[]string{"2024-03-31T03:00:00+02:00", "2024-04-01T02:00:00+02:00"}},
			{"fixed job right after the gap is unaffected", "0 3 * * *", "2024-03-30T12:00:00+01:00",
				[]string{"2024-03-31T03:00:00+02:00", "2024-04-01T03:00:00+02:00"}},
			{"fixed job after a run at the change", "30 2 * * *", "2024-03-31T03:00:00+02:00",
				[]string{"2024-04-01T02:30:00+02:00"}},
			{"wildcard minutes skip the gap", "*/30 * * * *", "2024-03-31T01:00:00+01:00",
				[]string{"2024-03-31T01:30:00+01:00", "2024-03-31T03:00:00+02:00", "2024-03-31T03:30:00+02:00"}},
			{"wildcard hour skips the gap", "30 * * * *", "2024-03-31T01:00:00+01:00",
				[]string{"2024-03-31T01:30:00+01:00", "2024-03-31T03:30:00+02:00"}},
			{"wildcard job inside the skipped hour loses the day", "* 2 * * *", "2024-03-30T12:00:00+01:00",
				[]string{"2024-04-01T02:00:00+02:00"}},
			{"stepped hours skip the gap", "0 */2 * * *", "2024-03-31T01:00:00+01:00",
				[]string{"2024-03-31T04:00:00+02:00"}},
			{"fixed job in the repeated hour runs once", "30 2 * * *", "2024-10-26T12:00:00+02:00",
				[]string{"2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"}},
			{"fixed job asked during the second copy", "30 2 * * *", "2024-10-27T02:10:00+01:00",
				[]string{"2024-10-28T02:30:00+01:00"}},
			{"fixed job asked at its first run", "0 2 * * *", "2024-10-27T02:00:00+02:00",
				[]string{"2024-10-28T02:00:00+01:00"}},
			{"fixed hour range across the repeat", "0 1-3 * * *", "2024-10-27T00:30:00+02:00",
				[]string{"2024-10-27T01:00:00+02:00", "2024-10-27T02:00:00+02:00", "2024-10-27T03:00:00+01:00"}},
			{"wildcard minutes run in both copies", "*/30 * * * *", "2024-10-27T01:45:00+02:00",
				[]string{"2024-10-27T02:00:00+02:00", "2024-10-27T02:30:00+02:00", "2024-10-27T02:00:00+01:00", "2024-10-27T02:30:00+01:00", "2024-10-27T03:00:00+01:00"}},
			{"wildcard hour runs in both copies", "15 * * * *", "2024-10-27T01:30:00+02:00",
				[]string{"2024-10-27T02:15:00+02:00", "2024-10-27T02:15:00+01:00", "2024-10-27T03:15:00+01:00"}},
			{"stepped hours run in both copies", "0 */2 * * *", "2024-10-27T01:30:00+02:00",
				[]string{"2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00", "2024-10-27T04:00:00+01:00"}},
			{"every minute of hour 2 continues into the second copy", "* 2 * * *", "2024-10-27T02:58:00+02:00",
				[]string{"2024-10-27T02:59:00+02:00", "2024-10-27T02:00:00+01:00", "2024-10-27T02:01:00+01:00"}},
			{"only the daylight-saving Sunday has the gap", "0 2 25-31 3 */7", "2024-01-01T00:00:00+01:00",
				[]string{"2024-03-31T03:00:00+02:00", "2025-03-30T03:00:00+02:00"}},
			{"a wildcard job that always falls into the gap never runs", "* 2 25-31 3 */7", "2024-01-01T00:00:00+01:00",
				[]string{"never"}},
		}},
		{"America/New_York", []tc{
			{"fixed job in the gap", "30 2 * * *", "2024-03-09T12:00:00-05:00",
				[]string{"2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"}},
			{"wildcard minutes skip the gap", "*/20 * * * *", "2024-03-10T01:30:00-05:00",
				[]string{"2024-03-10T01:40:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T03:20:00-04:00"}},
			{"weekday job across the change", "0 9 * * 1-5", "2024-03-08T10:00:00-05:00",
				[]string{"2024-03-11T09:00:00-04:00"}},
			{"fixed job in the repeated hour", "30 1 * * *", "2024-11-02T12:00:00-04:00",
				[]string{"2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"}},
			{"fixed job asked at the start of the second copy", "30 1 * * *", "2024-11-03T01:00:00-05:00",
				[]string{"2024-11-04T01:30:00-05:00"}},
			{"wildcard hour in the repeated hour", "30 * * * *", "2024-11-03T00:45:00-04:00",
				[]string{"2024-11-03T01:30:00-04:00", "2024-11-03T01:30:00-05:00", "2024-11-03T02:30:00-05:00"}},
		}},
		{"Australia/Sydney", []tc{
			{"fixed job in the repeated hour (April)", "30 2 * * *", "2024-04-06T12:00:00+11:00",
				[]string{"2024-04-07T02:30:00+11:00", "2024-04-08T02:30:00+10:00"}},
			{"wildcard minutes in the repeated hour", "*/30 2 * * *", "2024-04-07T01:50:00+11:00",
				[]string{"2024-04-07T02:00:00+11:00", "2024-04-07T02:30:00+11:00", "2024-04-07T02:00:00+10:00", "2024-04-07T02:30:00+10:00", "2024-04-08T02:00:00+10:00"}},
			{"fixed job in the gap (October)", "30 2 * * *", "2024-10-05T12:00:00+10:00",
				[]string{"2024-10-06T03:00:00+11:00", "2024-10-07T02:30:00+11:00"}},
			{"wildcard minutes in the gap", "*/30 2 * * *", "2024-10-05T12:00:00+10:00",
				[]string{"2024-10-07T02:00:00+11:00"}},
		}},
		{"Australia/Lord_Howe", []tc{
			{"fixed job in the repeated half hour", "45 1 * * *", "2024-04-06T12:00:00+11:00",
				[]string{"2024-04-07T01:45:00+11:00", "2024-04-08T01:45:00+10:30"}},
			{"fixed job just after the repeated half hour", "0 2 * * *", "2024-04-06T12:00:00+11:00",
				[]string{"2024-04-07T02:00:00+10:30"}},
			{"wildcard minutes in the repeated half hour", "*/15 * * * *", "2024-04-07T01:20:00+11:00",
				[]string{"2024-04-07T01:30:00+11:00", "2024-04-07T01:45:00+11:00", "2024-04-07T01:30:00+10:30", "2024-04-07T01:45:00+10:30", "2024-04-07T02:00:00+10:30"}},
			{"fixed job in the half-hour gap", "15 2 * * *", "2024-10-05T12:00:00+10:30",
				[]string{"2024-10-06T02:30:00+11:00", "2024-10-07T02:15:00+11:00"}},
			{"fixed job at the start of the half-hour gap", "0 2 * * *", "2024-10-05T12:00:00+10:30",
				[]string{"2024-10-06T02:30:00+11:00"}},
			{"wildcard minutes in the half-hour gap", "*/15 * * * *", "2024-10-06T01:50:00+10:30",
				[]string{"2024-10-06T02:30:00+11:00", "2024-10-06T02:45:00+11:00"}},
			{"wildcard hour in the half-hour gap", "0 * * * *", "2024-10-06T01:30:00+10:30",
				[]string{"2024-10-06T03:00:00+11:00"}},
		}},
		{"America/Santiago", []tc{
			{"midnight job on the day without midnight", "0 0 * * *", "2024-09-07T12:00:00-04:00",
				[]string{"2024-09-08T01:00:00-03:00", "2024-09-09T00:00:00-03:00"}},
			{"midnight job on that date only", "0 0 8 9 *", "2024-09-01T00:00:00-04:00",
				[]string{"2024-09-08T01:00:00-03:00", "2025-09-08T00:00:00-03:00"}},
			{"Sunday midnight job on that Sunday", "0 0 * * SUN", "2024-09-07T00:00:00-04:00",
				[]string{"2024-09-08T01:00:00-03:00", "2024-09-15T00:00:00-03:00"}},
			{"fixed job inside the missing hour", "30 0 8 9 *", "2024-09-07T23:00:00-04:00",
				[]string{"2024-09-08T01:00:00-03:00"}},
			{"wildcard job inside the missing hour", "30 * 8 9 *", "2024-09-07T23:00:00-04:00",
				[]string{"2024-09-08T01:30:00-03:00"}},
			{"fixed job in the repeated hour before midnight", "30 23 * * *", "2024-04-06T12:00:00-03:00",
				[]string{"2024-04-06T23:30:00-03:00", "2024-04-07T23:30:00-04:00"}},
			{"midnight job after the repeated hour", "0 0 * * *", "2024-04-06T12:00:00-03:00",
				[]string{"2024-04-07T00:00:00-04:00", "2024-04-08T00:00:00-04:00"}},
			{"wildcard minutes in the repeated hour", "*/30 * * * *", "2024-04-06T23:15:00-03:00",
				[]string{"2024-04-06T23:30:00-03:00", "2024-04-06T23:00:00-04:00", "2024-04-06T23:30:00-04:00", "2024-04-07T00:00:00-04:00"}},
		}},
		{"Pacific/Apia", []tc{
			{"a skipped day is lost even for fixed jobs", "0 12 * * *", "2011-12-29T13:00:00-10:00",
				[]string{"2011-12-31T12:00:00+14:00"}},
			{"midnight after the skipped day", "0 0 * * *", "2011-12-29T13:00:00-10:00",
				[]string{"2011-12-31T00:00:00+14:00"}},
			{"job for the skipped date waits a year", "0 12 30 12 *", "2011-12-01T00:00:00-10:00",
				[]string{"2012-12-30T12:00:00+14:00"}},
			{"wildcard job across the skipped day", "0 * * * *", "2011-12-29T23:30:00-10:00",
				[]string{"2011-12-31T00:00:00+14:00"}},
		}},
	}
	for _, z := range zones {
		loc := mustZone(t, z.zone)
		for _, tt := range z.cases {
			t.Run(z.zone+"/"+tt.name, func(t *testing.T) {
				c := mustParse(t, tt.expr)
				got := nextRuns(t, c, mustTime(t, tt.after), loc, len(tt.want))
				if !slices.Equal(got, tt.want) {
					t.Errorf("%q after %s in %s:\n got %v\nwant %v", tt.expr, tt.after, z.zone, got, tt.want)
				}
			})
		}
	}
}

// TestNextClockChangeThresholds checks the daemon's limits on special
// handling using synthetic zones whose single change happens on 1 Jun 2030
// at 10:00 UTC; before it the zone's offset is the first one given.
func TestNextClockChangeThresholds(t *testing.T) {
	at := time.Date(2030, 6, 1, 10, 0, 0, 0, time.UTC)
	m := int32(60)
	tests := []struct {
		name          string
		before, after int32
		expr          string
		from          string
		want          []string
	}{
		// A forward change of 179 minutes (wall 10:00 becomes 12:59) is
		// handled specially: the fixed 11:30 run happens at the change.
		{"fixed job, forward 179 minutes", 0, 179 * m, "30 11 * * *", "2030-06-01T09:00:00Z",
			[]string{"2030-06-01T12:59:00+02:59", "2030-06-02T11:30:00+02:59"}},
		// From 180 minutes on the daemon sees a clock jump and the run is lost.
		{"fixed job, forward 180 minutes", 0, 180 * m, "30 11 * * *", "2030-06-01T09:00:00Z",
			[]string{"2030-06-02T11:30:00+03:00"}},
		// A backward change of 181 minutes (wall 13:01 becomes 10:00) still
		// keeps fixed jobs from running twice.
		{"fixed job, backward 181 minutes", 181 * m, 0, "30 11 * * *", "2030-06-01T00:00:00Z",
			[]string{"2030-06-01T11:30:00+03:01", "2030-06-02T11:30:00Z"}},
		// From 182 minutes on the daemon resynchronises and runs it again.
		{"fixed job, backward 182 minutes", 182 * m, 0, "30 11 * * *", "2030-06-01T00:00:00Z",
			[]string{"2030-06-01T11:30:00+03:02", "2030-06-01T11:30:00Z", "2030-06-02T11:30:00Z"}},
		// Wildcard jobs always run in both copies.
		{"wildcard job, backward 181 minutes", 181 * m, 0, "30 * * * *", "2030-06-01T12:00:00+03:01",
			[]string{"2030-06-01T12:30:00+03:01", "2030-06-01T10:30:00Z", "2030-06-01T11:30:00Z"}},
		// A forward change of 4 minutes counts as waking up late: every job
		// due in the skipped minutes runs, wildcard ones included.
		{"wildcard job, forward 4 minutes", 0, 4 * m, "2 * * * *", "2030-06-01T09:30:00Z",
			[]string{"2030-06-01T10:04:00+00:04", "2030-06-01T11:02:00+00:04"}},
		// From 5 minutes on wildcard jobs in the gap are skipped...
		{"wildcard job, forward 5 minutes", 0, 5 * m, "2 * * * *", "2030-06-01T09:30:00Z",
			[]string{"2030-06-01T11:02:00+00:05"}},
		// ...while fixed ones still run at the change.
		{"fixed job, forward 5 minutes", 0, 5 * m, "2 10 * * *", "2030-06-01T09:30:00Z",
			[]string{"2030-06-01T10:05:00+00:05", "2030-06-02T10:02:00+00:05"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := syntheticZone(t, "Test/Zone", tt.before, tt.after, at)
			c := mustParse(t, tt.expr)
			got := nextRuns(t, c, mustTime(t, tt.from), loc, len(tt.want))
			if !slices.Equal(got, tt.want) {
				t.Errorf("%q after %s:\n got %v\nwant %v", tt.expr, tt.from, got, tt.want)
			}
		})
	}
}

// TestNextMatchesDaemon compares Next with a minute-by-minute replay of the
// daemon's main loop around every clock change of a few years in several
// zones, for a range of fixed-time and wildcard jobs.
func TestNextMatchesDaemon(t *testing.T) {
	exprs := []string{
		"30 2 * * *", "0 2 * * *", "0,30 2 * * *", "0 3 * * *", "0 1-5 * * *",
		"15 1,2,3 * * *", "45 1 * * *", "15 2 * * *", "59 1 * * *", "0 0 * * *",
		"30 23 * * *", "0 12 * * *", "0,15,30,45 0-3 * * *", "1-59/2 2 * * *",
		"*/15 * * * *", "*/30 * * * *", "0 * * * *", "30 * * * *", "* * * * *",
		"0 */2 * * *", "0 */3 * * *", "* 2 * * *", "*/10 1-3 * * *", "2 * * * *",
		"0 0 * * SUN", "30 2 * * 0", "0 0 L * *",
	}
	type window struct {
		zone       *time.Location
		from, to   time.Time
		changeOnly bool
	}
	var windows []window
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "America/Santiago", "America/Havana"} {
		windows = append(windows, window{mustZone(t, name), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), true})
	}
	windows = append(windows, window{mustZone(t, "Pacific/Apia"), time.Date(2011, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2012, 5, 1, 0, 0, 0, 0, time.UTC), true})
	at := time.Date(2030, 6, 1, 10, 0, 0, 0, time.UTC)
	for _, d := range []int32{4, 5, 179, 180, -181, -182} {
		loc := syntheticZone(t, "Test/Zone", 0, d*60, at)
		if d < 0 {
			loc = syntheticZone(t, "Test/Zone", -d*60, 0, at)
		}
		windows = append(windows, window{loc, at.Add(-time.Hour), at.Add(time.Hour), true})
	}

	offsets := []time.Duration{}
	for k := -8; k <= 8; k++ {
		offsets = append(offsets, time.Duration(k)*20*time.Minute+7*time.Second)
	}
	if testing.Short() {
		offsets = []time.Duration{-90 * time.Minute, -20 * time.Minute, 10 * time.Minute, 70 * time.Minute}
	}

	checked := 0
	for _, w := range windows {
		// Collect the clock changes in the window.
		var changes []time.Time
		for cur := w.from.In(w.zone); cur.Before(w.to); {
			_, end := cur.ZoneBounds()
			if end.IsZero() || !end.Before(w.to) {
				break
			}
			_, o1 := end.Add(-time.Second).Zone()
			_, o2 := end.Zone()
			if o1 != o2 {
				changes = append(changes, end)
			}
			cur = end
		}
		if len(changes) == 0 {
			t.Fatalf("no clock change found in %s", w.zone)
		}
		for _, expr := range exprs {
			c := mustParse(t, expr)
			for _, change := range changes {
				for _, off := range offsets {
					after := change.Add(off)
					for step := 0; step < 2; step++ {
						want, ok := simulateDaemon(c, w.zone, after, 50*time.Hour)
						got := c.Next(after, w.zone)
						checked++
						if !ok {
							if !got.IsZero() && got.Before(after.Add(50*time.Hour)) {
								t.Fatalf("%q in %s after %s: Next = %s, daemon runs nothing within 50h", expr, w.zone, after.In(w.zone).Format(time.RFC3339), got.Format(time.RFC3339))
							}
							break
						}
						if !got.Equal(want) {
							t.Fatalf("%q in %s after %s: Next = %s, daemon runs at %s", expr, w.zone, after.In(w.zone).Format(time.RFC3339), got.Format(time.RFC3339), want.Format(time.RFC3339))
						}
						after = got
					}
				}
			}
		}
	}
	t.Logf("%d predictions agree with the daemon replay", checked)
}

// TestNextBeyondListedTransitions covers years after the last transition
// listed in the zone data, where offsets come from the zone's rule. In leap
// years the standard library reports a zone period ending on 31 December
// that does not advance, which once made Next loop forever. In 2040 (a leap
// year) Berlin changes on 25 Mar and 28 Oct; 31 Dec 2040 is a Monday.
func TestNextBeyondListedTransitions(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	tests := []struct {
		expr, after string
		want        []string
	}{
		{"30 2 * * *", "2040-03-24T12:00:00+01:00", []string{"2040-03-25T03:00:00+02:00", "2040-03-26T02:30:00+02:00"}},
		{"30 2 * * *", "2040-10-27T12:00:00+02:00", []string{"2040-10-28T02:30:00+02:00", "2040-10-29T02:30:00+01:00"}},
		{"0 0 1 1 *", "2040-06-01T00:00:00+02:00", []string{"2041-01-01T00:00:00+01:00", "2042-01-01T00:00:00+01:00"}},
		{"0 12 31 12 *", "2040-06-01T00:00:00+02:00", []string{"2040-12-31T12:00:00+01:00", "2041-12-31T12:00:00+01:00"}},
		{"*/30 * 31 12 *", "2040-12-31T00:10:00+01:00", []string{"2040-12-31T00:30:00+01:00", "2040-12-31T01:00:00+01:00"}},
		{"0 0 29 2 *", "2041-01-01T00:00:00+01:00", []string{"2044-02-29T00:00:00+01:00", "2048-02-29T00:00:00+01:00"}},
	}
	for _, tt := range tests {
		c := mustParse(t, tt.expr)
		got := nextRuns(t, c, mustTime(t, tt.after), berlin, len(tt.want))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q after %s:\n got %v\nwant %v", tt.expr, tt.after, got, tt.want)
		}
	}
}
