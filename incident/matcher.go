package incident

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode"

	"github.com/prometheus/alertmanager/matcher/parse"
	"github.com/prometheus/alertmanager/pkg/labels"

	"github.com/nightjar-dev/nightjar"
)

// Op is how a matcher compares a label's value, as in Alertmanager.
type Op string

// Matcher operators. The regular expression ones are anchored at both ends,
// as in Alertmanager: "crit" does not match "critical", "crit.*" does.
const (
	OpEqual       Op = "="
	OpNotEqual    Op = "!="
	OpRegexp      Op = "=~"
	OpNotRegexp   Op = "!~"
	maxMatcherLen    = 4096
	maxMatchers      = 50
)

// Matcher is one condition on an alert, written in Alertmanager's matcher
// syntax (name, operator, value: severity=~"critical|page"). It is only
// made by ParseMatcher and ParseMatchers, so a Matcher always holds a
// valid, compiled regular expression when it needs one.
type Matcher struct {
	name  string
	op    Op
	value string
	re    *regexp.Regexp
}

// Matchers is a list of matchers that must all hold. An empty list matches
// every alert.
type Matchers []Matcher

// ParseMatcher parses exactly one matcher, such as severity=~"critical|page".
// Values may be double-quoted (with Go's escapes) or bare words without
// spaces or any of {}!=~,\"'`. Errors are plain: the caller names the
// field (see ParseMatcherList).
func ParseMatcher(s string) (Matcher, error) {
	ms, err := ParseMatchers(s)
	if err != nil {
		return Matcher{}, err
	}
	if len(ms) != 1 {
		return Matcher{}, fmt.Errorf("expected exactly one matcher such as severity=~\"critical|page\", found %d", len(ms))
	}
	return ms[0], nil
}

// ParseMatchers parses a comma-separated list of matchers, optionally in
// braces as amtool and Alertmanager's API print them:
// {service="db", severity!="info"}. The syntax is Alertmanager's current
// (UTF-8) one, parsed by Alertmanager's own parser so that anything
// copied from an Alertmanager configuration or silence means the same
// here.
func ParseMatchers(s string) (Matchers, error) {
	if len(s) > maxMatcherLen {
		return nil, fmt.Errorf("must be at most %d bytes", maxMatcherLen)
	}
	if !nightjar.ValidText(s) {
		return nil, fmt.Errorf("must be valid UTF-8 text without NUL bytes")
	}
	parsed, err := parse.Matchers(s)
	var bad *syntax.Error
	switch {
	case errors.As(err, &bad):
		return nil, fmt.Errorf("cannot parse %q: a value after =~ or !~ must be a regular expression: %s", s, bad.Code)
	case err != nil:
		return nil, fmt.Errorf("cannot parse %q: %v", s, err)
	}
	out := make(Matchers, 0, len(parsed))
	for _, p := range parsed {
		out = append(out, newMatcher(p))
	}
	return out, nil
}

// newMatcher turns one of Alertmanager's parsed matchers into ours. Only
// the parse is Alertmanager's: its matchers remember the outcome for
// every value they were ever asked about, which in a long-running server
// is memory that only grows.
func newMatcher(p *labels.Matcher) Matcher {
	m := Matcher{name: p.Name, value: p.Value}
	switch p.Type {
	case labels.MatchEqual:
		m.op = OpEqual
	case labels.MatchNotEqual:
		m.op = OpNotEqual
	case labels.MatchRegexp, labels.MatchNotRegexp:
		m.op = OpRegexp
		if p.Type == labels.MatchNotRegexp {
			m.op = OpNotRegexp
		}
		// The parser compiled the same expression already.
		m.re = regexp.MustCompile("^(?:" + p.Value + ")$")
	}
	return m
}

