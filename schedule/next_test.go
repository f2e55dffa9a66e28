package schedule

import (
	"slices"
	"testing"
	"time"
)

// Calendar facts used below (checked against a calendar, not this code):
// 2024 is a leap year; 1 Jan 2024 is a Monday, 1 Feb a Thursday, 1 Mar a
// Friday, 1 Apr a Monday, 1 May a Wednesday, 1 Jun a Saturday, 1 Jul a
// Monday, 1 Aug a Thursday, 1 Sep a Sunday, 1 Nov a Friday. 31 Mar 2024 is a
// Sunday, 30 Jun a Sunday, 31 Aug a Saturday, 15 Jun a Saturday, 15 Sep a
// Sunday. 29 Feb falls on a Monday in 2044 and 2072.

func TestNextSyntax(t *testing.T) {
	const jan1 = "2024-01-01T00:00:00Z" // a Monday
	tests := []struct {
		name  string
		expr  string
		after string
		want  []string
	}{
		{"every minute", "* * * * *", jan1, []string{"2024-01-01T00:01:00Z", "2024-01-01T00:02:00Z"}},
		{"seconds are dropped, strictly after", "* * * * *", "2024-01-01T00:00:30Z", []string{"2024-01-01T00:01:00Z"}},
		{"number", "5 * * * *", jan1, []string{"2024-01-01T00:05:00Z", "2024-01-01T01:05:00Z"}},
		{"star step", "*/20 * * * *", jan1, []string{"2024-01-01T00:20:00Z", "2024-01-01T00:40:00Z", "2024-01-01T01:00:00Z"}},
		{"range", "10-12 * * * *", jan1, []string{"2024-01-01T00:10:00Z", "2024-01-01T00:11:00Z", "2024-01-01T00:12:00Z", "2024-01-01T01:10:00Z"}},
		{"range step", "10-30/10 * * * *", jan1, []string{"2024-01-01T00:10:00Z", "2024-01-01T00:20:00Z", "2024-01-01T00:30:00Z", "2024-01-01T01:10:00Z"}},
		{"start step", "50/5 * * * *", jan1, []string{"2024-01-01T00:50:00Z", "2024-01-01T00:55:00Z", "2024-01-01T01:50:00Z"}},
		{"list", "1,2,59 * * * *", jan1, []string{"2024-01-01T00:01:00Z", "2024-01-01T00:02:00Z", "2024-01-01T00:59:00Z", "2024-01-01T01:01:00Z"}},
		{"list of ranges and steps", "0-1,30/15 * * * *", jan1, []string{"2024-01-01T00:01:00Z", "2024-01-01T00:30:00Z", "2024-01-01T00:45:00Z", "2024-01-01T01:00:00Z"}},
		{"hour", "0 12 * * *", jan1, []string{"2024-01-01T12:00:00Z", "2024-01-02T12:00:00Z"}},
		{"hour step", "0 */8 * * *", jan1, []string{"2024-01-01T08:00:00Z", "2024-01-01T16:00:00Z", "2024-01-02T00:00:00Z"}},
		{"day of month", "0 0 1 * *", jan1, []string{"2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"}},
		{"day of month step", "0 0 */10 * *", jan1, []string{"2024-01-11T00:00:00Z", "2024-01-21T00:00:00Z", "2024-01-31T00:00:00Z", "2024-02-01T00:00:00Z"}},
		{"month names, mixed case", "0 0 1 jan,Jul *", jan1, []string{"2024-07-01T00:00:00Z", "2025-01-01T00:00:00Z"}},
		{"month name range", "0 0 1 MAR-may *", jan1, []string{"2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z", "2024-05-01T00:00:00Z", "2025-03-01T00:00:00Z"}},
		{"month step", "0 0 1 */4 *", jan1, []string{"2024-05-01T00:00:00Z", "2024-09-01T00:00:00Z", "2025-01-01T00:00:00Z"}},
		{"weekday names", "0 9 * * mon-fri", "2024-01-05T10:00:00Z", []string{"2024-01-08T09:00:00Z", "2024-01-09T09:00:00Z"}},
		{"sunday as 0", "0 9 * * 0", jan1, []string{"2024-01-07T09:00:00Z", "2024-01-14T09:00:00Z"}},
		{"sunday as 7", "0 9 * * 7", jan1, []string{"2024-01-07T09:00:00Z", "2024-01-14T09:00:00Z"}},
		{"sunday by name", "0 9 * * sun", jan1, []string{"2024-01-07T09:00:00Z"}},
		{"range ending in 7", "0 9 * * 5-7", jan1, []string{"2024-01-05T09:00:00Z", "2024-01-06T09:00:00Z", "2024-01-07T09:00:00Z", "2024-01-12T09:00:00Z"}},
		{"weekday star step counts from Sunday", "0 0 * * */2", jan1, []string{"2024-01-02T00:00:00Z", "2024-01-04T00:00:00Z", "2024-01-06T00:00:00Z", "2024-01-07T00:00:00Z"}},
		{"weekday start step reaches 7", "0 0 * * 1/2", jan1, []string{"2024-01-03T00:00:00Z", "2024-01-05T00:00:00Z", "2024-01-07T00:00:00Z", "2024-01-08T00:00:00Z"}},
		{"last day of month, leap February", "0 0 L * *", jan1, []string{"2024-01-31T00:00:00Z", "2024-02-29T00:00:00Z", "2024-03-31T00:00:00Z", "2024-04-30T00:00:00Z"}},
		{"last day of common February", "0 0 l 2 *", "2024-03-01T00:00:00Z", []string{"2025-02-28T00:00:00Z"}},
		{"last weekday of month", "0 0 LW * *", jan1, []string{"2024-01-31T00:00:00Z", "2024-02-29T00:00:00Z", "2024-03-29T00:00:00Z", "2024-04-30T00:00:00Z"}},
		{"last weekday before a Sunday and a Saturday", "0 0 lw 6,8 *", jan1, []string{"2024-06-28T00:00:00Z", "2024-08-30T00:00:00Z"}},
		{"nearest weekday", "0 0 15W * *", "2024-06-01T00:00:00Z", []string{"2024-06-14T00:00:00Z", "2024-07-15T00:00:00Z", "2024-08-15T00:00:00Z", "2024-09-16T00:00:00Z"}},
		{"nearest weekday does not leave the month at its start", "0 0 1w * *", "2024-05-15T00:00:00Z", []string{"2024-06-03T00:00:00Z", "2024-07-01T00:00:00Z", "2024-08-01T00:00:00Z", "2024-09-02T00:00:00Z"}},
		{"nearest weekday does not leave the month at its end", "0 0 31W * *", "2024-03-01T00:00:00Z", []string{"2024-03-29T00:00:00Z", "2024-05-31T00:00:00Z", "2024-07-31T00:00:00Z", "2024-08-30T00:00:00Z"}},
		{"nearest weekday in a list", "0 0 1W,15W 6 *", jan1, []string{"2024-06-03T00:00:00Z", "2024-06-14T00:00:00Z", "2025-06-02T00:00:00Z"}},
		{"last Friday", "0 0 * * 5L", jan1, []string{"2024-01-26T00:00:00Z", "2024-02-23T00:00:00Z", "2024-03-29T00:00:00Z"}},
		{"last Sunday as 0L", "0 0 * * 0L", jan1, []string{"2024-01-28T00:00:00Z"}},
		{"last Sunday as 7l", "0 0 * * 7l", jan1, []string{"2024-01-28T00:00:00Z"}},
		{"first Monday", "0 0 * * MON#1", jan1, []string{"2024-02-05T00:00:00Z", "2024-03-04T00:00:00Z", "2024-04-01T00:00:00Z"}},
		{"fifth Monday", "0 0 * * 1#5", jan1, []string{"2024-01-29T00:00:00Z", "2024-04-29T00:00:00Z", "2024-07-29T00:00:00Z"}},
		{"fifth Monday of February", "0 0 * 2 MON#5", jan1, []string{"2044-02-29T00:00:00Z", "2072-02-29T00:00:00Z"}},
		{"day of month OR day of week", "0 0 13 * FRI", jan1, []string{"2024-01-05T00:00:00Z", "2024-01-12T00:00:00Z", "2024-01-13T00:00:00Z", "2024-01-19T00:00:00Z"}},
		{"last day OR Monday", "0 0 L * MON", "2024-01-27T00:00:00Z", []string{"2024-01-29T00:00:00Z", "2024-01-31T00:00:00Z", "2024-02-05T00:00:00Z"}},
		{"full day-of-month range still ORs", "0 0 1-31 * MON", "2024-01-02T00:00:00Z", []string{"2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z"}},
		{"stepped day of month ANDs", "0 0 */2 * MON", jan1, []string{"2024-01-15T00:00:00Z", "2024-01-29T00:00:00Z", "2024-02-05T00:00:00Z"}},
		{"stepped day of week ANDs", "0 0 1-7 * */7", jan1, []string{"2024-01-07T00:00:00Z", "2024-02-04T00:00:00Z", "2024-03-03T00:00:00Z"}},
		{"Friday the 1st", "0 0 */100 * FRI", jan1, []string{"2024-03-01T00:00:00Z", "2024-11-01T00:00:00Z"}},
		{"day of month with star day of week", "0 0 13 * *", jan1, []string{"2024-01-13T00:00:00Z", "2024-02-13T00:00:00Z"}},
		{"29 February", "0 0 29 2 *", "2024-03-01T00:00:00Z", []string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"29 February skips 2100", "0 0 29 2 *", "2096-03-01T00:00:00Z", []string{"2104-02-29T00:00:00Z"}},
		{"30 February or 30 January", "0 0 30 1,2 *", jan1, []string{"2024-01-30T00:00:00Z", "2025-01-30T00:00:00Z"}},
		{"end of year", "59 23 31 12 *", "2024-12-31T23:59:00Z", []string{"2025-12-31T23:59:00Z"}},
		{"@hourly", "@hourly", "2024-01-01T00:30:00Z", []string{"2024-01-01T01:00:00Z"}},
		{"@daily", "@daily", jan1, []string{"2024-01-02T00:00:00Z"}},
		{"@midnight", "@midnight", jan1, []string{"2024-01-02T00:00:00Z"}},
		{"@weekly", "@weekly", jan1, []string{"2024-01-07T00:00:00Z", "2024-01-14T00:00:00Z"}},
		{"@monthly", "@monthly", jan1, []string{"2024-02-01T00:00:00Z"}},
		{"@yearly", "@yearly", jan1, []string{"2025-01-01T00:00:00Z"}},
		{"@annually in capitals", "@ANNUALLY", jan1, []string{"2025-01-01T00:00:00Z"}},
		{"never: 30 February", "0 0 30 2 *", jan1, []string{"never"}},
		{"never: 31 April and June", "0 0 31 4,6 *", jan1, []string{"never"}},
		{"never: the 1st as fourth Monday", "1 1 */100 * MON#4", jan1, []string{"never"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.expr)
			got := nextRuns(t, c, mustTime(t, tt.after), time.UTC, len(tt.want))
			if !slices.Equal(got, tt.want) {
				t.Errorf("%q after %s:\n got %v\nwant %v", tt.expr, tt.after, got, tt.want)
			}
		})
	}
}

