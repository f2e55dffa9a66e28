// Package demo is a small shop to try Nightjar on: three services, each a
// real HTTP server on the loopback interface, instrumented with the
// OpenTelemetry Go SDK and exporting their spans over OTLP/HTTP, plus a
// load generator of synthetic users. It is a source of signals for the
// flow (signals → evaluation → alerts → incidents): pointed at a Nightjar
// server, it lets a new user watch an objective burn, the count of
// customers having a bad time rise and the incident go to the team of the
// service that fails, within minutes and without an application of their
// own. `nightjar demo` runs it.
//
// # The shop
//
// A request enters at storefront, the edge, and goes as deep as it needs:
//
//	GET /checkout   storefront → orders (POST /orders) → payments (POST /charge)
//	GET /orders     storefront → orders (GET /orders)
//	GET /products   storefront
//
// Each service has its own tracer provider whose resource names it
// (service.name), answers with SERVER spans named after the route (such as
// "GET /checkout", with http.route and http.response.status_code) and
// calls the next one with CLIENT spans that carry peer.service, so that a
// failure can be traced to the service it started in. Trace context
// travels between the services in W3C traceparent headers. The edge span
// carries the user's id as enduser.id, which meaningful availability
// counts per user.
//
// # Failures
//
// Only payments fails, and only when asked to: a share of its charges
// (FailPercent, changed at run time with [App.SetFailPercent] or the
// control endpoint of [App.ControlHandler]) answer 503. The error then
// travels up: orders answers 502, and so does the storefront's checkout,
// so the edge objective burns while the deepest failing span is the
// payments service's.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// The services' names, as their resources' service.name says them.
const (
	Storefront = "storefront"
	Orders     = "orders"
	Payments   = "payments"
)

// UserHeader carries the synthetic user's id to the storefront, which
// records it as the edge span's enduser.id, as a real shop would take it
// from a session.
const UserHeader = "X-Demo-User"

// Config says where the shop sends its spans and how often payments fails.
type Config struct {
	// Endpoint is the OTLP/HTTP traces URL, such as
	// http://127.0.0.1:8080/v1/traces.
	Endpoint string
	// Headers are sent with every export, such as the ingest key.
	Headers map[string]string
	// FailPercent is the share of charges payments fails, 0 to 100.
	FailPercent float64
	// BatchTimeout is how long spans wait before they are exported: one
	// second when zero, so a burn shows soon.
	BatchTimeout time.Duration
	// Log receives a line for each service started; nil discards.
	Log *slog.Logger
}

// App is the running shop. Its methods are safe for concurrent use.
type App struct {
	failBits atomic.Uint64 // math.Float64bits of the fail percentage
	services []*service    // storefront, orders, payments
	client   *http.Client  // the users' browser
	closed   sync.Once
}

// Start starts the three services on free loopback ports. Close stops
// them and exports the spans still waiting.
func Start(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("demo: no OTLP endpoint")
	}
	if cfg.BatchTimeout <= 0 {
		cfg.BatchTimeout = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	a := &App{client: &http.Client{Timeout: 10 * time.Second}}
	if err := a.SetFailPercent(cfg.FailPercent); err != nil {
		return nil, err
	}
	// The deepest first, so that each service knows the address of the one
	// it calls.
	var next *service
	for _, name := range []string{Payments, Orders, Storefront} {
		s, err := startService(ctx, name, next, a, cfg)
		if err != nil {
			a.Close(ctx)
			return nil, err
		}
		a.services = append([]*service{s}, a.services...)
		cfg.Log.Info("demo service started", "service", name, "url", s.url)
		next = s
	}
	return a, nil
}

// StorefrontURL returns the base URL of the edge service.
func (a *App) StorefrontURL() string { return a.services[0].url }

// FailPercent returns the share of charges payments fails now.
func (a *App) FailPercent() float64 { return math.Float64frombits(a.failBits.Load()) }

// SetFailPercent changes the share of charges payments fails, 0 to 100.
func (a *App) SetFailPercent(p float64) error {
	if math.IsNaN(p) || p < 0 || p > 100 {
		return fmt.Errorf("fail percent must be from 0 to 100; got %v", p)
	}
	a.failBits.Store(math.Float64bits(p))
	return nil
}

// Visit makes one request of a user to the storefront, such as
// "/checkout", and returns the status it was answered with.
func (a *App) Visit(ctx context.Context, user, path string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.StorefrontURL()+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set(UserHeader, user)
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// Close stops the services and exports their remaining spans, giving up
// when ctx ends.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	a.closed.Do(func() {
		for _, s := range a.services {
			errs = append(errs, s.close(ctx))
		}
	})
	return errors.Join(errs...)
}

// service is one of the shop's services: a server, its tracer and a client
// for the service it calls.
type service struct {
	name     string
	url      string
	host     string
	port     int
	next     *service
	app      *App
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
	server   *http.Server
	client   *http.Client
}

var propagator = propagation.TraceContext{}