// ParseMatcherList parses a list of matchers as the API and configuration
// files give them, one matcher (or one braced list) per item, and names
// the item at fault as field[i] in the error.
func ParseMatcherList(field string, items []string) (Matchers, error) {
	if len(items) > maxMatchers {
		return nil, nightjar.FieldError(field, "must have at most %d matchers", maxMatchers)
	}
	var out Matchers
	for i, item := range items {
		ms, err := ParseMatchers(item)
		if err != nil {
			return nil, nightjar.FieldError(fmt.Sprintf("%s[%d]", field, i), "%v; expected a matcher such as severity=~\"critical|page\"", err)
		}
		out = append(out, ms...)
	}
	if len(out) > maxMatchers {
		return nil, nightjar.FieldError(field, "must have at most %d matchers", maxMatchers)
	}
	return out, nil
}

// Name returns the label the matcher looks at.
func (m Matcher) Name() string { return m.name }

// Op returns the matcher's operator.
func (m Matcher) Op() Op { return m.op }

// Value returns the value or regular expression the matcher compares with.
func (m Matcher) Value() string { return m.value }

// String returns the matcher in the syntax ParseMatcher reads, with the
// value always quoted so that it reads back the same.
func (m Matcher) String() string {
	name := m.name
	if name == "" || strings.ContainsFunc(name, reservedRune) {
		name = strconv.Quote(name)
	}
	return name + string(m.op) + strconv.Quote(m.value)
}

// reservedRune reports whether r cannot appear in an unquoted name: the
// parser's separators and operators, and anything not printable.
func reservedRune(r rune) bool {
	return unicode.IsSpace(r) || !unicode.IsPrint(r) || strings.ContainsRune("{}!=~,\\\"'`", r)
}

// String returns the list in braces, as amtool prints it.
func (ms Matchers) String() string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// matchesValue reports whether one value satisfies the matcher's positive
// form (=, =~).
func (m Matcher) matchesValue(v string) bool {
	if m.re != nil {
		return m.re.MatchString(v)
	}
	return v == m.value
}

// Matches reports whether the alert satisfies the matcher. See
// AlertValues for which values a name stands for: a positive matcher
// (=, =~) holds when any of them satisfies it, a negative one (!=, !~)
// when none satisfies its positive form. A label the alert does not have
// has the empty value, as in Alertmanager: foo="" matches alerts without
// foo, foo!="" only alerts with it.
func (m Matcher) Matches(a *nightjar.Alert) bool {
	hit := false
	for _, v := range AlertValues(a, m.name) {
		if m.matchesValue(v) {
			hit = true
			break
		}
	}
	if m.op == OpNotEqual || m.op == OpNotRegexp {
		return !hit
	}
	return hit
}

// Matches reports whether the alert satisfies every matcher of the list.
func (ms Matchers) Matches(a *nightjar.Alert) bool {
	for _, m := range ms {
		if !m.Matches(a) {
			return false
		}
	}
	return true
}

// matchesEmpty reports whether the matcher holds for an alert that has
// nothing under its name.
func (m Matcher) matchesEmpty() bool {
	return m.Matches(&nightjar.Alert{})
}

// AlertValues returns the values a matcher name stands for on an alert.
// Most names are labels. Three are also the alert's own fields, so that
// one rule covers every source: service, source and severity stand for
// both the field (severity="page" matches a check's alert, and an
// Alertmanager alert whose severity label "critical" was read as page)
// and a label of the same name (severity="critical" matches that
// Alertmanager alert too). A name the alert has no value for stands for
// the empty string.
func AlertValues(a *nightjar.Alert, name string) []string {
	var out []string
	if v, ok := a.Labels[name]; ok {
		out = append(out, v)
	}
	field := ""
	switch name {
	case "service":
		field = a.Service
	case "source":
		field = a.Source
	case "severity":
		field = string(a.Severity)
	}
	if field != "" && (len(out) == 0 || out[0] != field) {
		out = append(out, field)
	}
	if len(out) == 0 {
		out = append(out, "")
	}
	return out
}
