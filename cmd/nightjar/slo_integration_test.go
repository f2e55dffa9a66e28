package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/netguard"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
	"github.com/nightjar-dev/nightjar/telemetry"
	"github.com/nightjar-dev/nightjar/web"
	otelattr "go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// shopApp is a small three-service application instrumented with the
// OpenTelemetry Go SDK: frontend calls orders, which calls payments. Each
// service has its own tracer provider (its own service.name) exporting
// with the stock OTLP/HTTP exporter to Nightjar; trace context travels in
// W3C traceparent headers. Span times come from the test's clock, so the
// test moves through minutes without waiting for them.
type shopApp struct {
	clock      *nightjar.FakeClock
	providers  []*sdktrace.TracerProvider
	tracers    map[string]trace.Tracer
	servers    map[string]*httptest.Server
	prop       propagation.TraceContext
	mu         sync.Mutex
	failPayers bool
}

func newShopApp(t *testing.T, clock *nightjar.FakeClock, endpoint, key string) *shopApp {
	t.Helper()
	a := &shopApp{clock: clock, tracers: map[string]trace.Tracer{}, servers: map[string]*httptest.Server{}}
	for i, svc := range []string{"frontend", "orders", "payments"} {
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint + "/v1/traces"), otlptracehttp.WithHeaders(map[string]string{"X-Api-Key": key})}
		// The services export three ways: protobuf, gzip-compressed
		// protobuf, and JSON.
		switch i {
		case 1:
			opts = append(opts, otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		case 2:
			opts = append(opts, otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
		}
		exp, err := otlptracehttp.New(context.Background(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
			sdktrace.WithResource(resource.NewSchemaless(otelattr.String("service.name", svc))))
		t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		a.providers = append(a.providers, tp)
		a.tracers[svc] = tp.Tracer("shop")
	}
	a.servers["payments"] = httptest.NewServer(a.handler("payments", "POST /charge", "", func() int {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.failPayers {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}))
	a.servers["orders"] = httptest.NewServer(a.handler("orders", "POST /orders", "payments", nil))
	a.servers["frontend"] = httptest.NewServer(a.handler("frontend", "GET /checkout", "orders", nil))
	for _, s := range a.servers {
		t.Cleanup(s.Close)
	}
	return a
}

// handler answers one route of a service with a SERVER span, calling next
// (with a CLIENT span) when there is one, or answering what own says.
func (a *shopApp) handler(svc, route, next string, own func() int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := a.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := a.tracers[svc].Start(ctx, route, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(a.clock.Now()),
			trace.WithAttributes(otelattr.String("http.route", strings.Fields(route)[1]), otelattr.String("enduser.id", r.Header.Get("X-User"))))
		status := http.StatusOK
		if own != nil {
			status = own()
		} else {
			status = a.call(ctx, svc, next, r.Header.Get("X-User"))
		}
		span.SetAttributes(otelattr.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, "downstream failed")
		}
		span.End(trace.WithTimestamp(a.clock.Now().Add(20 * time.Millisecond)))
		w.WriteHeader(status)
	})
}

// call makes a request to a service with a CLIENT span naming it.
func (a *shopApp) call(ctx context.Context, from, to, user string) int {
	ctx, span := a.tracers[from].Start(ctx, "call "+to, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(a.clock.Now()),
		trace.WithAttributes(otelattr.String("peer.service", to)))
	defer span.End(trace.WithTimestamp(a.clock.Now().Add(15 * time.Millisecond)))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.servers[to].URL, nil)
	req.Header.Set("X-User", user)
	a.prop.Inject(ctx, propagation.HeaderCarrier(req.Header))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		return http.StatusBadGateway
	}
	res.Body.Close()
	if res.StatusCode >= 500 {
		span.SetStatus(codes.Error, res.Status)
		return http.StatusBadGateway
	}
	return res.StatusCode
}

