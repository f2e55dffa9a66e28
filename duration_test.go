package nightjar_test

import (
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
)

func TestParseDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"90", 90 * time.Second}, {"90s", 90 * time.Second}, {"15m", 15 * time.Minute}, {"1h", time.Hour},
		{"2d", 48 * time.Hour}, {"1h30m", 90 * time.Minute}, {"1.5h", 90 * time.Minute}, {"2 days", 48 * time.Hour},
		{" 5 min ", 5 * time.Minute}, {"1w", 7 * 24 * time.Hour}, {"250ms", 250 * time.Millisecond},
		{"1d 2h", 26 * time.Hour}, {"1h, 30m", 90 * time.Minute}, {"0", 0}, {"10 Seconds", 10 * time.Second},
	} {
		got, err := nightjar.ParseDuration(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "abc", "-5", "5x", "h", "1..5h", "99999999999999999999", "1e400h", "-1h", "1h-"} {
		if got, err := nightjar.ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %s, want an error", bad, got)
		}
	}
}

func TestFormatDurationRoundTrips(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, "0s"}, {90 * time.Second, "1m30s"}, {15 * time.Minute, "15m"}, {48 * time.Hour, "2d"}, {26*time.Hour + 5*time.Second, "1d2h5s"}, {1500 * time.Millisecond, "1s500ms"}} {
		got := nightjar.FormatDuration(c.d)
		if got != c.want {
			t.Errorf("FormatDuration(%s) = %q, want %q", c.d, got, c.want)
		}
		if back, err := nightjar.ParseDuration(got); err != nil || back != c.d {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", got, back, err, c.d)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0 s", 90 * time.Millisecond: "90 ms", 45 * time.Second: "45 s",
		200 * time.Second: "3 min 20 s", time.Minute: "1 min", 125 * time.Minute: "2 h 5 min", 24 * time.Hour: "1 day", 25 * time.Hour: "25 h", 72 * time.Hour: "3 days"} {
		if got := nightjar.HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

// FuzzParseDuration: whatever a form or file holds, ParseDuration answers
// without panicking, never with a negative duration, and what it accepts
// formats to text it reads back as the same (to the millisecond).
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90", "90s", "1h30m", "2 days", "1.5h", "", "-1", "1e9h", "5x", "0.0001ms", "9223372036s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := nightjar.ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %s", s, d)
		}
		d = d.Truncate(time.Millisecond)
		back, err := nightjar.ParseDuration(nightjar.FormatDuration(d))
		if err != nil || back != d {
			t.Fatalf("%q: %s formats to %q, which reads back as %s, %v", s, d, nightjar.FormatDuration(d), back, err)
		}
	})
}
