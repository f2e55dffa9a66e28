package alertin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
)

// object reads one JSON object of a payload field by field. Each reader
// names the field it reads with its whole path (alerts[3].labels), and the
// first problem is kept: later reads return zero values, so a decoder
// reads everything and checks err once.
type object struct {
	path   string
	fields map[string]json.RawMessage
	err    *nightjar.Error
}

// jsonSpace is the whitespace JSON allows around values.
const jsonSpace = " \t\r\n"

// readBody reads a whole payload, which must be one JSON object.
func readBody(b []byte) (*object, error) {
	if rest := bytes.TrimLeft(b, jsonSpace); len(rest) == 0 || rest[0] != '{' {
		return nil, nightjar.Errorf(nightjar.EINVALID, "the body must be one JSON object")
	}
	if json.Valid(b) {
		// The usual case, checked without the copy Unmarshal makes.
	} else if err := json.Unmarshal(b, new(json.RawMessage)); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, nightjar.Errorf(nightjar.EINVALID, "the body is not valid JSON (at byte %d)", syn.Offset)
		}
		return nil, nightjar.Errorf(nightjar.EINVALID, "the body is not valid JSON")
	}
	o := &object{}
	o.decode("", b)
	if o.err != nil {
		return nil, o.err
	}
	return o, nil
}

// decode fills o from raw, which must be an object with names in UTF-8.
func (o *object) decode(path string, raw json.RawMessage) {
	o.path = path
	if err := json.Unmarshal(raw, &o.fields); err != nil || o.fields == nil {
		o.fail(strings.TrimSuffix(path, "."), "expected an object")
		return
	}
	if !utf8.Valid(raw) {
		// Values are checked as they are read. The decoder has already
		// replaced bad bytes in names, so when every value is valid the
		// bad bytes were in a name.
		for _, v := range o.fields {
			if !utf8.Valid(v) {
				return
			}
		}
		o.fail(strings.TrimSuffix(path, "."), "member names must be valid UTF-8")
	}
}

// name returns the full path of a field of o.
func (o *object) name(field string) string { return o.path + field }

// fail keeps the first problem.
func (o *object) fail(field, format string, args ...any) {
	if o.err == nil {
		if field == "" {
			field = "body"
		}
		o.err = nightjar.FieldError(field, format, args...)
	}
}

// raw returns a field's JSON, or nil when it is absent or null.
func (o *object) raw(field string) json.RawMessage {
	if o.err != nil {
		return nil
	}
	v, ok := o.fields[field]
	if !ok || string(v) == "null" {
		return nil
	}
	return v
}

// text decodes a JSON string as valid text, or fails naming field.
func (o *object) text(field string, v json.RawMessage) (string, bool) {
	var s string
	if !utf8.Valid(v) {
		o.fail(field, "must be valid UTF-8 text without NUL bytes")
		return "", false
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v, '\\') < 0 {
		// A string without escapes, in a body already checked to be
		// valid JSON, is its bytes between the quotes; most are.
		s = string(v[1 : len(v)-1])
	} else if err := json.Unmarshal(v, &s); err != nil {
		o.fail(field, "expected a string")
		return "", false
	}
	if !nightjar.ValidText(s) {
		o.fail(field, "must be valid UTF-8 text without NUL bytes")
		return "", false
	}
	return s, true
}

// str reads a string field of at most max characters (0: any length).
func (o *object) str(field string, required bool, max int) string {
	v := o.raw(field)
	if v == nil {
		if required {
			o.fail(o.name(field), "is required")
		}
		return ""
	}
	s, ok := o.text(o.name(field), v)
	switch {
	case !ok:
		return ""
	case required && s == "":
		o.fail(o.name(field), "must not be empty")
	case max > 0 && utf8.RuneCountInString(s) > max:
		o.fail(o.name(field), "must be at most %d characters", max)
	}
	return s
}

// oneOf reads a string field that must be one of the choices.
func (o *object) oneOf(field string, required bool, choices ...string) string {
	s := o.str(field, required, 0)
	if o.err != nil || (s == "" && !required) {
		return s
	}
	for _, c := range choices {
		if s == c {
			return s
		}
	}
	o.fail(o.name(field), "must be %s", orList(choices))
	return ""
}

// strMap reads an object of strings, such as labels.
func (o *object) strMap(field string) map[string]string {
	v := o.raw(field)
	if v == nil {
		return nil
	}
	var inner object
	inner.decode(o.name(field)+".", v)
	if inner.err != nil {
		o.err = inner.err
		return nil
	}
	out := make(map[string]string, len(inner.fields))
	for _, k := range slices.Sorted(maps.Keys(inner.fields)) {
		s, ok := o.text(inner.name(k), inner.fields[k])
		if !ok {
			return nil
		}
		out[k] = s
	}
	return out
}

// list reads an array of objects.
func (o *object) list(field string) []*object {
	v := o.raw(field)
	if v == nil {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		o.fail(o.name(field), "expected an array of objects")
		return nil
	}
	out := make([]*object, len(items))
	for i, raw := range items {
		out[i] = &object{}
		out[i].decode(fmt.Sprintf("%s[%d].", o.name(field), i), raw)
		if out[i].err != nil {
			o.err = out[i].err
			return nil
		}
	}
	return out
}

// obj reads a nested object; nil when absent.
func (o *object) obj(field string) *object {
	v := o.raw(field)
	if v == nil {
		return nil
	}
	inner := &object{}
	inner.decode(o.name(field)+".", v)
	if inner.err != nil {
		o.err = inner.err
		return nil
	}
	return inner
}

// count reads a non-negative whole number.
func (o *object) count(field string) int64 {
	v := o.raw(field)
	if v == nil {
		return 0
	}
	var n int64
	if err := json.Unmarshal(v, &n); err != nil || n < 0 {
		o.fail(o.name(field), "expected a whole number of at least 0")
		return 0
	}
	return n
}

// timeLayouts are the ISO 8601 forms senders use: RFC 3339, and
// PagerDuty's own examples' offset without a colon, or no zone at all
// (read as UTC).
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
}

// time reads an ISO 8601 date and time.
func (o *object) time(field string, required bool) time.Time {
	s := o.str(field, required, 100)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	o.fail(o.name(field), "expected an ISO 8601 date and time such as 2026-01-05T10:00:00Z")
	return time.Time{}
}

// webURL reads an absolute http or https URL. Links are shown to people
// and clicked, so nothing else (javascript:, data:) is taken.
func (o *object) webURL(field string, required bool) string {
	s := o.str(field, required, maxURLLength)
	if s == "" {
		return ""
	}
	if !isWebURL(s) {
		o.fail(o.name(field), "expected an absolute http or https URL")
		return ""
	}
	return s
}

// maxURLLength bounds link addresses.
const maxURLLength = 2048

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && len(s) <= maxURLLength
}

// orList joins choices as "a, b or c", quoted.
func orList(choices []string) string {
	q := make([]string, len(choices))
	for i, c := range choices {
		q[i] = fmt.Sprintf("%q", c)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
