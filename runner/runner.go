// Package runner wraps a command, typically a cron job, and reports its
// life to Nightjar as heartbeat signals: a start ping before the command
// runs and a finish ping, carrying the exit status and the tail of the
// output, after it ends. It is the library behind "nightjar run", and sits
// next to package pingclient at the producing end of the signal flow; the
// server turns a missing or failed finish signal into an alert.
//
// The wrapper aims to be invisible to the job: standard input, output and
// error pass through unchanged, stop and reload signals are forwarded, and
// the wrapper exits with the job's exit code whatever happens to the pings.
// Monitoring trouble is reported on the wrapper's own log, never by failing
// or delaying the job for long.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"time"

	"github.com/nightjar-dev/nightjar/pingclient"
)

// Defaults used when the matching Options field is zero.
const (
	// DefaultTailBytes is how much output the finish ping carries by
	// default: enough for an error message and its context, small enough
	// for any ping server.
	DefaultTailBytes = 10000
	// DefaultStartTimeout bounds the start ping, retries included, so an
	// unreachable server delays the job by at most this much.
	DefaultStartTimeout = 10 * time.Second
	// DefaultFinishTimeout bounds the finish ping, retries included. It is
	// longer than the start timeout because the job is done and the result
	// is the signal that matters most, but still bounded so that cron does
	// not see the wrapper hang.
	DefaultFinishTimeout = 30 * time.Second
	// DefaultWaitDelay is how long the wrapper waits, after the command
	// exits, for background processes it left behind to close its output,
	// and how long a command has to exit after a cancellation's SIGTERM
	// before it is killed.
	DefaultWaitDelay = 10 * time.Second
)

// EnvRunID names the environment variable that carries the run id to the
// job, so it can tie its own pings (for example /log) to the run.
const EnvRunID = "NIGHTJAR_RUN_ID"

// Options configure Run. Client and Target are required; everything else
// has a default.
type Options struct {
	// Client sends the pings.
	Client *pingclient.Client
	// Target is the check the pings are about.
	Target pingclient.Target
	// Create asks the server to create a slug-form check on first use.
	Create bool

	// TailBytes is how many bytes of the end of the combined output the
	// finish ping carries; zero means DefaultTailBytes and a negative value
	// sends no output. The Ping-Body-Limit returned by the start ping caps
	// the whole body further, so nothing is sent that the server would
	// discard.
	TailBytes int

	// Stdin, Stdout and Stderr are connected to the command; nil means the
	// wrapper's own. Output is copied through unchanged as it arrives,
	// though the command sees pipes rather than a terminal.
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	// Log receives the wrapper's own diagnostics, such as undelivered
	// pings. It never writes to the command's output streams; nil means a
	// text logger on the process's standard error.
	Log *slog.Logger

	// Now reads the clock for the duration in the report; nil means
	// time.Now. Tests inject a fixed clock for stable reports.
	Now func() time.Time

	// Metrics are attached to the finish ping; see pingclient.FormatMetrics.
	Metrics map[string]float64

	// Signals delivers the signals to forward to the command. Nil means
	// Run subscribes to SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and
	// SIGUSR2 itself for the duration of the call. Tests inject a channel
	// so they can forward signals without signalling the test process.
	Signals <-chan os.Signal

	// StartTimeout bounds the start ping; zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// FinishTimeout bounds the finish ping; zero means DefaultFinishTimeout.
	FinishTimeout time.Duration
	// WaitDelay bounds waiting for output pipes after the command exits
	// and for the command to exit after ctx is done; zero means
	// DefaultWaitDelay.
	WaitDelay time.Duration

	// env is the job's environment: the wrapper's plus the run id.
	env []string
}

