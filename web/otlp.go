package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/nightjar-dev/nightjar/otlpin"
	"google.golang.org/protobuf/encoding/protowire"
)

// Span ingest over OTLP/HTTP, so that a stock OpenTelemetry SDK or
// Collector exports to Nightjar by setting its endpoint and a header
// (X-Api-Key, or Authorization: Bearer) with an ingest key. Spans are not
// stored: each is matched to its project's objectives and counted in
// memory (package aggregate), and the counters are flushed every few
// seconds.

// handleTraces takes an OTLP/HTTP trace export: protobuf or JSON, gzip or
// not. Rejected spans are named in a partial success; a body over the
// limit is 413, and 429 with Retry-After asks the exporter to come back
// when ingest's memory is full (until the next flush).
func (s *Server) handleTraces(w http.ResponseWriter, r *http.Request) {
	enc, ok := otlpin.ParseContentType(r.Header.Get("Content-Type"))
	if !ok {
		writeOTLPError(w, otlpin.Protobuf, http.StatusUnsupportedMediaType, "Content-Type must be application/x-protobuf or application/json")
		return
	}
	k, err := s.authenticateIngest(r)
	if err != nil {
		s.writeOTLPFailure(w, r, enc, err)
		return
	}
	if s.ingestFull(w) {
		writeOTLPError(w, enc, http.StatusTooManyRequests, "ingest is at its memory limit; retry after the next flush")
		return
	}
	body, err := s.ingestBody(r)
	if err != nil {
		s.writeOTLPFailure(w, r, enc, err)
		return
	}
	td, err := otlpin.DecodeTraces(body, enc)
	if err != nil {
		s.writeOTLPFailure(w, r, enc, err)
		return
	}
	now := s.clock.Now()
	v := otlpin.Visitor{UserAttribute: s.cfg.IngestUserAttribute}
	res := v.Visit(td, func(sp *otlpin.Span) {
		s.ingest.Observe(k.ProjectID, &sp.Request, sp.User, sp.At, now)
		if s.traces != nil {
			s.traces.Add(k.ProjectID, sp.Attribution(), now)
		}
	})
	out, err := otlpin.Response(res, enc)
	if err != nil {
		s.writeOTLPFailure(w, r, enc, err)
		return
	}
	w.Header().Set("Content-Type", enc.ContentType())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// ingestBody reads a span or event body up to the configured limit,
// undoing gzip.
func (s *Server) ingestBody(r *http.Request) ([]byte, error) {
	return otlpin.ReadBody(r.Body, r.Header.Get("Content-Encoding"), s.cfg.IngestBodyLimit)
}

// ingestFull reports whether ingest refuses requests until the next
// flush, and then sets the Retry-After header.
func (s *Server) ingestFull(w http.ResponseWriter) bool {
	if !s.ingest.Full() {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.IngestRetryAfter.Seconds())))
	return true
}

// writeOTLPFailure answers an error as OTLP/HTTP asks: the status of its
// code (413 for a body over the limit) and a google.rpc.Status message in
// the request's encoding. Internal errors are logged once, with the
// request id, as writeError does.
func (s *Server) writeOTLPFailure(w http.ResponseWriter, r *http.Request, enc otlpin.Encoding, err error) {
	if errors.Is(err, otlpin.ErrTooLarge) {
		writeOTLPError(w, enc, http.StatusRequestEntityTooLarge, "request body is larger than "+strconv.FormatInt(s.cfg.IngestBodyLimit, 10)+" bytes")
		return
	}
	status, msg := s.errorAnswer(r, err)
	writeOTLPError(w, enc, status, msg)
}

// grpcCodes are the gRPC status codes OTLP/HTTP's Status carries, by HTTP
// status.
var grpcCodes = map[int]int{
	http.StatusBadRequest: 3, http.StatusUnauthorized: 16, http.StatusForbidden: 7, http.StatusNotFound: 5,
	http.StatusRequestEntityTooLarge: 8, http.StatusTooManyRequests: 8, http.StatusUnsupportedMediaType: 3,
	http.StatusInternalServerError: 13,
}

// writeOTLPError writes a google.rpc.Status (code 1, message 2) in the
// request's encoding.
func writeOTLPError(w http.ResponseWriter, enc otlpin.Encoding, status int, msg string) {
	code := grpcCodes[status]
	if enc == otlpin.JSON {
		writeJSON(w, status, map[string]any{"code": code, "message": msg})
		return
	}
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(code))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, msg)
	w.Header().Set("Content-Type", enc.ContentType())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