func startService(ctx context.Context, name string, next *service, a *App, cfg Config) (*service, error) {
	exp, err := otlptracehttp.New(ctx,
		otlptracehttp.WithEndpointURL(cfg.Endpoint),
		otlptracehttp.WithHeaders(cfg.Headers),
		otlptracehttp.WithCompression(otlptracehttp.GzipCompression),
		otlptracehttp.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("demo: %s exporter: %w", name, err)
	}
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(cfg.BatchTimeout)),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", name))),
	)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = provider.Shutdown(ctx)
		return nil, fmt.Errorf("demo: %s: %w", name, err)
	}
	addr := l.Addr().(*net.TCPAddr)
	s := &service{
		name: name, url: "http://" + addr.String(), host: addr.IP.String(), port: addr.Port, next: next, app: a,
		provider: provider, tracer: provider.Tracer("github.com/nightjar-dev/nightjar/demo"),
		client: &http.Client{Timeout: 5 * time.Second},
	}
	mux := http.NewServeMux()
	switch name {
	case Storefront:
		s.route(mux, "GET", "/checkout", s.forward(http.MethodPost, "/orders"))
		s.route(mux, "GET", "/orders", s.forward(http.MethodGet, "/orders"))
		s.route(mux, "GET", "/products", s.local(time.Millisecond))
	case Orders:
		s.route(mux, "POST", "/orders", s.forward(http.MethodPost, "/charge"))
		s.route(mux, "GET", "/orders", s.local(2*time.Millisecond))
	case Payments:
		s.route(mux, "POST", "/charge", s.charge)
	}
	s.server = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.server.Serve(l) }()
	return s, nil
}

func (s *service) close(ctx context.Context) error {
	return errors.Join(s.server.Shutdown(ctx), s.provider.Shutdown(ctx))
}

// handler does a route's work and returns the status to answer.
type handler func(ctx context.Context) (status int, message string)

// route serves a route inside a SERVER span that continues the caller's
// trace.
func (s *service) route(mux *http.ServeMux, method, route string, h handler) {
	mux.HandleFunc(method+" "+route, func(w http.ResponseWriter, r *http.Request) {
		ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := s.tracer.Start(ctx, method+" "+route, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
			attribute.String("http.request.method", method),
			attribute.String("http.route", route),
			attribute.String("url.path", r.URL.Path),
			attribute.String("url.scheme", "http"),
			attribute.String("server.address", s.host),
			attribute.Int("server.port", s.port),
		))
		defer span.End()
		if user := r.Header.Get(UserHeader); user != "" && s.name == Storefront {
			span.SetAttributes(attribute.String("enduser.id", user))
		}
		status, msg := h(ctx)
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			// A server span is an error only for 5xx: a 4xx is the
			// client's mistake.
			span.SetStatus(codes.Error, msg)
			span.SetAttributes(attribute.String("error.type", strconv.Itoa(status)))
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintln(w, msg)
	})
}

// local answers after a little work of its own.
func (s *service) local(work time.Duration) handler {
	return func(ctx context.Context) (int, string) {
		pause(ctx, work)
		return http.StatusOK, "ok"
	}
}

// forward calls the next service and answers 502 when it failed.
func (s *service) forward(method, path string) handler {
	return func(ctx context.Context) (int, string) {
		status, err := s.call(ctx, method, path)
		switch {
		case err != nil:
			return http.StatusBadGateway, s.next.name + " unreachable: " + err.Error()
		case status >= 500:
			return http.StatusBadGateway, fmt.Sprintf("%s answered %d", s.next.name, status)
		}
		return http.StatusOK, "ok"
	}
}

// charge is the payments service's one route, the one that fails.
func (s *service) charge(ctx context.Context) (int, string) {
	pause(ctx, 3*time.Millisecond)
	if p := s.app.FailPercent(); p > 0 && rand.Float64()*100 < p {
		return http.StatusServiceUnavailable, "card processor unavailable"
	}
	return http.StatusOK, "charged"
}

// call makes a request to the next service inside a CLIENT span, passing
// the trace on.
func (s *service) call(ctx context.Context, method, path string) (int, error) {
	ctx, span := s.tracer.Start(ctx, method+" "+path, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("http.request.method", method),
		attribute.String("url.full", s.next.url+path),
		attribute.String("server.address", s.next.host),
		attribute.Int("server.port", s.next.port),
		attribute.String("peer.service", s.next.name),
	))
	defer span.End()
	req, err := http.NewRequestWithContext(ctx, method, s.next.url+path, nil)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		return 0, err
	}
	propagator.Inject(ctx, propagation.HeaderCarrier(req.Header))
	resp, err := s.client.Do(req)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 400 {
		// A client span is an error for any 4xx or 5xx answer.
		span.SetStatus(codes.Error, resp.Status)
		span.SetAttributes(attribute.String("error.type", strconv.Itoa(resp.StatusCode)))
	}
	return resp.StatusCode, nil
}

// pause stands in for a little work, with some jitter so latency
// objectives have a spread to look at.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d/2 + rand.N(d))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