// Run runs argv as a command and reports it to the check in opts.Target.
//
// It sends a start ping with a fresh run id, runs the command with its
// standard streams passed through and signals forwarded, then sends a
// finish ping with the same run id: success for exit status 0, /<status>
// otherwise, or /fail when the command could not be started. The finish
// ping's body is a summary line (exit status, duration, signal, truncation)
// followed by the tail of the interleaved stdout and stderr.
//
// The exit code follows shell conventions: the command's exit status; 128+N
// when signal N killed it; 127 when the program was not found and 126 when
// it could not be executed. Ping failures are logged and never change it.
// If the start ping cannot be delivered within opts.StartTimeout the
// command runs anyway.
//
// When ctx is done the command receives SIGTERM, and SIGKILL if it is still
// running opts.WaitDelay later; the finish ping is still sent. The CLI
// should therefore not cancel ctx on the signals Run forwards, or the job
// would receive them twice. For the same reason, a Ctrl-C typed in a
// terminal may reach the command twice (directly, as a member of the
// terminal's process group, and forwarded); commands that treat a second
// interrupt as "abort now" will see one.
//
// err is non-nil only when the command did not run: options are unusable
// (exit code 2), the command could not be started (126 or 127), or ctx was
// done before it could start (1). Run does not print err; that is left to
// the caller.
func Run(ctx context.Context, opts Options, argv []string) (exitCode int, err error) {
	if len(argv) == 0 || argv[0] == "" {
		return 2, errors.New("run: no command given")
	}
	if opts.Client == nil {
		return 2, errors.New("run: no ping client configured")
	}
	if err := opts.Target.Validate(); err != nil {
		return 2, fmt.Errorf("run: %w", err)
	}
	// A bad metric would make the finish ping fail after the job ran, so
	// it is refused before anything happens.
	if _, err := pingclient.FormatMetrics(opts.Metrics); err != nil {
		return 2, fmt.Errorf("run: %w", err)
	}
	opts = withDefaults(opts)
	log := opts.Log

	sigs := opts.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 8)
		signal.Notify(ch, forwardedSignals...)
		defer signal.Stop(ch)
		sigs = ch
	}

	pingOpts := pingclient.Options{Create: opts.Create}
	if rid, err := pingclient.NewRunID(); err != nil {
		log.Warn("pinging without a run id", "err", err)
	} else {
		pingOpts.RunID = rid
		// The job may send /log pings for the same run:
		//   nightjar ping --log --rid "$NIGHTJAR_RUN_ID" ...
		opts.env = append(os.Environ(), EnvRunID+"="+rid)
	}

	limit, early := startPing(ctx, opts, pingOpts, sigs)

	tailSize := opts.TailBytes
	if tailSize < 0 {
		tailSize = 0
	}
	if limit >= 0 {
		tailSize = int(min(int64(tailSize), limit))
	}
	out := newTail(tailSize)

	r := execute(ctx, opts, argv, out, sigs, early)

	kind := pingclient.ExitStatus(r.code)
	if r.code == 0 {
		kind = pingclient.KindSuccess
	}
	if r.startErr != nil || kind.Validate() != nil {
		kind = pingclient.KindFail
	}
	pingOpts.Metrics = opts.Metrics
	pingOpts.Body = buildBody(r.summary(), out.Bytes(), out.Total(), limit)

	finishCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.FinishTimeout)
	defer cancel()
	if res, err := opts.Client.Ping(finishCtx, opts.Target, kind, pingOpts); err != nil {
		log.Warn("finish ping not delivered", "kind", kind.String(), "attempts", res.Attempts, "err", err)
	}

	if r.startErr != nil {
		return r.code, fmt.Errorf("run %s: %w", argv[0], r.startErr)
	}
	return r.code, nil
}

func withDefaults(o Options) Options {
	if o.TailBytes == 0 {
		o.TailBytes = DefaultTailBytes
	}
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.FinishTimeout <= 0 {
		o.FinishTimeout = DefaultFinishTimeout
	}
	if o.WaitDelay <= 0 {
		o.WaitDelay = DefaultWaitDelay
	}
	return o
}

// startPing sends the start ping and returns the server's body limit (-1
// if unknown). A signal arriving meanwhile cuts the ping short, since the
// job should not wait on monitoring when someone asks it to stop; the
// signal is returned to be forwarded once the command runs.
func startPing(ctx context.Context, opts Options, pingOpts pingclient.Options, sigs <-chan os.Signal) (limit int64, early []os.Signal) {
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	done := make(chan struct{})
	caught := make(chan os.Signal, 1)
	go func() {
		select {
		case s, ok := <-sigs:
			if ok {
				caught <- s
				cancel()
			}
		case <-done:
		}
		close(caught)
	}()

	res, err := opts.Client.Ping(ctx, opts.Target, pingclient.KindStart, pingOpts)
	close(done)
	for s := range caught {
		early = append(early, s)
	}
	if err != nil {
		opts.Log.Warn("start ping not delivered; running the command anyway",
			"attempts", res.Attempts, "err", err)
		return -1, early
	}
	return res.BodyLimit, early
}