func TestNextStrictlyAfter(t *testing.T) {
	c := mustParse(t, "30 2 * * *")
	tests := []struct{ after, want string }{
		{"2024-01-01T02:29:00Z", "2024-01-01T02:30:00Z"},
		{"2024-01-01T02:30:00Z", "2024-01-02T02:30:00Z"},
		{"2024-01-01T02:30:01Z", "2024-01-02T02:30:00Z"},
	}
	for _, tt := range tests {
		if got := c.Next(mustTime(t, tt.after), time.UTC).Format(time.RFC3339); got != tt.want {
			t.Errorf("Next(%s) = %s, want %s", tt.after, got, tt.want)
		}
	}
	// Sub-second precision counts too.
	after := mustTime(t, "2024-01-01T02:29:59Z").Add(999 * time.Millisecond)
	if got := c.Next(after, time.UTC).Format(time.RFC3339); got != "2024-01-01T02:30:00Z" {
		t.Errorf("Next(02:29:59.999) = %s", got)
	}
	after = mustTime(t, "2024-01-01T02:30:00Z").Add(time.Nanosecond)
	if got := c.Next(after, time.UTC).Format(time.RFC3339); got != "2024-01-02T02:30:00Z" {
		t.Errorf("Next(02:30:00.000000001) = %s", got)
	}
}

