package schedule

import (
	"errors"
	"testing"
)

func TestDescribe(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"30 2 * * *", "At 02:30 every day"},
		{"*/15 * * * *", "Every 15 minutes"},
		{"0 9 * * 1-5", "At 09:00 on Monday through Friday"},
		{"0 0 L * *", "At 00:00 on the last day of the month"},
		{"* * * * *", "Every minute"},
		{"*/7 * * * *", "Every 7th minute"},
		{"0 * * * *", "Every hour"},
		{"5 * * * *", "At minute 5 of every hour"},
		{"0 */2 * * *", "Every 2 hours"},
		{"0 */5 * * *", "At minute 0 past every 5th hour"},
		{"15 */3 * * *", "At minute 15 past every 3rd hour"},
		{"*/15 9-17 * * 1-5", "Every 15 minutes from 09:00 through 17:59 on Monday through Friday"},
		{"* 3 * * *", "Every minute from 03:00 through 03:59"},
		{"0 9-17 * * *", "At minute 0 past every hour from 9 through 17"},
		{"0,30 9,17 * * *", "At 09:00, 09:30, 17:00, and 17:30 every day"},
		{"0 8,12,16,20,23 * * *", "At minute 0 past hours 8, 12, 16, 20, and 23"},
		{"1-5,10 * * * *", "At every minute from 1 through 5 and minute 10 past every hour"},
		{"0 0 1,15 * *", "At 00:00 on the 1st and 15th of the month"},
		{"0 0 1-7 * *", "At 00:00 on the 1st through 7th of the month"},
		{"0 0 */2 * *", "At 00:00 on every 2nd day of the month"},
		{"0 0 LW * *", "At 00:00 on the last weekday of the month"},
		{"0 0 15W * *", "At 00:00 on the weekday nearest the 15th of the month"},
		{"0 0 * * 5L", "At 00:00 on the last Friday of the month"},
		{"0 0 * * MON#2", "At 00:00 on the second Monday of the month"},
		{"0 0 * * 1,3,5", "At 00:00 on Monday, Wednesday, and Friday"},
		{"0 0 * * 7", "At 00:00 on Sunday"},
		{"0 0 1,15 * MON", "At 00:00 on the 1st and 15th of the month and on Monday"},
		{"0 0 */2 * MON", "At 00:00 on every 2nd day of the month if it is Monday"},
		{"0 0 1 7 *", "At 00:00 on July 1"},
		{"0 0 1 1,7 *", "At 00:00 on the 1st of the month in January and July"},
		{"0 6 * 3-5 *", "At 06:00 every day in March through May"},
		{"0 0 1 */3 *", "At 00:00 on the 1st of the month in every 3rd month"},
		{"0 0 30 2 *", "At 00:00 on February 30 (this date never occurs)"},
		{"@hourly", "Every hour"},
		{"@daily", "At 00:00 every day"},
		{"@weekly", "At 00:00 on Sunday"},
		{"@monthly", "At 00:00 on the 1st of the month"},
		{"@yearly", "At 00:00 on January 1"},
	}
	for _, tt := range tests {
		got, err := Describe(tt.expr)
		if err != nil {
			t.Errorf("Describe(%q): %v", tt.expr, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Describe(%q):\n got %q\nwant %q", tt.expr, got, tt.want)
		}
	}
}

func TestDescribeError(t *testing.T) {
	_, err := Describe("* * * * 8")
	var pe *ParseError
	if !errors.As(err, &pe) || err.Error() != `day-of-week field "8": value out of range 0-7` {
		t.Errorf("Describe error = %v, want the ParseCron error", err)
	}
}
