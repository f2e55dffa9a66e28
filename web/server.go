// Package web is Nightjar's one HTTP listener: the ping endpoints (signal
// ingest, compatible with Healthchecks), the JSON APIs (Nightjar's own
// /api/v1 and Healthchecks' /api/v3), the OpenAPI document, health checks
// and Prometheus metrics. Handlers are thin: they parse and check input,
// call the areas and the store, and write the answer.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/audit"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/integrations"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/requestid"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/telemetry"
)

// Config is what the web layer needs to know beyond the store.
type Config struct {
	// BaseURL is the public URL of this server, used to build ping and
	// API URLs in responses, e.g. https://nightjar.example.com.
	BaseURL string
	// PingBodyLimit is how many bytes of a ping body are kept.
	PingBodyLimit int64
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Console serves the web console's pages at ConsolePaths; nil serves
	// a plain index page instead.
	Console      http.Handler
	ConsolePaths []string
	// IngestBodyLimit is the largest span or event body taken, once
	// decompressed: 10 MiB unless set. IngestRetryAfter is what a 429
	// asks exporters to wait: the flush interval.
	IngestBodyLimit  int64
	IngestRetryAfter time.Duration
	// IngestUserAttribute is the span attribute naming the customer
	// behind a request; enduser.id when empty.
	IngestUserAttribute string
}

// Areas are the parts of Nightjar's state the handlers use beyond the
// store: API keys resolve a request to its project, and every change is
// recorded in the audit log.
type Areas struct {
	Projects *projects.Store
	Audit    *audit.Log
	Channels *channels.Service
	Outbox   *outbox.Outbox
	// Checks creates, changes and lists checks, their pings and flips.
	Checks *checks.Service
	// Pings records pings in group commits.
	Pings *checks.Recorder
	// Alerts lists alerts.
	Alerts *alerting.Stage
	// Integrations keeps integration keys and takes in the alerts other
	// monitoring systems send with them.
	Integrations *integrations.Service
	// Incidents holds services, teams, escalation policies, on-call
	// schedules, routes, silences and maintenance windows, and incidents,
	// and answers the one-click links in incident notifications.
	Incidents *incidents.Store
	// SLOs stores service level objectives; Ingest counts spans and
	// events for them.
	SLOs   *slos.Service
	Ingest *aggregate.Aggregator
	// Traces, when set, keeps a sample of failing traces for adaptive
	// paging's evidence, fed with every span.
	Traces *aggregate.Traces
}

// Server holds the HTTP handlers' dependencies.
type Server struct {
	db       *store.DB
	projects *projects.Store
	auditLog *audit.Log
	channels *channels.Service
	outbox   *outbox.Outbox
	checks   *checks.Service
	pings    *checks.Recorder
	alerts   *alerting.Stage
	// integrations takes in Alertmanager's and PagerDuty-style alerts.
	integrations *integrations.Service
	// incidents is the incident response area.
	incidents *incidents.Store
	slos      *slos.Service
	ingest    *aggregate.Aggregator
	traces    *aggregate.Traces
	clock     nightjar.Clock
	log       *slog.Logger
	cfg       Config
	metrics   *telemetry.Metrics
	mux       *http.ServeMux
	// RefreshIngest, when set, makes ingest count by the objectives as
	// stored, after the API changed one.
	RefreshIngest func(ctx context.Context) error
	// Ready reports whether the engine has finished start-up work; nil
	// means always ready.
	Ready func() bool
}

// NewServer builds the routes.
func NewServer(db *store.DB, areas Areas, clock nightjar.Clock, log *slog.Logger, cfg Config, m *telemetry.Metrics) *Server {
	if cfg.PingBodyLimit <= 0 {
		cfg.PingBodyLimit = 100_000
	}
	if cfg.IngestBodyLimit <= 0 {
		cfg.IngestBodyLimit = 10 << 20
	}
	if cfg.IngestRetryAfter <= 0 {
		cfg.IngestRetryAfter = 10 * time.Second
	}
	if areas.Ingest == nil {
		areas.Ingest = aggregate.New(aggregate.Limits{})
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	s := &Server{db: db, projects: areas.Projects, auditLog: areas.Audit, channels: areas.Channels, outbox: areas.Outbox,
		checks: areas.Checks, pings: areas.Pings, alerts: areas.Alerts, integrations: areas.Integrations, incidents: areas.Incidents, slos: areas.SLOs, ingest: areas.Ingest, traces: areas.Traces, clock: clock, log: log, cfg: cfg, metrics: m, mux: http.NewServeMux()}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.mux.HandleFunc("/ping/{rest...}", s.handlePing)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	s.mux.HandleFunc("GET /readyz", s.handleReady)
	s.mux.Handle("GET /metrics", s.metrics.Handler())
	s.mux.HandleFunc("GET /api/openapi.json", s.handleOpenAPI)
	s.mux.HandleFunc("POST /v1/traces", s.handleTraces)
	s.routesV3()
	s.routesV1()
	s.routesBadges()
	s.routesAck()
	// An API path that names nothing answers in JSON, even when the
	// console serves every other unknown path with its page.
	s.mux.HandleFunc(apiNotFound, func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "no such API path", "")
	})
	if s.cfg.Console == nil {
		s.mux.HandleFunc("GET /{$}", s.handleIndex)
		return
	}
	for _, p := range s.cfg.ConsolePaths {
		s.mux.Handle(p, s.cfg.Console)
	}
}

// ServeHTTP gives every request an id, recovers from panics with a 500
// that carries the id, and logs the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := requestid.New()
	w.Header().Set("X-Request-Id", id)
	r = r.WithContext(requestid.With(r.Context(), id))
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in handler", "request_id", id, "method", r.Method, "path", r.URL.Path, "panic", v)
			writeJSONError(w, http.StatusInternalServerError, "internal error (request id "+id+")", "")
		}
	}()
	if strings.HasPrefix(r.URL.Path, "/api/") {
		if !s.cors(w, r) {
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// apiNotFound is the pattern of API paths that name nothing.
const apiNotFound = "/api/"

// corsMethods are the methods an API route may allow, in the order the
// Access-Control-Allow-Methods header lists them.
var corsMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// cors lets browsers call the API from any origin, as Healthchecks' API
// does: every answer says which methods the URL takes, and a preflight
// OPTIONS request is answered here with 204 and no API key. It reports
// whether the request still needs its handler.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	var allowed []string
	for _, m := range corsMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != apiNotFound {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) == 0 {
		return true // no such URL: the mux answers 404
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "X-Api-Key, Content-Type, Authorization")
	h.Set("Access-Control-Allow-Methods", strings.Join(append(allowed, "OPTIONS"), ", "))
	h.Set("Access-Control-Max-Age", "600")
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}

// requestID is the id ServeHTTP gave the request.
func requestID(ctx context.Context) string { return requestid.From(ctx) }

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		writeText(w, http.StatusServiceUnavailable, "database unavailable")
		return
	}
	if s.Ready != nil && !s.Ready() {
		writeText(w, http.StatusServiceUnavailable, "starting")
		return
	}
	writeText(w, http.StatusOK, "ready")
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Nightjar</title></head>
<body><h1>Nightjar</h1><p>The API is under <a href="/api/openapi.json">/api/</a>; pings go to <code>/ping/&lt;uuid&gt;</code>.</p></body></html>`))
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}