func TestNextLocation(t *testing.T) {
	c := mustParse(t, "0 9 * * *")
	after := mustTime(t, "2024-01-01T00:00:00Z")
	if got := c.Next(after, nil); got.Location() != time.UTC || got.Format(time.RFC3339) != "2024-01-01T09:00:00Z" {
		t.Errorf("nil location: got %v", got)
	}
	tokyo := mustZone(t, "Asia/Tokyo") // +09:00, no daylight-saving time
	got := c.Next(after, tokyo)
	if got.Location() != tokyo {
		t.Errorf("result location = %v, want Asia/Tokyo", got.Location())
	}
	// 00:00 UTC is 09:00 in Tokyo, so the 09:00 run that day is not after it.
	if s := got.Format(time.RFC3339); s != "2024-01-02T09:00:00+09:00" {
		t.Errorf("Tokyo: got %s", s)
	}
	// The instant given may be in any zone.
	if s := c.Next(after.In(mustZone(t, "America/New_York")), tokyo).Format(time.RFC3339); s != "2024-01-02T09:00:00+09:00" {
		t.Errorf("Tokyo from New York time: got %s", s)
	}
}

func TestNextN(t *testing.T) {
	c := mustParse(t, "0 0 29 2 *")
	got := c.NextN(mustTime(t, "2024-01-01T00:00:00Z"), time.UTC, 3)
	var s []string
	for _, g := range got {
		s = append(s, g.Format(time.DateOnly))
	}
	if want := []string{"2024-02-29", "2028-02-29", "2032-02-29"}; !slices.Equal(s, want) {
		t.Errorf("NextN = %v, want %v", s, want)
	}
	if got := mustParse(t, "0 0 30 2 *").NextN(time.Now(), time.UTC, 3); len(got) != 0 {
		t.Errorf("NextN for a never-matching expression = %v, want none", got)
	}
	if got := c.NextN(time.Now(), time.UTC, 0); got != nil {
		t.Errorf("NextN(0) = %v, want nil", got)
	}
}

