// Package otlpin decodes the requests that bring spans and events into
// Nightjar: OpenTelemetry's OTLP/HTTP trace exports (protobuf or JSON,
// gzip-compressed or not) and Nightjar's own JSON-lines events for teams
// without tracing. It is the first step of the signals stage: it turns each
// span or event into what an objective looks at (slo.Request) plus the user
// and the instant, and answers an export with OTLP's partial success when it
// had to reject some spans. It stores nothing and knows nothing of HTTP
// beyond header values, so the front door stays thin and the decoders can be
// fuzzed on their own.
package otlpin

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/attribution"
	"github.com/nightjar-dev/nightjar/slo"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Encoding is how an OTLP/HTTP body is encoded; answers use the request's.
type Encoding int

// The encodings OTLP/HTTP allows.
const (
	Protobuf Encoding = iota
	JSON
)

// ContentType is the media type of the encoding, for the answer's
// Content-Type header.
func (e Encoding) ContentType() string {
	if e == JSON {
		return "application/json"
	}
	return "application/x-protobuf"
}

// ParseContentType tells the encoding of a request from its Content-Type
// header; false means the type is not one OTLP/HTTP defines (the answer is
// 415).
func ParseContentType(h string) (Encoding, bool) {
	mt, _, err := mime.ParseMediaType(h)
	if err != nil {
		return 0, false
	}
	switch mt {
	case "application/x-protobuf", "application/protobuf":
		return Protobuf, true
	case "application/json":
		return JSON, true
	}
	return 0, false
}

// ErrTooLarge is returned by ReadBody when the body, after decompression,
// is larger than the limit (the answer is 413).
var ErrTooLarge = errors.New("request body too large")

// ReadBody reads a request body of at most limit bytes once decompressed,
// undoing a gzip Content-Encoding. The limit applies to the decompressed
// size too, so a small bomb cannot fill memory.
func ReadBody(r io.Reader, contentEncoding string, limit int64) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(contentEncoding)) {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(io.LimitReader(r, limit+1))
		if err != nil {
			return nil, nightjar.FieldError("Content-Encoding", "body is not valid gzip: %v", err)
		}
		defer zr.Close()
		r = zr
	default:
		return nil, nightjar.FieldError("Content-Encoding", "must be gzip or absent, not %q", contentEncoding)
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nightjar.FieldError("Content-Encoding", "body is not valid gzip: %v", err)
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, ErrTooLarge
	}
	return b, nil
}

// DecodeTraces parses an OTLP export request body.
func DecodeTraces(body []byte, enc Encoding) (ptrace.Traces, error) {
	req := ptraceotlp.NewExportRequest()
	var err error
	if enc == JSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return ptrace.Traces{}, nightjar.Errorf(nightjar.EINVALID, "request body is not an OTLP trace export request: %v", err)
	}
	return req.Traces(), nil
}

// Span is one span as ingest sees it: the request an objective judges,
// who made it and when it was answered, and the ids that place it in its
// trace (for the failing-trace sample).
type Span struct {
	slo.Request
	// User is the enduser.id attribute (or the one configured); empty
	// when the span names no user.
	User string
	// At is the span's end: when the request was answered.
	At time.Time
	// TraceID, SpanID and ParentID place the span in its trace;
	// ParentID is zero for a root span.
	TraceID  [16]byte
	SpanID   [8]byte
	ParentID [8]byte
	// Peer is the peer.service or server.address attribute of a CLIENT
	// span: the service it called.
	Peer string
}

// Result is what an export's spans came to.
type Result struct {
	// Accepted and Rejected count spans.
	Accepted, Rejected int64
	// Problem describes the first rejected span, naming its field.
	Problem string
}

// Response encodes the answer to an export: empty when every span was
// taken, a partial success with the rejected count and the first problem
// otherwise.
func Response(res Result, enc Encoding) ([]byte, error) {
	if res.Rejected == 0 {
		// partial_success stays unset when every span was taken; pdata's
		// JSON would show it empty.
		if enc == JSON {
			return []byte("{}"), nil
		}
		return []byte{}, nil
	}
	resp := ptraceotlp.NewExportResponse()
	ps := resp.PartialSuccess()
	ps.SetRejectedSpans(res.Rejected)
	ps.SetErrorMessage(fmt.Sprintf("%d of %d spans rejected; the first: %s", res.Rejected, res.Rejected+res.Accepted, res.Problem))
	if enc == JSON {
		return resp.MarshalJSON()
	}
	return resp.MarshalProto()
}

// Attribute names read from spans (OpenTelemetry semantic conventions,
// with the older HTTP names still sent by many instrumentations).
const (
	DefaultUserAttribute = "enduser.id"
	attrService          = "service.name"
	attrRoute            = "http.route"
	attrStatus           = "http.response.status_code"
	attrStatusOld        = "http.status_code"
	attrPeerService      = "peer.service"
	attrServerAddress    = "server.address"
)

// MaxAttributes is how many of a span's attributes are kept for selectors;
// the rest are ignored, which only means a selector naming one of them
// does not match.
const MaxAttributes = 64

