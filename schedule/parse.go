package schedule

import (
	"fmt"
	"math/bits"
	"strings"
)

// Cron is a parsed five-field cron expression.
//
// A Cron is immutable once [ParseCron] returns it, so one value can be shared
// by any number of goroutines and evaluated for different time zones. Obtain
// one from ParseCron; the zero Cron never runs.
type Cron struct {
	text string

	minutes uint64 // bit m set: minute m matches
	hours   uint32 // bit h set: hour h matches
	months  uint16 // bit m set: month m (1-12) matches

	// dayTable holds, for every possible month shape, the set of matching
	// days as a bitmask (bit d for day d). The first index is the month
	// length minus 28, the second the weekday of the 1st (0 is Sunday).
	// Precomputing it makes the day search a table lookup.
	dayTable [4][7]uint32

	// fixed is true when neither the minute nor the hour field starts with
	// "*", which is Vixie cron's test for a fixed-time job.
	fixed bool
	// never is true when no calendar date can ever match, such as 30 Feb.
	never bool

	terms [numFields][]term
	// domStar and dowStar record whether the day fields start with "*",
	// which selects the AND combination of the two day fields.
	domStar, dowStar bool
}

// ParseError describes why a cron expression was rejected.
//
// It is a distinct type so that callers can tell a user's mistake, which
// deserves a 400 response quoting Error(), from other failures. Field names
// the offending field ("minute", "hour", "day-of-month", "month" or
// "day-of-week") and is empty when the problem concerns the expression as a
// whole, such as a wrong number of fields.
type ParseError struct {
	// Field is the name of the offending field, or empty.
	Field string
	// Text is the offending field as written, or empty.
	Text string
	// Msg says what was expected.
	Msg string
}

// Error formats the problem as `<field> field "<text>": <message>`, or as
// the bare message when the whole expression is at fault.
func (e *ParseError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return fmt.Sprintf("%s field %q: %s", e.Field, e.Text, e.Msg)
}

const (
	fMinute = iota
	fHour
	fDom
	fMonth
	fDow
	numFields
)

// fieldSpec describes the values one field accepts.
type fieldSpec struct {
	name     string
	min, max int
	names    []string // index is the value; nil when names are not allowed
	nameHint string
}

