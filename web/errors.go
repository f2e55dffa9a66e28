package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
)

var statusByCode = map[string]int{
	nightjar.EINVALID:      http.StatusBadRequest,
	nightjar.ENOTFOUND:     http.StatusNotFound,
	nightjar.ECONFLICT:     http.StatusConflict,
	nightjar.EUNAUTHORIZED: http.StatusUnauthorized,
	nightjar.EFORBIDDEN:    http.StatusForbidden,
	nightjar.ERATELIMIT:    http.StatusTooManyRequests,
	nightjar.EINTERNAL:     http.StatusInternalServerError,
}

// writeError answers with err as JSON: {"error": message, "field": ...}.
// Internal errors are logged here, once, with the request id, and the user
// sees only a generic message and that id.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := s.errorAnswer(r, err)
	writeJSONError(w, status, msg, nightjar.ErrorField(err))
}

// errorAnswer is the status and message that answer err, logging an
// internal error once, with the request id, which the message then names.
func (s *Server) errorAnswer(r *http.Request, err error) (int, string) {
	code := nightjar.ErrorCode(err)
	status, ok := statusByCode[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	msg := nightjar.ErrorMessage(err)
	if code == nightjar.EINTERNAL {
		id := requestID(r.Context())
		s.log.Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error (request id " + id + ")"
	}
	return status, msg
}

func writeJSONError(w http.ResponseWriter, status int, msg, field string) {
	body := map[string]string{"error": msg}
	if field != "" {
		body["field"] = field
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// jsonSpace is the whitespace JSON allows around values.
const jsonSpace = " \t\r\n"

// decodeJSON reads a JSON request body of at most 1 MiB into v, turning
// every way it can be wrong into an EINVALID error naming the problem. The
// body must be exactly one JSON object: Go's decoder would take null as
// "no fields" and ignore what follows the object, and so create a check
// from a body that asked for nothing of the kind. It must be UTF-8, as
// JSON is, where the decoder would quietly replace the bad bytes.
func decodeJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nightjar.Errorf(nightjar.EINVALID, "request body is larger than 1 MiB")
	} else if err != nil {
		return nightjar.Errorf(nightjar.EINVALID, "request body could not be read: %v", err)
	}
	start := len(b) - len(bytes.TrimLeft(b, jsonSpace))
	if start == len(b) {
		return nightjar.Errorf(nightjar.EINVALID, "request body is empty; expected a JSON object")
	}
	if b[start] != '{' {
		return nightjar.Errorf(nightjar.EINVALID, "request body must be one JSON object (at byte %d)", start)
	}
	if !utf8.Valid(b) {
		if field := invalidUTF8Member(b, ""); field != "" {
			return nightjar.TextFieldError(field)
		}
		return nightjar.Errorf(nightjar.EINVALID, "request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		var own *nightjar.Error
		switch {
		case errors.As(err, &own):
			return own
		case errors.As(err, &syn):
			return nightjar.Errorf(nightjar.EINVALID, "request body is not valid JSON (at byte %d)", syn.Offset)
		case errors.As(err, &typ):
			field := jsonPath(reflect.TypeOf(v), typ.Field)
			return &nightjar.Error{Code: nightjar.EINVALID, Field: field, Message: field + ": expected " + jsonKind(typ.Type.Kind().String()) + ", got " + typ.Value}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nightjar.Errorf(nightjar.EINVALID, "request body is not valid JSON (it ends too early)")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &nightjar.Error{Code: nightjar.EINVALID, Field: name, Message: name + ": unknown field; see /api/openapi.json for the fields this endpoint takes"}
		default:
			return nightjar.Errorf(nightjar.EINVALID, "request body: %v", err)
		}
	}
	end := int(dec.InputOffset())
	if rest := bytes.TrimLeft(b[end:], jsonSpace); len(rest) > 0 {
		return nightjar.Errorf(nightjar.EINVALID, "request body must be one JSON object, with nothing after it (at byte %d)", len(b)-len(rest))
	}
	return nil
}

// jsonPath turns the path of a JSON type error in a value of type t into
// the member names the client sent, as in "config.url". The decoder also
// names the Go types of embedded structs (checkInput.timeout), which mean
// nothing to a client; they are left out.
func jsonPath(t reflect.Type, field string) string {
	parts := strings.Split(field, ".")
	var out []string
	for i, name := range parts {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return strings.Join(append(out, parts[i:]...), ".")
		}
		next, embedded, ok := member(t, name)
		if !embedded {
			out = append(out, name)
		}
		if !ok {
			return strings.Join(append(out, parts[i+1:]...), ".")
		}
		t = next
	}
	return strings.Join(out, ".")
}

// member finds what a path element names in struct type t: an embedded
// struct by its type's name, or a member by its JSON name (promoted ones
// included). It returns the type found, whether it is an embedded struct,
// and whether anything was found.
func member(t reflect.Type, name string) (reflect.Type, bool, bool) {
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous {
			if f.Type.Name() == name {
				return f.Type, true, true
			}
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name || (tag == "" && f.Name == name) {
			return f.Type, false, true
		}
	}
	return nil, false, false
}

// invalidUTF8Member names the member of the JSON object in b whose value
// holds invalid UTF-8, nested members joined by dots as in "config.url",
// or returns "" when it cannot tell (the bad bytes are in a name, or b is
// not an object).
func invalidUTF8Member(b []byte, prefix string) string {
	var members map[string]json.RawMessage
	if json.Unmarshal(b, &members) != nil {
		return ""
	}
	for _, name := range slices.Sorted(maps.Keys(members)) {
		if raw := members[name]; !utf8.Valid(raw) {
			if inner := invalidUTF8Member(raw, prefix+name+"."); inner != "" {
				return inner
			}
			return prefix + name
		}
	}
	return ""
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	case "int", "int64", "int32", "float64", "float32", "uint", "uint64":
		return "a number"
	}
	return k
}