// Visitor walks decoded traces span by span. It reuses one Span (and its
// attribute map) for every call, so a visit allocates nothing per span:
// fn must not keep the pointer or the map.
type Visitor struct {
	// UserAttribute names the attribute that identifies the user;
	// DefaultUserAttribute when empty.
	UserAttribute string
	span          Span
}

// Visit calls fn for every valid span and counts the rejected ones.
// A span is rejected when its resource has no service.name, or when it has
// no trace or span id, no name, or no end time, or ends before it starts.
func (v *Visitor) Visit(td ptrace.Traces, fn func(*Span)) Result {
	var res Result
	userAttr := v.UserAttribute
	if userAttr == "" {
		userAttr = DefaultUserAttribute
	}
	if v.span.Attributes == nil {
		v.span.Attributes = make(map[string]string)
	}
	s := &v.span
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		service := ""
		if sv, ok := rs.Resource().Attributes().Get(attrService); ok && sv.Type() == pcommon.ValueTypeStr {
			service = sv.Str()
		}
		bad := checkService(service)
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				sp := spans.At(k)
				if problem := check(bad, sp); problem != "" {
					if res.Rejected == 0 {
						res.Problem = fmt.Sprintf("resource_spans[%d].scope_spans[%d].spans[%d]%s", i, j, k, problem)
					}
					res.Rejected++
					continue
				}
				v.fill(s, service, userAttr, sp)
				fn(s)
				res.Accepted++
			}
		}
	}
	return res
}

// checkService returns what is wrong with a resource's service.name, as
// check reports it, or "".
func checkService(service string) string {
	switch {
	case service == "":
		return ": the resource has no service.name attribute"
	case !nightjar.ValidText(service):
		return ": service.name must be valid UTF-8"
	}
	return ""
}

// check returns what is wrong with a span, as ".field: problem", or "";
// bad is what is wrong with its resource's service.name (checkService).
func check(bad string, sp ptrace.Span) string {
	switch {
	case bad != "":
		return bad
	case sp.TraceID().IsEmpty():
		return ".trace_id: must not be empty"
	case sp.SpanID().IsEmpty():
		return ".span_id: must not be empty"
	case sp.Name() == "":
		return ".name: must not be empty"
	case sp.EndTimestamp() == 0:
		return ".end_time_unix_nano: must be set"
	case sp.EndTimestamp() < sp.StartTimestamp():
		return ".end_time_unix_nano: must not be before start_time_unix_nano"
	}
	return ""
}

// kinds are the selector's names of span kinds.
var kinds = map[ptrace.SpanKind]string{
	ptrace.SpanKindServer:   "SERVER",
	ptrace.SpanKindClient:   "CLIENT",
	ptrace.SpanKindInternal: "INTERNAL",
	ptrace.SpanKindProducer: "PRODUCER",
	ptrace.SpanKindConsumer: "CONSUMER",
}

// fill turns a valid span into s.
func (v *Visitor) fill(s *Span, service, userAttr string, sp ptrace.Span) {
	clear(s.Attributes)
	s.Service = service
	s.SpanName = sp.Name()
	s.SpanKind = kinds[sp.Kind()]
	if s.SpanKind == "" {
		s.SpanKind = "INTERNAL" // unspecified: OpenTelemetry's default kind
	}
	s.Operation = ""
	s.Route, s.User, s.Peer = "", "", ""
	s.HTTPStatus = 0
	s.Failed = sp.Status().Code() == ptrace.StatusCodeError
	s.Duration = time.Duration(sp.EndTimestamp() - sp.StartTimestamp())
	s.At = sp.EndTimestamp().AsTime()
	s.TraceID = sp.TraceID()
	s.SpanID = sp.SpanID()
	s.ParentID = sp.ParentSpanID()
	sp.Attributes().Range(func(k string, val pcommon.Value) bool {
		switch k {
		case attrRoute:
			s.Route = val.Str()
			return true
		case attrStatus, attrStatusOld:
			if val.Type() == pcommon.ValueTypeInt {
				s.HTTPStatus = int(val.Int())
			}
			return true
		case userAttr:
			s.User = val.AsString()
			return true
		case attrPeerService:
			s.Peer = val.Str()
			return true
		case attrServerAddress:
			if s.Peer == "" {
				s.Peer = val.Str()
			}
			return true
		}
		if len(s.Attributes) >= MaxAttributes {
			return true
		}
		switch val.Type() {
		case pcommon.ValueTypeStr:
			s.Attributes[k] = val.Str()
		case pcommon.ValueTypeInt, pcommon.ValueTypeBool, pcommon.ValueTypeDouble:
			s.Attributes[k] = val.AsString()
		}
		return true
	})
	if s.SpanKind != "CLIENT" {
		s.Peer = ""
	}
}

// Attribution is the span as adaptive paging's sampler takes it.
func (s *Span) Attribution() attribution.Record {
	out := attribution.Record{TraceID: s.TraceID, SpanID: s.SpanID, ParentID: s.ParentID,
		Service: s.Service, Name: s.SpanName, Kind: s.SpanKind, Error: s.Failed || s.HTTPStatus >= 500,
		Start: s.At.Add(-s.Duration), End: s.At}
	if s.SpanKind == "CLIENT" {
		out.PeerService = s.Peer
	}
	return out
}