// checkout sends one customer request to the frontend.
func (a *shopApp) checkout(t *testing.T, user string) int {
	req, _ := http.NewRequest(http.MethodGet, a.servers["frontend"].URL, nil)
	req.Header.Set("X-User", user)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// flush makes every service export what it has.
func (a *shopApp) flush(t *testing.T) {
	for _, tp := range a.providers {
		if err := tp.ForceFlush(context.Background()); err != nil {
			t.Fatalf("export spans: %v", err)
		}
	}
}

// hook is one webhook delivery the shop scenario's receiver got: the
// path of the channel's URL and the decoded payload.
type hook struct {
	path string
	body map[string]any
}

// shopRun is what the shop scenario leaves to check.
type shopRun struct {
	a       *app
	project string
	clock   *nightjar.FakeClock
	hooks   []hook
}

// runShop sends the spans of the three-service app, through the real
// OpenTelemetry SDK and its OTLP/HTTP exporter, to a Nightjar server for
// ten minutes; payments fails from the sixth minute on, which makes the
// frontend's checkout SLO burn. configure sets the project up first, given
// the URL of a webhook receiver (any path under it is recorded).
func runShop(t *testing.T, db *store.DB, configure func(a *app, projectID, receiverURL string, now time.Time)) *shopRun {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	a := newApp(db, log, 0)
	clock := nightjar.NewFakeClock(time.Now().UTC().Truncate(time.Minute))
	p := storetest.NewProject(t, db, "Shop", clock.Now())
	key, err := a.projects.CreateKey(ctx, &nightjar.APIKey{ProjectID: p.ID, Name: "otel", Scope: nightjar.ScopeIngest}, "", clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var hooks []hook
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		hooks = append(hooks, hook{path: r.URL.Path, body: m})
		mu.Unlock()
	}))
	defer receiver.Close()
	configure(a, p.ID, receiver.URL, clock.Now())
	def := slo.Definition{Service: "frontend", Name: "checkout", Objective: 99, Window: slo.Window{Rolling: "7d"},
		Indicator: slo.Indicator{Kind: slo.KindAvailability, Selector: slo.Selector{SpanName: "GET /checkout"}}}
	if err := a.slos.Create(ctx, &slos.SLO{ProjectID: p.ID, Definition: def}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	srv := web.NewServer(db, a.webAreas(), clock, log, web.Config{}, telemetry.New(telemetry.Source{Checks: a.checks, Outbox: a.outbox}, log))
	nj := httptest.NewServer(srv)
	defer nj.Close()
	flush := &engine.IngestFlush{Ingest: a.ingest, Traces: a.traces, SLOs: a.slos, Clock: clock}
	eval := &engine.SLOEvaluation{SLOs: a.slos}
	cfg := config.Default()
	deliver := &engine.Outbox{Outbox: a.outbox, Clock: clock, Destinations: map[string]engine.Destinations{
		outbox.ToChannel: engine.ChannelDestinations{Channels: a.channels, Notifiers: notifiers(cfg, netguard.Policy{AllowPrivate: true})}}}
	if err := flush.Step(ctx, clock.Now()); err != nil { // loads the objective
		t.Fatal(err)
	}
	app := newShopApp(t, clock, nj.URL, key)

	// Ten minutes of 30 checkouts a minute; payments fails from the
	// sixth minute on.
	for minute := range 10 {
		app.mu.Lock()
		app.failPayers = minute >= 5
		app.mu.Unlock()
		for i := range 30 {
			clock.Set(clock.Now().Truncate(time.Minute).Add(time.Duration(i) * time.Second))
			want := http.StatusOK
			if minute >= 5 {
				want = http.StatusBadGateway
			}
			if got := app.checkout(t, fmt.Sprintf("customer-%d", i%10)); got != want {
				t.Fatalf("minute %d: checkout answered %d, want %d", minute, got, want)
			}
		}
		app.flush(t)
		clock.Set(clock.Now().Truncate(time.Minute).Add(time.Minute + slos.EvalDelay))
		for _, m := range []engine.Module{flush, eval} {
			if err := m.Step(ctx, clock.Now()); err != nil {
				t.Fatalf("%s: %v", m.Name(), err)
			}
		}
	}
	if err := deliver.Step(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	deliver.Wait()
	mu.Lock()
	defer mu.Unlock()
	return &shopRun{a: a, project: p.ID, clock: clock, hooks: hooks}
}

// TestSLOBurnsWithOpenTelemetrySDK: in a project without incident
// configuration, the frontend's checkout SLO page reaches the project's
// webhook channel through the alert stage and the outbox, with adaptive
// paging's evidence that the failures come from payments.
func TestSLOBurnsWithOpenTelemetrySDK(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := runShop(t, db, func(a *app, projectID, receiverURL string, now time.Time) {
			if err := a.channels.Create(ctx, &nightjar.Channel{ProjectID: projectID, Kind: nightjar.ChannelWebhook, Name: "oncall",
				Config: nightjar.ChannelConfig{URL: receiverURL}}, now); err != nil {
				t.Fatal(err)
			}
		})
		a, clock := r.a, r.clock

		// The SLO counted the frontend's checkout spans only: 300, half bad.
		list, _ := a.slos.List(ctx, r.project)
		_, st, err := a.slos.Status(ctx, r.project, list[0].ID, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if c := st.Decision.Budget.Counts; c.Total != 300 || c.Bad() != 150 {
			t.Errorf("budget counts = %+v, want 300 requests and 150 bad", c)
		}
		if _, firing := st.Firing[nightjar.SeverityPage]; !firing {
			t.Errorf("page not firing: %+v", st.Decision.Rules)
		}
		if b, err := a.slos.BadTimeOf(ctx, r.project, list[0].ID, clock.Now()); err != nil || b.Active != 10 || b.Down != 10 {
			t.Errorf("customers having a bad time = %+v, %v; want 10 of 10", b, err)
		}
		var page map[string]any
		for _, h := range r.hooks {
			if al, ok := h.body["alert"].(map[string]any); ok && al["severity"] == "page" && strings.HasPrefix(fmt.Sprint(al["dedup_key"]), "slo:frontend/checkout") {
				page = al
			}
		}
		if page == nil {
			t.Fatalf("no SLO page reached the webhook; got %v", r.hooks)
		}
		details, _ := page["details"].(map[string]any)
		if page["service"] != "frontend" || page["status"] != "firing" || details["budget_remaining"] == nil || details["burn_rate_long"] == nil {
			t.Errorf("page = %v", page)
		}
		// Adaptive paging's evidence: the failures originate in payments,
		// the deepest service, by every vote.
		if details["origin_service"] != "payments" || details["origin_attributed"] != "true" || !strings.HasPrefix(fmt.Sprint(details["origin_shares"]), "payments 100%") ||
			!strings.Contains(fmt.Sprint(details["origin_examples"]), "frontend: GET /checkout → frontend: call orders → orders: POST /orders → orders: call payments → payments: POST /charge") {
			t.Errorf("evidence = %v", details)
		}
	})
}