var specs = [numFields]fieldSpec{
	fMinute: {name: "minute", min: 0, max: 59},
	fHour:   {name: "hour", min: 0, max: 23},
	fDom:    {name: "day-of-month", min: 1, max: 31},
	fMonth: {name: "month", min: 1, max: 12, nameHint: "a month name JAN-DEC",
		names: []string{"", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	fDow: {name: "day-of-week", min: 0, max: 7, nameHint: "a weekday name SUN-SAT",
		names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

var macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

type termKind uint8

const (
	kindStar        termKind = iota // "*" or "*/n"
	kindRange                       // "a", "a-b", "a-b/n" or "a/n"
	kindLast                        // day of month "L"
	kindLastWeekday                 // day of month "LW"
	kindNearest                     // day of month "nW"
	kindLastDow                     // day of week "nL"
	kindNth                         // day of week "n#k"
)

// term is one comma-separated element of a field, kept for Describe.
type term struct {
	kind    termKind
	lo, hi  int  // values covered; lo alone for L, W, # and nL kinds
	step    int  // 1 when no step was given
	nth     int  // k of "n#k"
	openEnd bool // written as "a/n": hi is the field maximum implicitly
}

// ParseCron parses a five-field cron expression or one of the macros listed in
// the package documentation.
//
// Errors are of type *ParseError and name the field and what was expected,
// for example `day-of-week field "8": value out of range 0-7`. An expression
// that is well formed but can never run, such as "0 0 30 2 *", is accepted;
// its Next returns the zero time.
func ParseCron(expr string) (*Cron, error) {
	s := strings.TrimSpace(expr)
	if s == "" {
		return nil, &ParseError{Msg: "empty cron expression: expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily"}
	}
	parts := strings.Fields(s)
	text := strings.Join(parts, " ")
	if strings.HasPrefix(parts[0], "@") {
		macro := asciiLower(parts[0])
		if macro == "@reboot" {
			return nil, &ParseError{Msg: "@reboot runs only when the daemon starts, so it has no schedule that can be predicted"}
		}
		expansion, ok := macros[macro]
		if !ok {
			return nil, &ParseError{Msg: fmt.Sprintf("unknown macro %q: expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly", parts[0])}
		}
		if len(parts) != 1 {
			return nil, &ParseError{Msg: fmt.Sprintf("macro %s must stand alone, without further fields", parts[0])}
		}
		c, err := parseFields(strings.Fields(expansion))
		if err != nil {
			return nil, err
		}
		c.text = macro
		return c, nil
	}
	if len(parts) != numFields {
		return nil, &ParseError{Msg: fmt.Sprintf("expected 5 fields (minute hour day-of-month month day-of-week), found %d", len(parts))}
	}
	c, err := parseFields(parts)
	if err != nil {
		return nil, err
	}
	c.text = text
	return c, nil
}

// String returns the expression in canonical spacing (fields separated by
// single spaces, macros in lower case), so that it can be stored and parsed
// again to an equivalent Cron.
func (c *Cron) String() string { return c.text }

func parseFields(parts []string) (*Cron, error) {
	c := &Cron{}
	var masks [numFields]uint64
	for f := range numFields {
		terms, err := parseField(f, parts[f])
		if err != nil {
			return nil, err
		}
		c.terms[f] = terms
		for _, t := range terms {
			if t.kind == kindStar || t.kind == kindRange {
				for v := t.lo; v <= t.hi; v += t.step {
					masks[f] |= 1 << v
				}
			}
		}
	}
	c.minutes = masks[fMinute]
	c.hours = uint32(masks[fHour])
	c.months = uint16(masks[fMonth])
	c.fixed = parts[fMinute][0] != '*' && parts[fHour][0] != '*'
	c.domStar = parts[fDom][0] == '*'
	c.dowStar = parts[fDow][0] == '*'
	c.buildDayTable(uint32(masks[fDom]), uint8(masks[fDow]|masks[fDow]>>7))
	c.never = !c.canMatch()
	return c, nil
}

func parseField(f int, text string) ([]term, error) {
	spec := &specs[f]
	elems := strings.Split(text, ",")
	terms := make([]term, 0, len(elems))
	for _, el := range elems {
		if el == "" {
			return nil, &ParseError{Field: spec.name, Text: text, Msg: "empty element in list"}
		}
		p := termParser{spec: spec, field: text}
		t, msg := p.parse(f, el)
		if msg != "" {
			return nil, &ParseError{Field: spec.name, Text: text, Msg: msg}
		}
		terms = append(terms, t)
	}
	return terms, nil
}

// termParser parses one list element of a field. It knows the whole field
// so that messages repeat a value only when it is not the entire field.
type termParser struct {
	spec  *fieldSpec
	field string
}

// parse returns the element as a term, or a non-empty message on error.
// Letters are matched without regard to ASCII case; the element itself is
// kept as written so that messages quote the user's text.
func (p termParser) parse(f int, el string) (term, string) {
	up := asciiUpper(el)
	switch f {
	case fDom:
		switch {
		case up == "L":
			return term{kind: kindLast, step: 1}, ""
		case up == "LW":
			return term{kind: kindLastWeekday, step: 1}, ""
		case strings.HasPrefix(up, "L-"):
			return term{}, "offsets from the last day (L-n) are not supported; use L for the last day of the month"
		case strings.HasSuffix(up, "W"):
			n, msg := p.number(el[:len(el)-1], "W must follow a day of month, as in 15W (the weekday nearest the 15th)")
			if msg != "" {
				return term{}, msg
			}
			return term{kind: kindNearest, lo: n, hi: n, step: 1}, ""
		case strings.ContainsAny(up, "LW"):
			return term{}, "L and W may only be used as L, LW or nW (such as 15W), without ranges or steps"
		}
	case fDow:
		if before, after, ok := strings.Cut(el, "#"); ok {
			v, msg := p.value(before)
			if msg != "" {
				return term{}, msg
			}
			k, ok := digits(after)
			if !ok || k < 1 || k > 5 {
				return term{}, fmt.Sprintf("expected weekday#k with k from 1 to 5, as in MON#2 (the second Monday), found %q", el)
			}
			return term{kind: kindNth, lo: v % 7, hi: v % 7, nth: k, step: 1}, ""
		}
		if strings.HasSuffix(up, "L") {
			if up == "L" {
				return term{}, "L needs a weekday before it, as in 5L (the last Friday of the month)"
			}
			v, msg := p.value(el[:len(el)-1])
			if msg != "" {
				return term{}, msg
			}
			return term{kind: kindLastDow, lo: v % 7, hi: v % 7, step: 1}, ""
		}
	}

	base, stepText, hasStep := strings.Cut(el, "/")
	step := 1
	if hasStep {
		n, ok := digits(stepText)
		if !ok {
			return term{}, fmt.Sprintf("step must be a whole number, found %q", stepText)
		}
		if n < 1 {
			return term{}, "step must be at least 1"
		}
		step = n
	}
	if base == "*" {
		return term{kind: kindStar, lo: p.spec.min, hi: p.spec.max, step: step}, ""
	}
	if a, b, isRange := strings.Cut(base, "-"); isRange {
		lo, msg := p.value(a)
		if msg != "" {
			return term{}, msg
		}
		hi, msg := p.value(b)
		if msg != "" {
			return term{}, msg
		}
		if lo > hi {
			msg := fmt.Sprintf("range %s-%s runs backwards: the start must not be greater than the end", a, b)
			if p.spec.names != nil && asciiUpper(b) == "SUN" {
				msg += "; use 7 for a Sunday that ends a range, as in " + a + "-7"
			}
			return term{}, msg
		}
		return term{kind: kindRange, lo: lo, hi: hi, step: step}, ""
	}
	v, msg := p.value(base)
	if msg != "" {
		return term{}, msg
	}
	if hasStep {
		return term{kind: kindRange, lo: v, hi: p.spec.max, step: step, openEnd: true}, ""
	}
	return term{kind: kindRange, lo: v, hi: v, step: 1}, ""
}

// value parses a number or name and checks it against the field's range.
func (p termParser) value(s string) (int, string) {
	if p.spec.names != nil {
		up := asciiUpper(s)
		for i, name := range p.spec.names {
			if name != "" && up == name {
				return i, ""
			}
		}
	}
	return p.number(s, "")
}

// number parses a number within the field's range. When hint is not empty
// it replaces the generic message for text that is not a number.
func (p termParser) number(s, hint string) (int, string) {
	n, ok := digits(s)
	if !ok {
		if hint != "" {
			return 0, hint
		}
		expected := fmt.Sprintf("a number %d-%d", p.spec.min, p.spec.max)
		if p.spec.nameHint != "" {
			expected += " or " + p.spec.nameHint
		}
		return 0, fmt.Sprintf("expected %s, found %q", expected, s)
	}
	if n < p.spec.min || n > p.spec.max {
		if s == p.field {
			return 0, fmt.Sprintf("value out of range %d-%d", p.spec.min, p.spec.max)
		}
		return 0, fmt.Sprintf("value %s out of range %d-%d", s, p.spec.min, p.spec.max)
	}
	return n, ""
}

// digits parses a non-empty run of ASCII digits. Values too large for any
// field saturate instead of overflowing, so they are reported as out of
// range.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch < '0' || ch > '9' {
			return 0, false
		}
		if n < 1_000_000 {
			n = n*10 + int(ch-'0')
		}
	}
	return n, true
}

// asciiUpper upper-cases ASCII letters only, so that look-alike non-ASCII
// letters are not mistaken for names, and byte offsets stay unchanged.
func asciiUpper(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// asciiLower lower-cases ASCII letters only.
func asciiLower(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			b[i] = ch + ('a' - 'A')
		}
	}
	return string(b)
}

