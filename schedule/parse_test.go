package schedule

import (
	"errors"
	"testing"
)

func TestParseCronErrors(t *testing.T) {
	tests := []struct {
		expr  string
		field string
		want  string
	}{
		{"", "", "empty cron expression: expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily"},
		{"   ", "", "empty cron expression: expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily"},
		{"* * * *", "", "expected 5 fields (minute hour day-of-month month day-of-week), found 4"},
		{"* * * * * *", "", "expected 5 fields (minute hour day-of-month month day-of-week), found 6"},
		{"@reboot", "", "@reboot runs only when the daemon starts, so it has no schedule that can be predicted"},
		{"@every 5m", "", `unknown macro "@every": expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly`},
		{"@daily 5", "", "macro @daily must stand alone, without further fields"},
		{"* * * * 8", "day-of-week", `day-of-week field "8": value out of range 0-7`},
		{"* * * * 1,8", "day-of-week", `day-of-week field "1,8": value 8 out of range 0-7`},
		{"60 * * * *", "minute", `minute field "60": value out of range 0-59`},
		{"* 24 * * *", "hour", `hour field "24": value out of range 0-23`},
		{"* * 0 * *", "day-of-month", `day-of-month field "0": value out of range 1-31`},
		{"* * 32 * *", "day-of-month", `day-of-month field "32": value out of range 1-31`},
		{"* * * 0 *", "month", `month field "0": value out of range 1-12`},
		{"* * * 13 *", "month", `month field "13": value out of range 1-12`},
		{"99999999999999999999 * * * *", "minute", `minute field "99999999999999999999": value out of range 0-59`},
		{"0-60 * * * *", "minute", `minute field "0-60": value 60 out of range 0-59`},
		{"-1 * * * *", "minute", `minute field "-1": expected a number 0-59, found ""`},
		{"a * * * *", "minute", `minute field "a": expected a number 0-59, found "a"`},
		{"* * * foo *", "month", `month field "foo": expected a number 1-12 or a month name JAN-DEC, found "foo"`},
		{"* * * * Monday", "day-of-week", `day-of-week field "Monday": expected a number 0-7 or a weekday name SUN-SAT, found "Monday"`},
		{"* * * * ſun", "day-of-week", `day-of-week field "ſun": expected a number 0-7 or a weekday name SUN-SAT, found "ſun"`},
		{"* * JAN * *", "day-of-month", `day-of-month field "JAN": expected a number 1-31, found "JAN"`},
		{"* * * MON *", "month", `month field "MON": expected a number 1-12 or a month name JAN-DEC, found "MON"`},
		{"1,,2 * * * *", "minute", `minute field "1,,2": empty element in list`},
		{"1, * * * *", "minute", `minute field "1,": empty element in list`},
		{"5-1 * * * *", "minute", `minute field "5-1": range 5-1 runs backwards: the start must not be greater than the end`},
		{"* * * * FRI-SUN", "day-of-week", `day-of-week field "FRI-SUN": range FRI-SUN runs backwards: the start must not be greater than the end; use 7 for a Sunday that ends a range, as in FRI-7`},
		{"1-2-3 * * * *", "minute", `minute field "1-2-3": expected a number 0-59, found "2-3"`},
		{"*/0 * * * *", "minute", `minute field "*/0": step must be at least 1`},
		{"*/ * * * *", "minute", `minute field "*/": step must be a whole number, found ""`},
		{"*/x * * * *", "minute", `minute field "*/x": step must be a whole number, found "x"`},
		{"1/2/3 * * * *", "minute", `minute field "1/2/3": step must be a whole number, found "2/3"`},
		{"/5 * * * *", "minute", `minute field "/5": expected a number 0-59, found ""`},
		{"** * * * *", "minute", `minute field "**": expected a number 0-59, found "**"`},
		{"L * * * *", "minute", `minute field "L": expected a number 0-59, found "L"`},
		{"* * L-3 * *", "day-of-month", `day-of-month field "L-3": offsets from the last day (L-n) are not supported; use L for the last day of the month`},
		{"* * L/2 * *", "day-of-month", `day-of-month field "L/2": L and W may only be used as L, LW or nW (such as 15W), without ranges or steps`},
		{"* * 1-5W * *", "day-of-month", `day-of-month field "1-5W": W must follow a day of month, as in 15W (the weekday nearest the 15th)`},
		{"* * W * *", "day-of-month", `day-of-month field "W": W must follow a day of month, as in 15W (the weekday nearest the 15th)`},
		{"* * 32W * *", "day-of-month", `day-of-month field "32W": value 32 out of range 1-31`},
		{"* * LWX * *", "day-of-month", `day-of-month field "LWX": L and W may only be used as L, LW or nW (such as 15W), without ranges or steps`},
		{"* * * * L", "day-of-week", `day-of-week field "L": L needs a weekday before it, as in 5L (the last Friday of the month)`},
		{"* * * * 8L", "day-of-week", `day-of-week field "8L": value 8 out of range 0-7`},
		{"* * * * 5L-6", "day-of-week", `day-of-week field "5L-6": expected a number 0-7 or a weekday name SUN-SAT, found "5L"`},
		{"* * * * 1#0", "day-of-week", `day-of-week field "1#0": expected weekday#k with k from 1 to 5, as in MON#2 (the second Monday), found "1#0"`},
		{"* * * * 1#6", "day-of-week", `day-of-week field "1#6": expected weekday#k with k from 1 to 5, as in MON#2 (the second Monday), found "1#6"`},
		{"* * * * #2", "day-of-week", `day-of-week field "#2": expected a number 0-7 or a weekday name SUN-SAT, found ""`},
		{"* * * * 8#2", "day-of-week", `day-of-week field "8#2": value 8 out of range 0-7`},
		{"* * * * 1##1", "day-of-week", `day-of-week field "1##1": expected weekday#k with k from 1 to 5, as in MON#2 (the second Monday), found "1##1"`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			c, err := ParseCron(tt.expr)
			if err == nil {
				t.Fatalf("ParseCron(%q) = %v, want error %q", tt.expr, c, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseCron(%q) error:\n got %s\nwant %s", tt.expr, err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError", err)
			}
			if pe.Field != tt.field {
				t.Errorf("ParseError.Field = %q, want %q", pe.Field, tt.field)
			}
		})
	}
}

