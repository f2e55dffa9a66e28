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

// FormatMetrics renders metrics in the wire form of the "m" query parameter,
// "name:value,name2:value2", sorted by name so the same metrics always give
// the same URL. Names may hold ASCII letters, digits, '_', '.' and '-' only,
// which keeps the separators unambiguous; values must be finite because
// NaN and infinities have no meaning as a job measurement. Values use the
// shortest representation that reads back exactly. An empty map gives "".
func FormatMetrics(m map[string]float64) (string, error) {
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

// ParseMetrics reads the wire form written by FormatMetrics, so the server
// and command-line flags can accept exactly what the client sends. It
// rejects duplicate names rather than silently keeping one value. An empty
// string gives an empty, non-nil map.
func ParseMetrics(s string) (map[string]float64, error) {
	m := map[string]float64{}
	if s == "" {
		return m, nil
	}
	for pair := range strings.SplitSeq(s, ",") {
		name, raw, ok := strings.Cut(pair, ":")
		if !ok {
			return nil, fmt.Errorf("parse metric %q: want name:value", pair)
		}
		if err := validMetricName(name); err != nil {
			return nil, fmt.Errorf("parse metric %q: %w", pair, err)
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("parse metric %q: name given twice", pair)
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, fmt.Errorf("parse metric %q: %w", pair, err)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("parse metric %q: value is not finite", pair)
		}
		m[name] = v
	}
	return m, nil
}

func validMetricName(name string) error {
	if name == "" {
		return errors.New("metric name is empty")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.', c == '-':
		default:
			return fmt.Errorf("metric name %q may only hold letters, digits, '_', '.' and '-'", name)
		}
	}
	return nil
}