// TestSLOAdaptivePagingWithOpenTelemetrySDK: with the frontend owned by
// one team and payments by another, each team's policy paging its own
// webhook channel, the failures injected in payments make the frontend's
// checkout SLO page payments' team: one incident, of payments, on
// payments' policy, whose timeline keeps the evidence; the frontend's
// team hears nothing.
func TestSLOAdaptivePagingWithOpenTelemetrySDK(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		policies := map[string]string{}
		r := runShop(t, db, func(a *app, projectID, receiverURL string, now time.Time) {
			for _, svc := range []string{"frontend", "payments"} {
				ch := &nightjar.Channel{ProjectID: projectID, Kind: nightjar.ChannelWebhook, Name: svc + "-oncall",
					Config: nightjar.ChannelConfig{URL: receiverURL + "/" + svc}}
				must(t, a.channels.Create(ctx, ch, now))
				pol := &incident.Policy{Name: svc, Steps: []incident.Step{{Delay: 10 * time.Minute,
					Targets: []incident.Target{{Kind: incident.TargetChannel, ID: ch.ID}}}}}
				must(t, a.incidents.Policies().Create(ctx, projectID, pol, now))
				policies[svc] = pol.ID
				team := &incident.Team{Name: svc + " team", Policy: pol.ID}
				must(t, a.incidents.Teams().Create(ctx, projectID, team, now))
				must(t, a.incidents.Services().Create(ctx, projectID, &incident.Service{Name: svc, Team: team.ID, Config: incident.DefaultServiceConfig()}, now))
			}
		})
		incs, err := r.a.incidents.Incidents(ctx, r.project, incidents.IncidentFilter{})
		must(t, err)
		if len(incs) != 1 || incs[0].Service != "payments" || incs[0].Policy != policies["payments"] || !strings.HasPrefix(incs[0].Alerts[0].DedupKey, "slo:frontend/checkout") {
			t.Fatalf("incidents = %+v, want one of payments on its policy", incs)
		}
		tl, err := r.a.incidents.Timeline(ctx, r.project, incs[0].ID)
		must(t, err)
		var evidence string
		for _, e := range tl {
			if e.Kind == incidents.EntryOrigin {
				evidence = e.Text
			}
		}
		for _, want := range []string{"Paged as payments's, where the failures originate, rather than as frontend's", "Shares of the failing traces: payments 100%",
			"frontend: GET /checkout → frontend: call orders → orders: POST /orders → orders: call payments → payments: POST /charge"} {
			if !strings.Contains(evidence, want) {
				t.Errorf("evidence %q lacks %q", evidence, want)
			}
		}
		pages := 0
		for _, h := range r.hooks {
			if h.body["event"] != "incident.page" {
				continue
			}
			pages++
			inc, _ := h.body["incident"].(map[string]any)
			al, _ := h.body["alert"].(map[string]any)
			details, _ := al["details"].(map[string]any)
			if h.path != "/payments" || inc["service"] != "payments" || al["service"] != "frontend" || details["origin_service"] != "payments" {
				t.Errorf("page to %s: incident %v, alert %v", h.path, inc, al)
			}
		}
		if pages != 1 {
			t.Errorf("%d pages, want 1; hooks %v", pages, r.hooks)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
