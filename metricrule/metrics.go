package metricrule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Metrics is a set of named numeric values carried by one ping. Jobs report
// what they did (bytes written, rows copied) so that rules can tell a run
// that worked from one that merely exited zero.
type Metrics map[string]float64

// Limits on metrics. They bound the work and storage one ping can cause and
// keep names short enough to show in alerts.
const (
	// MaxMetrics is the most metrics one ping may carry.
	MaxMetrics = 32
	// MaxNameLen is the longest metric name, in bytes.
	MaxNameLen = 64
	// MaxQueryLen is the longest "m" query value accepted, in bytes; 32
	// metrics with long names and precise values fit well within it.
	MaxQueryLen = 4096
)

// ParseQuery parses the "m" query value of a ping: comma-separated
// name:value pairs such as "bytes:123456,rows:42". It exists so that jobs
// can report metrics with nothing more than a URL.
//
// Names match [a-zA-Z_][a-zA-Z0-9_.-]{0,63}. Values are decimal numbers in
// Go float syntax with an optional sign (42, -1.5, 1e6, 2.5E-3); NaN,
// infinities, hexadecimal and underscores are rejected because they are
// never a job's measurement and usually a sign of a broken script. Spaces
// around names and values are ignored. A name given twice, an empty pair or
// more than MaxMetrics pairs is an error, as is any value out of float64
// range: a ping whose metrics are half-understood would make rules judge
// the wrong thing. The error names the offending pair and what was
// expected. An empty string means no metrics and gives (nil, nil).
func ParseQuery(s string) (Metrics, error) {
	if len(s) > MaxQueryLen {
		return nil, fmt.Errorf("metrics value is %d bytes long; expected at most %d", len(s), MaxQueryLen)
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	pairs := strings.Split(s, ",")
	if len(pairs) > MaxMetrics {
		return nil, fmt.Errorf("metrics value has %d pairs; expected at most %d", len(pairs), MaxMetrics)
	}
	m := make(Metrics, len(pairs))
	for i, raw := range pairs {
		pair := strings.TrimSpace(raw)
		if pair == "" {
			return nil, fmt.Errorf("metric pair %d is empty; expected name:value", i+1)
		}
		name, value, ok := strings.Cut(pair, ":")
		if !ok {
			return nil, fmt.Errorf("metric pair %s: expected name:value, found no \":\"", quote(pair))
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf("metric pair %s: %w", quote(pair), err)
		}
		v, err := parseDecimal(value)
		if err != nil {
			return nil, fmt.Errorf("metric pair %s: %w", quote(pair), err)
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("metric pair %s: metric %s appears more than once; expected each name once", quote(pair), quote(name))
		}
		m[name] = v
	}
	return m, nil
}

// ParseJSON extracts metrics from a ping body when the body is a JSON
// object, so jobs that already post JSON need no second channel. Two shapes
// are understood:
//
//   - {"metrics": {"bytes": 1, "rows": 2}}: the "metrics" member is
//     authoritative. It must be an object of valid names with finite numeric
//     values and at most MaxMetrics entries; anything else is an error,
//     because the job clearly meant to report metrics and got it wrong.
//   - any other object: its numeric top-level members with valid names are
//     taken, and other members are ignored, because such a body is usually a
//     structured log record rather than a deliberate report. More than
//     MaxMetrics numeric members is an error that suggests the "metrics"
//     member, since silently choosing some would make rules flaky.
//
// Ping bodies are usually log text, so a body that is not a JSON object
// (plain text, an array, invalid JSON) gives (nil, nil) rather than an
// error. An object without metrics also gives (nil, nil).
func ParseJSON(body []byte) (Metrics, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return nil, nil // log text that happens to start with "{"
	}
	if raw, ok := top["metrics"]; ok {
		return parseMetricsMember(raw)
	}
	m := Metrics{}
	for name, raw := range top {
		if jsonKind(raw) != "a number" || checkName(name) != nil {
			continue
		}
		v, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
		if err != nil {
			continue // out of float64 range: not a measurement we can use
		}
		m[name] = v
	}
	if len(m) > MaxMetrics {
		return nil, fmt.Errorf("json body has %d numeric top-level members; expected at most %d (send the ones that matter in a \"metrics\" object)", len(m), MaxMetrics)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// parseMetricsMember reads the value of a body's "metrics" member.
func parseMetricsMember(raw json.RawMessage) (Metrics, error) {
	if kind := jsonKind(raw); kind != "an object" {
		return nil, fmt.Errorf(`json "metrics": expected an object of name: number members, got %s`, kind)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf(`json "metrics": %w`, err)
	}
	if len(obj) > MaxMetrics {
		return nil, fmt.Errorf(`json "metrics" has %d members; expected at most %d`, len(obj), MaxMetrics)
	}
	if len(obj) == 0 {
		return nil, nil
	}
	m := make(Metrics, len(obj))
	// Sorted so that the same body always reports the same error.
	for _, name := range slices.Sorted(maps.Keys(obj)) {
		if err := checkName(name); err != nil {
			return nil, fmt.Errorf(`json "metrics": %w`, err)
		}
		raw := obj[name]
		if kind := jsonKind(raw); kind != "a number" {
			return nil, fmt.Errorf(`json "metrics": metric %s: expected a number, got %s`, quote(name), kind)
		}
		text := string(bytes.TrimSpace(raw))
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf(`json "metrics": metric %s: value %s is out of range`, quote(name), quote(text))
		}
		m[name] = v
	}
	return m, nil
}

// jsonKind names the type of a valid JSON value, for error messages.
func jsonKind(raw []byte) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// checkName reports whether name is a valid metric name. Its messages are
// shared by every parser so a bad name reads the same wherever it appears.
func checkName(name string) error {
	if name == "" {
		return errors.New(`metric name is empty; expected a letter or "_" followed by letters, digits, "_", "." or "-"`)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("metric name %s is %d bytes long; expected at most %d", quote(name), len(name), MaxNameLen)
	}
	if c := name[0]; !isLetter(c) && c != '_' {
		return fmt.Errorf(`invalid metric name %s: expected a letter or "_" first`, quote(name))
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isNameChar(c) {
			return fmt.Errorf(`invalid metric name %s: expected only letters, digits, "_", "." or "-", got %s`, quote(name), quoteByteAt(name, i))
		}
	}
	return nil
}

// parseDecimal parses a metric value: an optional sign followed by a
// decimal float literal.
func parseDecimal(s string) (float64, error) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if end, ok := scanDecimal(s, i); !ok || end != len(s) || i == len(s) {
		return 0, fmt.Errorf("invalid value %s: expected a decimal number such as 42, -1.5 or 1e6", quote(s))
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("value %s is out of range", quote(s))
	}
	return v, nil
}

// scanDecimal scans a decimal float literal without sign starting at s[i]:
// digits with an optional fraction and exponent. It returns where the
// literal ends and whether it is complete.
func scanDecimal(s string, i int) (end int, ok bool) {
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return i, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			exp++
		}
		if exp == 0 {
			return i, false
		}
	}
	return i, true
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isNameChar reports whether c may appear after the first byte of a
// metric name.
func isNameChar(c byte) bool { return isBareChar(c) || c == '-' }

// isBareChar reports whether c may appear in a metric name written without
// quotes in a rule, where "-" is subtraction.
func isBareChar(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' || c == '.' }

// quote quotes s for an error message, shortening it so that a hostile
// input cannot flood logs.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// quoteByteAt quotes the character starting at s[i], whole when it is a
// multi-byte UTF-8 sequence.
func quoteByteAt(s string, i int) string {
	if i >= len(s) {
		return "end of rule"
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return fmt.Sprintf("byte 0x%02x", s[i])
	}
	return strconv.QuoteRune(r)
}
