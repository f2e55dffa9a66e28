package pingclient

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Limits on metrics. They mirror what the server accepts in the "m" query
// parameter, so that a ping is refused here, before the job runs, rather
// than rejected by the server after it.
const (
	// MaxMetrics is the most metrics one ping may carry.
	MaxMetrics = 32
	// MaxMetricNameLen is the longest metric name, in bytes.
	MaxMetricNameLen = 64
	// MaxMetricsLen is the longest "m" value, in bytes.
	MaxMetricsLen = 4096
)

// FormatMetrics renders metrics in the wire form of the "m" query parameter,
// "name:value,name2:value2", sorted by name so the same metrics always give
// the same URL. A name starts with a letter or '_' and goes on with
// letters, digits, '_', '.' or '-', which keeps the separators unambiguous.
// Values must be finite, because NaN and infinities are never a job's
// measurement, and are written in the shortest decimal form that reads back
// exactly. An empty map gives "".
func FormatMetrics(m map[string]float64) (string, error) {
	if len(m) > MaxMetrics {
		return "", fmt.Errorf("%d metrics given; at most %d fit in one ping", len(m), MaxMetrics)
	}
	var b strings.Builder
	for i, name := range slices.Sorted(maps.Keys(m)) {
		if err := validMetricName(name); err != nil {
			return "", err
		}
		v := m[name]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("metric %q has non-finite value %v", name, v)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	}
	return b.String(), nil
}

// ParseMetrics reads the wire form written by FormatMetrics, with the same
// leniency as the server (spaces around names and values), so that
// command-line flags accept exactly what a ping may carry. Values are
// decimal numbers such as 42, -1.5 or 2.5e-3; hexadecimal, underscores, NaN
// and infinities are refused as signs of a broken script. A name given
// twice is an error rather than a silent choice. A blank string gives an
// empty, non-nil map.
func ParseMetrics(s string) (map[string]float64, error) {
	m := map[string]float64{}
	if len(s) > MaxMetricsLen {
		return nil, fmt.Errorf("parse metrics: %d bytes long, at most %d fit", len(s), MaxMetricsLen)
	}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	pairs := strings.Split(s, ",")
	if len(pairs) > MaxMetrics {
		return nil, fmt.Errorf("parse metrics: %d pairs, at most %d fit", len(pairs), MaxMetrics)
	}
	for _, pair := range pairs {
		name, raw, ok := strings.Cut(pair, ":")
		if !ok {
			return nil, fmt.Errorf("parse metric %q: want name:value", pair)
		}
		name, raw = strings.TrimSpace(name), strings.TrimSpace(raw)
		if err := validMetricName(name); err != nil {
			return nil, fmt.Errorf("parse metric %q: %w", pair, err)
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("parse metric %q: name given twice", pair)
		}
		if !isDecimal(raw) {
			return nil, fmt.Errorf("parse metric %q: value is not a decimal number such as 42, -1.5 or 1e6", pair)
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, fmt.Errorf("parse metric %q: value out of range", pair)
		}
		m[name] = v
	}
	return m, nil
}

func validMetricName(name string) error {
	if name == "" {
		return errors.New("metric name is empty")
	}
	if len(name) > MaxMetricNameLen {
		return fmt.Errorf("metric name %q is longer than %d bytes", name, MaxMetricNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
		if i == 0 && !letter {
			return fmt.Errorf("metric name %q must start with a letter or '_'", name)
		}
		if !letter && !('0' <= c && c <= '9') && c != '.' && c != '-' {
			return fmt.Errorf("metric name %q may only hold letters, digits, '_', '.' and '-'", name)
		}
	}
	return nil
}

// isDecimal reports whether s is an optionally signed decimal literal:
// digits with an optional fraction and an optional exponent.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	mantissa := digits()
	if i < len(s) && s[i] == '.' {
		i++
		mantissa += digits()
	}
	if mantissa == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
