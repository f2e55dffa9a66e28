package nightjar

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Durations. People write periods, grace times and run limits as "90s",
// "15m", "1h30m", "2d" or "2 days", or as a bare number of seconds (as
// Healthchecks' API takes them); the console's forms and the config file
// read them with ParseDuration, and show them back with FormatDuration, so
// what a form shows parses to the same value. HumanDuration writes them in
// prose for pages and messages.

// durationUnits are the units ParseDuration knows, by every name it takes.
var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond,
	"ms": time.Millisecond, "msec": time.Millisecond, "millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
}

// ParseDuration reads a duration such as "90s", "15m", "1h30m", "1.5h",
// "2d", "2 days" or "90" (a bare number is seconds). It refuses negative
// durations and ones longer than about 290 years, and says what it
// expected.
func ParseDuration(s string) (time.Duration, error) {
	// Go's own notation (as time.Duration prints) reads too: "1h0m0.5s",
	// "1500us" or "1500µs".
	in := strings.NewReplacer("µ", "u", "μ", "u").Replace(strings.ToLower(strings.TrimSpace(s)))
	if in == "" {
		return 0, notADuration(s)
	}
	if n, err := strconv.ParseInt(in, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	var total float64
	rest := in
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, notADuration(s)
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, notADuration(s)
		}
		rest = strings.TrimLeft(rest[i:], " ")
		j := 0
		for j < len(rest) && rest[j] >= 'a' && rest[j] <= 'z' {
			j++
		}
		unit, ok := durationUnits[rest[:j]]
		if !ok {
			return 0, notADuration(s)
		}
		total += n * float64(unit)
		rest = strings.TrimLeft(strings.TrimPrefix(strings.TrimLeft(rest[j:], " "), ","), " ")
	}
	if total >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return time.Duration(total), nil
}

func notADuration(s string) error {
	return fmt.Errorf("%q is not a duration such as 90s, 15m, 1h or 2d", s)
}

// FormatDuration writes d the short way ParseDuration reads: "2d",
// "1h30m", "15m", "90s" comes out as "1m30s", and zero as "0s".
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		name string
		size time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if n := d / u.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.size
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}

// HumanDuration writes a duration the way people say it: "90 ms",
// "45 s", "3 min 20 s", "2 h 5 min", "1 day", "3 days".
func HumanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 s"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.3g s", d.Seconds())
	case d < time.Hour:
		m, s := int(d.Minutes()), int(d.Seconds())%60
		if s == 0 {
			return fmt.Sprintf("%d min", m)
		}
		return fmt.Sprintf("%d min %d s", m, s)
	case d == 24*time.Hour:
		return "1 day"
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