// buildDayTable precomputes the matching days for each month shape from the
// plain day-of-month and day-of-week bitmasks and the special terms.
func (c *Cron) buildDayTable(dom uint32, dow uint8) {
	and := c.domStar || c.dowStar
	for length := 28; length <= 31; length++ {
		full := uint32(1)<<(length+1) - 2 // bits 1..length
		for wd1 := range 7 {
			domMask := dom & full
			for _, t := range c.terms[fDom] {
				switch t.kind {
				case kindLast:
					domMask |= 1 << length
				case kindLastWeekday:
					domMask |= 1 << lastWeekday(length, wd1)
				case kindNearest:
					if t.lo <= length {
						domMask |= 1 << nearestWeekday(t.lo, length, wd1)
					}
				}
			}
			var dowMask uint64
			for w := range 7 {
				first := (w-wd1+7)%7 + 1 // first day of the month falling on weekday w
				if dow&(1<<w) != 0 {
					dowMask |= (1 | 1<<7 | 1<<14 | 1<<21 | 1<<28) << first
				}
			}
			for _, t := range c.terms[fDow] {
				first := (t.lo-wd1+7)%7 + 1
				switch t.kind {
				case kindLastDow:
					dowMask |= 1 << (first + 7*((length-first)/7))
				case kindNth:
					dowMask |= 1 << (first + 7*(t.nth-1))
				}
			}
			dowBits := uint32(dowMask) & full
			if and {
				c.dayTable[length-28][wd1] = domMask & dowBits
			} else {
				c.dayTable[length-28][wd1] = domMask | dowBits
			}
		}
	}
}

// canMatch reports whether some date can match. Every combination of month,
// month length and weekday of the 1st occurs in the Gregorian calendar, so
// checking the table for the selected months is exact.
func (c *Cron) canMatch() bool {
	if c.minutes == 0 || c.hours == 0 {
		return false
	}
	for m := 1; m <= 12; m++ {
		if c.months&(1<<m) == 0 {
			continue
		}
		lengths := []int{daysInMonth(2001, m)}
		if m == 2 {
			lengths = []int{28, 29}
		}
		for _, length := range lengths {
			for wd1 := range 7 {
				if c.dayTable[length-28][wd1] != 0 {
					return true
				}
			}
		}
	}
	return false
}

// lastWeekday returns the last Monday-to-Friday day of a month of the given
// length whose 1st falls on weekday wd1.
func lastWeekday(length, wd1 int) int {
	switch (wd1 + length - 1) % 7 {
	case 0: // Sunday
		return length - 2
	case 6: // Saturday
		return length - 1
	}
	return length
}

// nearestWeekday returns the Monday-to-Friday day nearest to day n, staying
// within the month: a Saturday moves back to Friday unless n is the 1st, and
// a Sunday moves forward to Monday unless n is the last day.
func nearestWeekday(n, length, wd1 int) int {
	switch (wd1 + n - 1) % 7 {
	case 6: // Saturday
		if n == 1 {
			return 3
		}
		return n - 1
	case 0: // Sunday
		if n == length {
			return n - 2
		}
		return n + 1
	}
	return n
}

// lowestBit returns the index of the lowest set bit.
func lowestBit[T uint16 | uint32 | uint64](x T) int {
	return bits.TrailingZeros64(uint64(x))
}