func TestParseCronAccepts(t *testing.T) {
	for _, expr := range []string{
		"* * * * *",
		"  0   0\t1  1  *  ",
		"0-59 0-23 1-31 1-12 0-7",
		"00 09 01 01 00",
		"*/1 */1 */1 */1 */1",
		"*/100 */100 */100 */100 */100",
		"5/15 3/6 10/5 2/3 1/2",
		"0 0 * jan-DEC sun-Sat",
		"0 0 * * MON-7",
		"0 0 L,15 * *",
		"0 0 LW * *",
		"0 0 1W,31w * *",
		"0 0 * * 0L,7L,fril",
		"0 0 * * MON#1,5#5,sun#3",
		"0 0 30 2 *",
		"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@Daily",
	} {
		if _, err := ParseCron(expr); err != nil {
			t.Errorf("ParseCron(%q): %v", expr, err)
		}
	}
}

func TestParseCronFields(t *testing.T) {
	bitsOf := func(vals ...int) uint64 {
		var b uint64
		for _, v := range vals {
			b |= 1 << v
		}
		return b
	}
	c := mustParse(t, "5/15 1-10/3,20 * JAN,mar-APR/1,*/6 *")
	if want := bitsOf(5, 20, 35, 50); c.minutes != want {
		t.Errorf("minutes = %b, want %b", c.minutes, want)
	}
	if want := bitsOf(1, 4, 7, 10, 20); uint64(c.hours) != want {
		t.Errorf("hours = %b, want %b", c.hours, want)
	}
	if want := bitsOf(1, 3, 4, 7); uint64(c.months) != want {
		t.Errorf("months = %b, want %b", c.months, want)
	}

	fixed := map[string]bool{
		"30 2 * * *":      true,
		"0 1-5 * * *":     true,
		"0,30 1,2 * * *":  true,
		"0-59 0-23 * * *": true, // enumerating every value is still "fixed" to the daemon
		"*/15 * * * *":    false,
		"30 * * * *":      false,
		"0 */2 * * *":     false,
		"* 2 * * *":       false,
		"@daily":          true,
		"@hourly":         false,
	}
	for expr, want := range fixed {
		if got := mustParse(t, expr).fixed; got != want {
			t.Errorf("%q fixed-time = %v, want %v", expr, got, want)
		}
	}
}

func TestCronString(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"  */5   * * * mon ", "*/5 * * * mon"},
		{"0\t0 1 1 *", "0 0 1 1 *"},
		{"@DAILY", "@daily"},
		{" @weekly ", "@weekly"},
	}
	for _, tt := range tests {
		c := mustParse(t, tt.expr)
		if got := c.String(); got != tt.want {
			t.Errorf("String() of %q = %q, want %q", tt.expr, got, tt.want)
		}
		again := mustParse(t, c.String())
		if again.String() != c.String() || again.minutes != c.minutes || again.hours != c.hours ||
			again.months != c.months || again.dayTable != c.dayTable || again.fixed != c.fixed {
			t.Errorf("re-parsing %q gives a different schedule", c.String())
		}
	}
}