func TestNextFarPastAndFuture(t *testing.T) {
	c := mustParse(t, "0 0 1 1 *")
	tests := []struct{ after, want string }{
		{"1600-06-01T00:00:00Z", "1601-01-01T00:00:00Z"},
		{"1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z"},
		{"9998-06-01T00:00:00Z", "9999-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		if got := c.Next(mustTime(t, tt.after), time.UTC).Format(time.RFC3339); got != tt.want {
			t.Errorf("Next(%s) = %s, want %s", tt.after, got, tt.want)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	berlin := mustZone(b, "Europe/Berlin")
	after := time.Date(2025, 6, 1, 12, 34, 56, 0, time.UTC)
	for _, bc := range []struct {
		name string
		expr string
		loc  *time.Location
	}{
		{"every5min/UTC", "*/5 * * * *", time.UTC},
		{"every5min/Berlin", "*/5 * * * *", berlin},
		{"daily/Berlin", "30 2 * * *", berlin},
		{"weekdays/Berlin", "0 9 * * 1-5", berlin},
		{"lastFriday/Berlin", "0 18 * * 5L", berlin},
		{"yearly/Berlin", "0 0 1 1 *", berlin},
		{"leapDay/Berlin", "0 0 29 2 *", berlin},
	} {
		c := mustParse(b, bc.expr)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Next(after, bc.loc)
			}
		})
	}
}

func BenchmarkParseCron(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCron("*/15 9-17 * JAN-NOV MON-FRI"); err != nil {
			b.Fatal(err)
		}
	}
}
