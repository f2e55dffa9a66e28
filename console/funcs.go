package console

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"
)

var funcs = template.FuncMap{
	"utc":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"dur":      humanDuration,
	"join":     strings.Join,
	"upper":    strings.ToUpper,
	"add":      func(a, b int) int { return a + b },
	"secs":     func(d time.Duration) int64 { return int64(d.Seconds()) },
	"truncate": truncate,
	"list":     func(s ...string) []string { return s },
	"has":      slices.Contains[[]string],
}

// humanDuration writes a duration the way people say it: "90 ms", "45 s",
// "3 min 20 s", "2 h 5 min", "3 days".
func humanDuration(d time.Duration) string {
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
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func truncate(n int, s string) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
