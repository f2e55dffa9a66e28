package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/console"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/netguard"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/promsli"

	"github.com/nightjar-dev/nightjar/notify/webhook"
	"github.com/nightjar-dev/nightjar/reconcile"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/telemetry"
	"github.com/nightjar-dev/nightjar/web"
	"github.com/spf13/cobra"
)

type configFlags struct {
	file        string
	dataDir     string
	listen      string
	databaseURL string
}

func (f *configFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.file, "config", "c", "", "YAML configuration file")
	cmd.Flags().StringVar(&f.dataDir, "data", "", "data directory for the SQLite database (default ./nightjar-data, env NIGHTJAR_DATA_DIR)")
	cmd.Flags().StringVar(&f.listen, "listen", "", "address to listen on (default 127.0.0.1:8080, env NIGHTJAR_LISTEN)")
	cmd.Flags().StringVar(&f.databaseURL, "database-url", "", "PostgreSQL URL, postgres://… (env NIGHTJAR_DATABASE_URL)")
}

// load builds the configuration: defaults, file, environment, then flags.
func (f *configFlags) load() (*config.Config, error) {
	cfg := config.Default()
	if f.file != "" {
		var err error
		if cfg, err = config.Load(f.file); err != nil {
			return nil, err
		}
	}
	if err := cfg.ApplyEnv(os.Getenv); err != nil {
		return nil, err
	}
	if f.dataDir != "" {
		cfg.DataDir = f.dataDir
	}
	if f.listen != "" {
		cfg.Listen = f.listen
	}
	if f.databaseURL != "" {
		cfg.DatabaseURL = config.Secret(f.databaseURL)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func newServeCmd() *cobra.Command {
	var f configFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Nightjar server",
		Long: `Run the Nightjar server: ping endpoints, APIs, background checks and notifications.

With no flags and no configuration it keeps its data in SQLite under
./nightjar-data and listens on 127.0.0.1:8080. On the first start it creates a
project, an admin user and an API key, and prints them once.`,
		Example: `  nightjar serve
  nightjar serve --listen 0.0.0.0:8080 --data /var/lib/nightjar
  NIGHTJAR_DATABASE_URL=postgres://nightjar@db/nightjar nightjar serve
  nightjar serve -c nightjar.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.load()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, cfg, serveOptions{stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr()})
		},
	}
	f.register(cmd)
	return cmd
}

// httpTimeouts bound how long one connection may hold the server, so
// clients that send slowly, never read their answer or sit idle cannot
// pile up connections.
type httpTimeouts struct {
	// ReadHeader bounds the request line and headers; Read the whole
	// request, body included; Write the time from the end of the headers
	// to the end of the answer; Idle a kept-alive connection's wait for
	// its next request.
	ReadHeader, Read, Write, Idle time.Duration
}

// defaultHTTPTimeouts let a 10 MiB ping body arrive at 2 Mbit/s (42 s) within
// Read, and Write outlasts Read, so a body that arrived in time is always
// answered. Idle outlasts the 60 s that load balancers commonly keep an
// idle connection, so they never send on a connection Nightjar is
// closing.
var defaultHTTPTimeouts = httpTimeouts{ReadHeader: 10 * time.Second, Read: 60 * time.Second, Write: 75 * time.Second, Idle: 75 * time.Second}

// server returns an http.Server with the timeouts.
func (t httpTimeouts) server(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write, IdleTimeout: t.Idle}
}

// serveOptions are what a caller of serve chooses beyond the
// configuration.
type serveOptions struct {
	stdout, stderr io.Writer
	// ready, when set, receives the listening address once the server
	// accepts requests.
	ready chan<- string
	// timeouts are the listener's connection timeouts;
	// defaultHTTPTimeouts when zero. Tests shorten them.
	timeouts httpTimeouts
	// connState, when set, is told of every connection's state changes.
	connState func(net.Conn, http.ConnState)
}

// serve runs the server until ctx ends.
func serve(ctx context.Context, cfg *config.Config, opts serveOptions) error {
	stdout, stderr := opts.stdout, opts.stderr
	log := newLogger(cfg, stderr)
	clock := nightjar.SystemClock{}
	a, err := openApp(ctx, cfg, log.With("component", "store"))
	if err != nil {
		return err
	}
	defer a.Close()
	db := a.db
	log.Info("database ready", "dialect", db.Dialect())

	if err := bootstrap(ctx, a, cfg, clock.Now(), stdout, log); err != nil {
		return err
	}
	if len(cfg.Projects) > 0 {
		changes, err := reconcile.Apply(ctx, db, a.reconcileAreas(), cfg, os.Getenv, clock.Now(), false)
		if err != nil {
			return fmt.Errorf("apply configuration: %w", err)
		}
		for _, c := range changes {
			log.Info("configuration applied", "change", c.String())
		}
	}
	if err := engine.RecoverAfterOutage(ctx, a.checks, clock.Now(), log.With("component", "engine")); err != nil {
		return err
	}

	metrics := telemetry.New(telemetry.Source{Checks: a.checks, Outbox: a.outbox}, log)
	recorder := a.checks.NewRecorder(cfg.PingRetention, metrics.BatchCommitted)
	proxies, _ := cfg.ParsedTrustedProxies()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	defer ln.Close()
	baseURL := cfg.BaseURL
	if baseURL == "" {
		baseURL = "http://" + ln.Addr().String()
	}
	cons, err := console.New(db, a.consoleAreas(), clock, log.With("component", "console"), console.Config{BaseURL: baseURL, TrustedProxies: proxies})
	if err != nil {
		return err
	}
	flushEvery := time.Duration(cfg.IngestFlushInterval) * time.Second
	if err := a.refreshIngest(ctx); err != nil {
		return err
	}
	areas := a.webAreas()
	areas.Pings = recorder
	srv := web.NewServer(db, areas, clock, log.With("component", "web"), web.Config{
		BaseURL: baseURL, PingBodyLimit: cfg.PingBodyLimit, TrustedProxies: proxies,
		Console: cons, ConsolePaths: console.Paths(),
		IngestBodyLimit: cfg.IngestBodyLimit, IngestRetryAfter: flushEvery, IngestUserAttribute: cfg.IngestUserAttribute,
	}, metrics)
	srv.RefreshIngest = a.refreshIngest
	// accepting is whether the listener takes requests: /readyz says
	// not ready until it does and again once shutdown begins.
	var accepting atomic.Bool
	srv.Ready = accepting.Load

	timeouts := opts.timeouts
	if timeouts == (httpTimeouts{}) {
		timeouts = defaultHTTPTimeouts
	}
	httpSrv := timeouts.server(srv)
	httpSrv.ConnState = opts.connState

	policy := netguard.Policy{AllowPrivate: cfg.AllowPrivateNetworks}
	runner := &engine.Runner{Clock: clock, Log: log.With("component", "engine"), Metrics: metrics}
	engCtx, stopEngine := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		runner.Run(engCtx,
			&engine.Deadlines{Checks: a.checks},
			&engine.Alive{Checks: a.checks},
			&engine.IngestFlush{Ingest: a.ingest, Traces: a.traces, SLOs: a.slos, Clock: clock, Log: log.With("component", "ingest"), Every: flushEvery},
			&engine.SLOEvaluation{SLOs: a.slos, Prometheus: promsli.New(policy, 0), Log: log.With("component", "slo")},
			a.retention(),
			&engine.Escalation{Incidents: a.incidents},
			&engine.Outbox{Outbox: a.outbox, Destinations: map[string]engine.Destinations{
				outbox.ToChannel: engine.ChannelDestinations{Channels: a.channels, Notifiers: notifiers(cfg, policy)},
				outbox.ToContact: engine.ContactDestinations{Incidents: a.incidents, Notifiers: notifiers(cfg, policy)},
			}, Metrics: metrics, Log: log.With("component", "outbox"), ConsoleURL: baseURL, Clock: clock},
		)
	}()

	if addr := os.Getenv("NIGHTJAR_PPROF_LISTEN"); addr != "" {
		// Opt-in profiling on its own listener, never on the public one.
		go func() {
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			log.Warn("profiling endpoint enabled", "addr", addr)
			// A CPU profile takes ?seconds= (30 by default) to write.
			t := defaultHTTPTimeouts
			t.Write = 5 * time.Minute
			psrv := t.server(mux)
			psrv.Addr = addr
			if err := psrv.ListenAndServe(); err != nil {
				log.Error("profiling endpoint", "err", err)
			}
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	accepting.Store(true)
	log.Info("nightjar is listening", "addr", ln.Addr().String(), "base_url", baseURL, "version", version)
	if opts.ready != nil {
		opts.ready <- ln.Addr().String()
	}

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	log.Info("shutting down")
	accepting.Store(false)
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = httpSrv.Shutdown(sctx)
	recorder.Close()
	stopEngine()
	wg.Wait()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// notifiers builds a channel's sender. Webhooks and the chat and paging
// services go through the network guard, so a user cannot point one at an internal address unless the
// operator allowed private networks.
func notifiers(cfg *config.Config, policy netguard.Policy) engine.NotifierFor {
	client := policy.HTTPClient(20 * time.Second)
	return func(ch *nightjar.Channel) (notify.Notifier, error) {
		switch ch.Kind {
		case nightjar.ChannelWebhook:
			return webhook.New(webhook.Config{URL: ch.Config.URL, Secret: ch.Config.Secret, Headers: ch.Config.Headers}, client), nil
		case nightjar.ChannelEmail:
			if cfg.SMTP.Host == "" {
				return nil, errors.New("email channel: no SMTP server configured (smtp.host)")
			}
			return newEmailNotifier(cfg, ch)
		}
		if build, ok := serviceNotifiers[ch.Kind]; ok {
			return build(ch, client), nil
		}
		return nil, fmt.Errorf("unknown channel kind %q", ch.Kind)
	}
}

// bootstrap makes a new installation usable at once: on the first start it
// creates a project, an admin user with a random password and a read-write
// API key, and prints how to use them (once; only hashes are stored).
func bootstrap(ctx context.Context, a *app, cfg *config.Config, now time.Time, out io.Writer, log *slog.Logger) error {
	projects, err := a.projects.List(ctx)
	if err != nil {
		return err
	}
	var p *nightjar.Project
	if len(projects) == 0 {
		p = &nightjar.Project{Name: "Default"}
		if err := a.projects.Create(ctx, p, now); err != nil {
			return err
		}
		users, err := a.accounts.CountUsers(ctx)
		if err != nil {
			return err
		}
		pw := ""
		if users == 0 {
			pw = store.NewSecret(12)
			if _, err := a.accounts.CreateUser(ctx, "admin@localhost", pw, p.ID, nightjar.RoleOwner, now); err != nil {
				return err
			}
		}
		key := ""
		if cfg.BootstrapAPIKey == "" {
			if key, err = a.projects.CreateKey(ctx, &nightjar.APIKey{ProjectID: p.ID, Name: "default", Scope: nightjar.ScopeReadWrite}, "", now); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "\nNightjar is set up. This is shown once; keep it somewhere safe.\n\n")
		if pw != "" {
			fmt.Fprintf(out, "  Admin login:   admin@localhost\n  Password:      %s\n", pw)
		}
		if key != "" {
			fmt.Fprintf(out, "  API key:       %s   (read-write, project %q)\n", key, p.Name)
		}
		fmt.Fprintf(out, "  Ping key:      %s   (for /ping/<ping-key>/<slug> URLs)\n\n", p.PingKey)
	} else {
		p = projects[0]
	}
	if cfg.BootstrapAPIKey != "" {
		created, err := a.projects.EnsureKey(ctx, p.ID, "bootstrap", nightjar.ScopeReadWrite, string(cfg.BootstrapAPIKey), now)
		if err != nil {
			return fmt.Errorf("bootstrap api key: %w", err)
		}
		if created {
			log.Info("bootstrap api key created", "project", p.Name)
		}
	}
	return nil
}
