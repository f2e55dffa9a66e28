package alertin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/nightjar-dev/nightjar"
)

// object reads one JSON object of a payload field by field. Each reader
// names the field it reads with its whole path (alerts[3].labels), and the
// first problem is kept: later reads return zero values, so a decoder
// reads everything and checks err once.
type object struct {
	path string
	node *node
	err  *nightjar.Error
}

// node is one JSON value of a payload. The whole body is read into nodes
// in one pass that also checks it is valid JSON, so no part of it is
// scanned twice: raw is the value's JSON, members an object's members (the
// last of members with one name, as encoding/json keeps), items an array's
// values. raw, and the strings read from it, share one copy of the body,
// so reading a string without escapes copies nothing.
type node struct {
	raw     string
	members []member
	items   []node
	// badName says a member name is not valid UTF-8.
	badName bool
}

// member is one member of an object node.
type member struct {
	name  string
	value node
}

// jsonSpace is the whitespace JSON allows around values.
const jsonSpace = " \t\r\n"

// parsers are kept for reuse: one reads one body at a time.
var parsers = sync.Pool{New: func() any { return new(parser) }}

// parser reads a body into nodes. Members and items of the objects and
// arrays being read wait on its stacks, and each object or array gets a
// slice of exactly its own at its end.
type parser struct {
	d       jsontext.Decoder
	body    string // the body's one copy
	members []member
	items   []node
}

// readBody reads a whole payload, which must be one JSON object.
func readBody(b []byte) (*object, error) {
	if rest := bytes.TrimLeft(b, jsonSpace); len(rest) == 0 || rest[0] != '{' {
		return nil, nightjar.Errorf(nightjar.EINVALID, "the body must be one JSON object")
	}
	n, err := parseBody(b)
	if err != nil {
		// encoding/json says where, as it always did.
		var syn *json.SyntaxError
		if errors.As(json.Unmarshal(b, new(json.RawMessage)), &syn) {
			return nil, nightjar.Errorf(nightjar.EINVALID, "the body is not valid JSON (at byte %d)", syn.Offset)
		}
		return nil, nightjar.Errorf(nightjar.EINVALID, "the body is not valid JSON")
	}
	o := &object{}
	o.decode("", n)
	if o.err != nil {
		return nil, o.err
	}
	return o, nil
}

// parseBody reads b, which must hold one JSON value, into nodes. It takes
// what encoding/json takes: invalid UTF-8 in strings and repeated member
// names are left to the readers of the fields.
func parseBody(b []byte) (*node, error) {
	p := parsers.Get().(*parser)
	defer func() {
		p.body = ""
		parsers.Put(p)
	}()
	p.body = string(b)
	p.d.Reset(bytes.NewBuffer(b), jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
	n, err := p.value()
	if err != nil {
		clear(p.members)
		clear(p.items)
		p.members, p.items = p.members[:0], p.items[:0]
		return nil, err
	}
	if _, err := p.d.ReadToken(); err != io.EOF {
		return nil, fmt.Errorf("data after the value: %v", err)
	}
	return &n, nil
}

// value reads the next value.
func (p *parser) value() (n node, err error) {
	d := &p.d
	switch d.PeekKind() {
	case '{':
		if _, err := d.ReadToken(); err != nil {
			return n, err
		}
		start, base := d.InputOffset()-1, len(p.members)
		var byName map[string]int
		for d.PeekKind() != '}' {
			v, err := d.ReadValue()
			if err != nil {
				return n, err
			}
			name, ok := memberName(p.view(len(v)))
			n.badName = n.badName || !ok
			var m member
			if m.value, err = p.value(); err != nil {
				return n, err
			}
			// A later member of the same name replaces an earlier one.
			own := p.members[base:]
			i := -1
			if byName != nil {
				if j, seen := byName[name]; seen {
					i = j
				}
			} else {
				for j := range own {
					if own[j].name == name {
						i = j
						break
					}
				}
			}
			if i >= 0 {
				own[i].value = m.value
				continue
			}
			m.name = name
			p.members = append(p.members, m)
			if len(own) >= 16 {
				if byName == nil {
					byName = make(map[string]int, 2*len(own))
					for j := range own {
						byName[own[j].name] = j
					}
				}
				byName[name] = len(own)
			}
		}
		if _, err := d.ReadToken(); err != nil {
			return n, err
		}
		n.raw = p.body[start:d.InputOffset()]
		n.members = slices.Clone(p.members[base:])
		clear(p.members[base:])
		p.members = p.members[:base]
	case '[':
		if _, err := d.ReadToken(); err != nil {
			return n, err
		}
		start, base := d.InputOffset()-1, len(p.items)
		for d.PeekKind() != ']' {
			item, err := p.value()
			if err != nil {
				return n, err
			}
			p.items = append(p.items, item)
		}
		if _, err := d.ReadToken(); err != nil {
			return n, err
		}
		n.raw = p.body[start:d.InputOffset()]
		n.items = slices.Clone(p.items[base:])
		clear(p.items[base:])
		p.items = p.items[:base]
	default:
		v, err := d.ReadValue()
		if err != nil {
			return n, err
		}
		n.raw = p.view(len(v))
	}
	return n, nil
}

// view returns the last size bytes read, from the body's copy.
func (p *parser) view(size int) string {
	end := p.d.InputOffset()
	return p.body[end-int64(size) : end]
}

// memberName decodes a member name as encoding/json does (invalid UTF-8
// and lone surrogates become U+FFFD), and says whether its bytes were
// valid UTF-8.
func memberName(raw string) (string, bool) {
	ok := utf8.ValidString(raw)
	if ok && len(raw) >= 2 && strings.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], true
	}
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		// Not reached: raw is a name the parser checked.
		return raw, false
	}
	return s, ok
}