// result is what happened to the command.
type result struct {
	code     int
	duration time.Duration
	startErr error     // the command did not run
	signal   os.Signal // the signal that ended the command, if any
}

// summary is the first line of the finish ping's body.
func (r result) summary() string {
	switch {
	case r.startErr != nil:
		return fmt.Sprintf("nightjar run: command could not be started: %v; exit status %d", r.startErr, r.code)
	case r.signal != nil:
		return fmt.Sprintf("nightjar run: command was killed by signal %d (%v); exit status %d after %v",
			r.code-128, r.signal, r.code, r.duration)
	default:
		return fmt.Sprintf("nightjar run: command exited with status %d after %v", r.code, r.duration)
	}
}

// execute starts the command, forwards signals to it and waits for it.
func execute(ctx context.Context, opts Options, argv []string, out *tail, sigs <-chan os.Signal, early []os.Signal) result {
	log := opts.Log
	if err := ctx.Err(); err != nil {
		return result{code: 1, startErr: fmt.Errorf("cancelled before start: %w", err)}
	}

	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Cancel = func() error { return terminate(cmd.Process) }
	cmd.WaitDelay = opts.WaitDelay
	cmd.Env = opts.env
	cmd.Stdin = opts.Stdin
	var mu sync.Mutex
	warnOnce := func(stream string) func(error) {
		return func(err error) {
			log.Warn("cannot pass command output on; still recording it for the report", "stream", stream, "err", err)
		}
	}
	cmd.Stdout = &tee{mu: &mu, tail: out, dst: opts.Stdout, onError: warnOnce("stdout")}
	cmd.Stderr = &tee{mu: &mu, tail: out, dst: opts.Stderr, onError: warnOnce("stderr")}

	began := opts.Now()
	if err := cmd.Start(); err != nil {
		return result{code: startFailureCode(err), startErr: err}
	}

	stop := make(chan struct{})
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		forward := func(s os.Signal) {
			log.Debug("forwarding signal", "signal", s.String())
			if err := cmd.Process.Signal(s); err != nil && !errors.Is(err, os.ErrProcessDone) {
				log.Warn("cannot forward signal", "signal", s.String(), "err", err)
			}
		}
		for _, s := range early {
			forward(s)
		}
		for {
			select {
			case s, ok := <-sigs:
				if !ok {
					sigs = nil
					continue
				}
				forward(s)
			case <-stop:
				return
			}
		}
	}()

	waitErr := cmd.Wait()
	close(stop)
	<-forwarded
	ended := opts.Now()

	if errors.Is(waitErr, exec.ErrWaitDelay) {
		log.Warn("command exited but left its output open; stopped reading it", "after", opts.WaitDelay)
	}
	r := result{duration: ended.Sub(began).Round(time.Millisecond)}
	r.code, r.signal = outcome(cmd.ProcessState)
	return r
}

// buildBody assembles the finish ping's body: the summary line, then the
// tail of the output. When limit is known the whole body fits in it, the
// output being cut from the front so the last lines survive. A cut output
// starts at a character boundary and the summary says how much was cut.
func buildBody(summary string, output []byte, total, limit int64) []byte {
	header := func(shown int, cut bool) string {
		if cut {
			return fmt.Sprintf("%s; output truncated to the last %d of %d bytes", summary, shown, total)
		}
		return summary
	}
	shown := output
	cut := int64(len(shown)) < total
	if h := header(len(shown), cut); limit >= 0 && int64(len(h)+1+len(shown)) > limit {
		// The output must shrink, so the note will be there; its numbers
		// only get smaller, so reserving room for it now is enough.
		cut = true
		room := limit - int64(len(header(len(shown), true))) - 1
		shown = shown[len(shown)-int(max(min(room, int64(len(shown))), 0)):]
	}
	if cut {
		for i := 0; i < 3 && len(shown) > 0 && shown[0]&0xC0 == 0x80; i++ {
			shown = shown[1:]
		}
	}
	h := header(len(shown), cut)
	if limit >= 0 && int64(len(h)) > limit {
		return []byte(h[:limit])
	}
	if limit >= 0 && len(shown) == 0 && int64(len(h)+1) > limit {
		return []byte(h)
	}
	body := make([]byte, 0, len(h)+1+len(shown))
	body = append(body, h...)
	body = append(body, '\n')
	return append(body, shown...)
}
