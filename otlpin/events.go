package otlpin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/slo"
)

// Event is one line of the event API: a request reported by a service
// that does not send traces.
//
//	{"time": "2026-11-27T10:00:00Z", "operation": "checkout", "user": "u-17",
//	 "ok": true, "latency_ms": 84, "attributes": {"region": "eu"}}
//
// Either ok or status (an HTTP status) says how it went; both may be given.
// Service names the service when the request does not give one for the
// whole batch.
type Event struct {
	Time       string            `json:"time"`
	Service    string            `json:"service,omitempty"`
	Operation  string            `json:"operation"`
	User       string            `json:"user,omitempty"`
	OK         *bool             `json:"ok,omitempty"`
	Status     *int              `json:"status,omitempty"`
	LatencyMs  *float64          `json:"latency_ms,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Limits on events.
const (
	// MaxEventText bounds an event's service, operation, user and each
	// attribute's key and value.
	MaxEventText = 200
	// MaxEventLatency is the longest latency taken: a day.
	MaxEventLatency = 24 * time.Hour
)

// DecodeEvents parses a batch of events, one JSON object a line (blank
// lines are skipped), and calls fn for each, as a Span with no trace ids.
// service is the batch's service (the request's service parameter), used
// for lines that name none. The batch is taken whole or not at all: the
// first bad line's error names the line and the field, and fn is called
// only once every line is valid.
func DecodeEvents(body []byte, service string, fn func(*Span)) (int, error) {
	var spans []Span
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64*1024), len(body)+1)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		sp, err := decodeEvent(b, service)
		if err != nil {
			err.Message = fmt.Sprintf("line %d: %s", line, err.Message)
			return 0, err
		}
		spans = append(spans, sp)
	}
	if err := sc.Err(); err != nil {
		return 0, nightjar.Errorf(nightjar.EINVALID, "line %d: %v", line+1, err)
	}
	if len(spans) == 0 {
		return 0, nightjar.Errorf(nightjar.EINVALID, "request body has no events; expected one JSON object a line")
	}
	for i := range spans {
		fn(&spans[i])
	}
	return len(spans), nil
}

// decodeEvent parses and checks one line.
func decodeEvent(b []byte, service string) (Span, *nightjar.Error) {
	var e Event
	if b[0] != '{' {
		return Span{}, nightjar.Errorf(nightjar.EINVALID, "expected a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ):
			return Span{}, nightjar.FieldError(typ.Field, "expected %s, got %s", typ.Type.Kind(), typ.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return Span{}, nightjar.FieldError(name, "unknown field; an event has time, service, operation, user, ok, status, latency_ms and attributes")
		default:
			return Span{}, nightjar.Errorf(nightjar.EINVALID, "not valid JSON: %v", err)
		}
	}
	if dec.More() {
		return Span{}, nightjar.Errorf(nightjar.EINVALID, "expected one JSON object, with nothing after it")
	}
	var sp Span
	at, err := time.Parse(time.RFC3339Nano, e.Time)
	switch {
	case e.Time == "":
		return sp, nightjar.FieldError("time", "must be set, as an RFC 3339 time")
	case err != nil:
		return sp, nightjar.FieldError("time", "must be an RFC 3339 time such as 2026-11-27T10:00:00Z")
	}
	sp.At = at.UTC()
	if e.Service == "" {
		e.Service = service
	}
	for _, f := range []struct{ name, v string }{{"service", e.Service}, {"operation", e.Operation}, {"user", e.User}} {
		if ferr := checkEventText(f.name, f.v); ferr != nil {
			return sp, ferr
		}
	}
	if e.Service == "" {
		return sp, nightjar.FieldError("service", "must be set, on the line or as the request's service parameter")
	}
	if e.Operation == "" {
		return sp, nightjar.FieldError("operation", "must not be empty")
	}
	if e.OK == nil && e.Status == nil {
		return sp, nightjar.FieldError("ok", "ok or status must say how the request went")
	}
	if e.Status != nil && (*e.Status < 100 || *e.Status > 599) {
		return sp, nightjar.FieldError("status", "must be an HTTP status from 100 to 599")
	}
	if e.LatencyMs != nil {
		l := *e.LatencyMs
		if l < 0 || math.IsNaN(l) || l > float64(MaxEventLatency/time.Millisecond) {
			return sp, nightjar.FieldError("latency_ms", "must be from 0 to %d", MaxEventLatency/time.Millisecond)
		}
		sp.Duration = time.Duration(l * float64(time.Millisecond))
	}
	if len(e.Attributes) > slo.MaxAttributes {
		return sp, nightjar.FieldError("attributes", "at most %d", slo.MaxAttributes)
	}
	for k, v := range e.Attributes {
		if ferr := checkEventText("attributes", k); ferr != nil {
			return sp, ferr
		}
		if ferr := checkEventText("attributes."+k, v); ferr != nil {
			return sp, ferr
		}
	}
	sp.Service, sp.Operation, sp.User, sp.Attributes = e.Service, e.Operation, e.User, e.Attributes
	if e.OK != nil {
		sp.Failed = !*e.OK
	}
	if e.Status != nil {
		sp.HTTPStatus = *e.Status
	}
	return sp, nil
}

// checkEventText refuses text that is too long or not valid text.
func checkEventText(field, v string) *nightjar.Error {
	if len(v) > MaxEventText {
		return nightjar.FieldError(field, "at most %d bytes", MaxEventText)
	} else if !nightjar.ValidText(v) {
		return nightjar.TextFieldError(field)
	}
	return nil
}
