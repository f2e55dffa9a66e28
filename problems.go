package nightjar

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problems collects every field error of one input, so that a definition
// with several mistakes is answered with all of them at once rather than
// one per round trip. The pure packages that compile definitions (SLOs,
// their importers) report through it.
type Problems []*Error

// Add records a field error; the message should say what was expected.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, FieldError(field, format, args...))
}

// Text checks a name or value: valid text without control characters (they
// have no place in a name and break the lines it is shown in) and at most
// max characters; an empty value is a problem when required. It reports
// whether the value passed.
func (p *Problems) Text(field, s string, max int, required bool) bool {
	switch {
	case !ValidText(s):
		*p = append(*p, TextFieldError(field))
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		p.Add(field, "must not contain control characters such as line breaks or tabs")
	case required && strings.TrimSpace(s) == "":
		p.Add(field, "must not be empty")
	case utf8.RuneCountInString(s) > max:
		p.Add(field, "must be at most %d characters", max)
	default:
		return true
	}
	return false
}

// Err returns nil when there is no problem, and otherwise one EINVALID
// error carrying every problem's message, its field being the first
// problem's, as the domain's Validate methods do.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	msg := make([]string, len(p))
	for i, e := range p {
		msg[i] = e.Message
	}
	return &Error{Code: EINVALID, Field: p[0].Field, Message: strings.Join(msg, "; ")}
}
