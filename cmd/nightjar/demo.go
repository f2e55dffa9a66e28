package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nightjar-dev/nightjar/demo"
	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel"
)

// demoFlags are `nightjar demo`'s settings.
type demoFlags struct {
	server, key, keyHeader, control string
	users                           int
	rps, failPercent                float64
	duration, report                time.Duration
}

func newDemoCmd() *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a small instrumented shop that sends its traces to Nightjar, with failures on a switch",
		Long: `Run a three-service shop (storefront → orders → payments) on loopback ports,
instrumented with the OpenTelemetry Go SDK, and a load generator of synthetic
users. The services send their spans to SERVER/v1/traces with the API key, so
objectives on them burn when payments fails.

Failures are switched at run time on the control address:
  curl -X POST 'http://127.0.0.1:8099/failures?percent=30'
  curl http://127.0.0.1:8099/failures
or with a signal: SIGUSR1 turns them off when they are on and back on (to
--fail-percent, or 50 when that is 0) when they are off.

The key is the read-write API key serve printed at its first start, or an
ingest key; it can also come from NIGHTJAR_DEMO_KEY.`,
		Example: `  nightjar demo --key "$KEY"
  nightjar demo --key "$KEY" --users 50 --rps 20 --fail-percent 10
  nightjar demo --server https://nightjar.example.com --key "$KEY" --duration 10m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.key == "" {
				f.key = os.Getenv("NIGHTJAR_DEMO_KEY")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDemo(ctx, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.server, "server", "http://127.0.0.1:8080", "Nightjar's base URL; spans go to its /v1/traces")
	fl.StringVar(&f.key, "key", "", "API key sent with the spans (env NIGHTJAR_DEMO_KEY)")
	fl.StringVar(&f.keyHeader, "key-header", "X-Api-Key", "header that carries the key")
	fl.IntVar(&f.users, "users", 20, "synthetic users, each with its own enduser.id")
	fl.Float64Var(&f.rps, "rps", 10, "requests per second of all users together")
	fl.Float64Var(&f.failPercent, "fail-percent", 0, "share of payments' charges that fail at the start, 0 to 100")
	fl.StringVar(&f.control, "control", "127.0.0.1:8099", `address of the failure switch ("" for none)`)
	fl.DurationVar(&f.duration, "duration", 0, "stop after this long (0: run until interrupted)")
	fl.DurationVar(&f.report, "report", 10*time.Second, "how often to print the requests made and failed")
	return cmd
}

func runDemo(ctx context.Context, f demoFlags, stdout, stderr io.Writer) error {
	if f.key == "" {
		return errors.New("--key is required: the API key serve printed at its first start (or NIGHTJAR_DEMO_KEY)")
	}
	if !strings.HasPrefix(f.server, "http://") && !strings.HasPrefix(f.server, "https://") {
		return fmt.Errorf("--server must be an http or https URL; got %q", f.server)
	}
	load := demo.Load{Users: f.users, RPS: f.rps}
	if err := load.Validate(); err != nil {
		return fmt.Errorf("--%w", err)
	}
	if !(f.failPercent >= 0 && f.failPercent <= 100) {
		return fmt.Errorf("--fail-percent must be from 0 to 100; got %v", f.failPercent)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "demo")
	otel.SetErrorHandler(exportErrors(log))
	endpoint := strings.TrimRight(f.server, "/") + "/v1/traces"
	app, err := demo.Start(ctx, demo.Config{
		Endpoint: endpoint, Headers: map[string]string{f.keyHeader: f.key}, FailPercent: f.failPercent, Log: log,
	})
	if err != nil {
		return fmt.Errorf("start the shop: %w", err)
	}
	defer func() {
		// Export what is left even after an interrupt.
		closeCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := app.Close(closeCtx); err != nil {
			log.Warn("demo stopped with spans not exported", "error", err)
		}
	}()
	if f.control != "" {
		l, err := net.Listen("tcp", f.control)
		if err != nil {
			return fmt.Errorf("--control: %w", err)
		}
		srv := &http.Server{Handler: app.ControlHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(l) }()
		defer srv.Close()
		fmt.Fprintf(stdout, "Failure switch: curl -X POST 'http://%s/failures?percent=30'\n", l.Addr())
	}
	toggle := make(chan os.Signal, 1)
	signal.Notify(toggle, syscall.SIGUSR1)
	defer signal.Stop(toggle)
	on := f.failPercent
	if on == 0 {
		on = 50
	}
	if f.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.duration)
		defer cancel()
	}
	fmt.Fprintf(stdout, "Shop running: %d users, %g requests/s, spans to %s; failing %g%% of charges.\n", f.users, f.rps, endpoint, app.FailPercent())

	var stats demo.Stats
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(max(f.report, time.Second))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-toggle:
				p := on
				if app.FailPercent() > 0 {
					p = 0
				}
				_ = app.SetFailPercent(p)
				log.Info("failures switched", "fail_percent", p)
			case <-tick.C:
				log.Info("load", "requests", atomic.LoadInt64(&stats.Requests), "failed", atomic.LoadInt64(&stats.Failed), "fail_percent", app.FailPercent())
			}
		}
	})
	err = app.Run(ctx, load, &stats)
	wg.Wait()
	fmt.Fprintf(stdout, "Made %d requests, %d failed.\n", stats.Requests, stats.Failed)
	return err
}

// exportErrors logs the SDK's export errors (a server that is down, a key
// it refuses), each message at most once every 30 seconds so a steady
// problem does not flood the terminal.
func exportErrors(log *slog.Logger) otel.ErrorHandlerFunc {
	var mu sync.Mutex
	last := map[string]time.Time{}
	return func(err error) {
		mu.Lock()
		defer mu.Unlock()
		msg := err.Error()
		if t, ok := last[msg]; ok && time.Since(t) < 30*time.Second {
			return
		}
		if len(last) > 100 {
			clear(last) // messages that vary must not grow the map
		}
		last[msg] = time.Now()
		log.Warn("exporting spans failed", "error", msg)
	}
}