// decode makes o read n, which must be an object with names in UTF-8.
func (o *object) decode(path string, n *node) {
	o.path, o.node = path, n
	if len(n.raw) == 0 || n.raw[0] != '{' {
		o.fail(strings.TrimSuffix(path, "."), "expected an object")
		return
	}
	if n.badName {
		// Values are checked as they are read, so when a value is not
		// valid UTF-8 either, its reader names the problem.
		for i := range n.members {
			if !utf8.ValidString(n.members[i].value.raw) {
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

// get returns a field's value, or nil when it is absent or null.
func (o *object) get(field string) *node {
	if o.err != nil {
		return nil
	}
	for i := range o.node.members {
		if m := &o.node.members[i]; m.name == field {
			if m.value.raw == "null" {
				return nil
			}
			return &m.value
		}
	}
	return nil
}

// raw returns a field's JSON, or nil when it is absent or null.
func (o *object) raw(field string) json.RawMessage {
	if n := o.get(field); n != nil {
		return json.RawMessage(n.raw)
	}
	return nil
}

// text decodes a JSON string as valid text, or fails naming the field
// path+field (put together only then).
func (o *object) text(path, field string, v string) (string, bool) {
	var s string
	if !utf8.ValidString(v) {
		o.fail(path+field, "must be valid UTF-8 text without NUL bytes")
		return "", false
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && strings.IndexByte(v, '\\') < 0 {
		// A string without escapes, in a body already checked to be
		// valid JSON, is its bytes between the quotes; most are.
		s = v[1 : len(v)-1]
	} else if err := json.Unmarshal([]byte(v), &s); err != nil {
		o.fail(path+field, "expected a string")
		return "", false
	}
	if !nightjar.ValidText(s) {
		o.fail(path+field, "must be valid UTF-8 text without NUL bytes")
		return "", false
	}
	return s, true
}

// str reads a string field of at most max characters (0: any length).
func (o *object) str(field string, required bool, max int) string {
	v := o.get(field)
	if v == nil {
		if required {
			o.fail(o.name(field), "is required")
		}
		return ""
	}
	s, ok := o.text(o.path, field, v.raw)
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
	n := o.get(field)
	if n == nil {
		return nil
	}
	var inner object
	inner.decode(o.name(field)+".", n)
	if inner.err != nil {
		o.err = inner.err
		return nil
	}
	// In name order, so the first problem named is always the same one.
	slices.SortFunc(n.members, func(a, b member) int { return strings.Compare(a.name, b.name) })
	out := make(map[string]string, len(n.members))
	for i := range n.members {
		m := &n.members[i]
		s, ok := o.text(inner.path, m.name, m.value.raw)
		if !ok {
			return nil
		}
		out[m.name] = s
	}
	return out
}

// list reads an array of objects.
func (o *object) list(field string) []*object {
	n := o.get(field)
	if n == nil {
		return nil
	}
	if n.raw[0] != '[' {
		o.fail(o.name(field), "expected an array of objects")
		return nil
	}
	out := make([]*object, len(n.items))
	items := make([]object, len(n.items))
	for i := range n.items {
		out[i] = &items[i]
		out[i].decode(o.name(field)+"["+strconv.Itoa(i)+"].", &n.items[i])
		if out[i].err != nil {
			o.err = out[i].err
			return nil
		}
	}
	return out
}

// obj reads a nested object; nil when absent.
func (o *object) obj(field string) *object {
	n := o.get(field)
	if n == nil {
		return nil
	}
	inner := &object{}
	inner.decode(o.name(field)+".", n)
	if inner.err != nil {
		o.err = inner.err
		return nil
	}
	return inner
}

// count reads a non-negative whole number.
func (o *object) count(field string) int64 {
	v := o.get(field)
	if v == nil {
		return 0
	}
	n, err := strconv.ParseInt(v.raw, 10, 64)
	if err != nil {
		// Not plain digits: what encoding/json makes of it.
		err = json.Unmarshal([]byte(v.raw), &n)
	}
	if err != nil || n < 0 {
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
