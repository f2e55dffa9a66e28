package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar/pingclient"
	"github.com/nightjar-dev/nightjar/runner"
	"github.com/spf13/cobra"
)

// pingFlags are the flags run and ping share: where to ping and which check.
type pingFlags struct {
	url     string
	create  bool
	metrics string
}

func (f *pingFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.url, "url", "", "ping base URL, e.g. https://nightjar.example.com/ping (env NIGHTJAR_PING_URL or HC_API_URL)")
	cmd.Flags().BoolVar(&f.create, "create", false, "create the check if a ping-key/slug check does not exist (?create=1)")
	cmd.Flags().StringVarP(&f.metrics, "metrics", "m", "", "metrics to attach, e.g. bytes:123456,rows:42")
}

// client builds the ping client and target from flags, argument and
// environment.
func (f *pingFlags) client(arg string) (*pingclient.Client, pingclient.Target, map[string]float64, error) {
	env := pingclient.FromEnv()
	base := f.url
	if base == "" {
		base = env.BaseURL
	}
	if base == "" {
		return nil, pingclient.Target{}, nil, fmt.Errorf("no ping URL: pass --url or set %s", pingclient.EnvPingURL)
	}
	t, err := env.Target(arg)
	if err != nil {
		return nil, t, nil, err
	}
	var m map[string]float64
	if f.metrics != "" {
		if m, err = pingclient.ParseMetrics(f.metrics); err != nil {
			return nil, t, nil, fmt.Errorf("--metrics: %w", err)
		}
	}
	c := &pingclient.Client{BaseURL: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: 10 * time.Second}, UserAgent: "nightjar/" + version}
	return c, t, m, nil
}

func newRunCmd() *cobra.Command {
	var f pingFlags
	var tail int
	var pingTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "run [flags] [--] COMMAND [ARGS...]",
		Short: "Run a command and report its start, end, exit code and output tail to a check",
		Long: `Run a command as a cron job wrapper. Nightjar (or any Healthchecks-compatible
server) is told when the job starts and how it ended: success, or the exit code
with the tail of its output and its duration. The job's standard input and
output pass through, signals are forwarded, and the wrapper always exits with
the job's own exit code, even when the server cannot be reached.

The check is given with --check (a UUID, or ping-key/slug) or the
environment: CHECK_UUID, or HC_PING_KEY with CHECK_SLUG.`,
		Example: `  # crontab line
  0 3 * * * nightjar run --url https://nightjar.example.com/ping --check 5f9a...e1 -- /usr/local/bin/backup.sh
  # with the environment, as runitor users are used to
  HC_API_URL=https://nightjar.example.com/ping CHECK_UUID=5f9a...e1 nightjar run -- pg_dump -f /backups/db.sql`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			checkArg, _ := cmd.Flags().GetString("check")
			client, target, metrics, err := f.client(checkArg)
			if err != nil {
				return err
			}
			opts := runner.Options{
				Client: client, Target: target, Create: f.create, TailBytes: tail, Metrics: metrics,
				Stdin: cmd.InOrStdin(), Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(),
				StartTimeout: pingTimeout, FinishTimeout: pingTimeout,
				Log: slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn})).With("component", "nightjar-run"),
			}
			code, err := runner.Run(context.Background(), opts, args)
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "nightjar run:", err)
			}
			if code != 0 {
				return exitCode(code)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().String("check", "", "check UUID or ping-key/slug (env CHECK_UUID, or HC_PING_KEY + CHECK_SLUG)")
	cmd.Flags().IntVar(&tail, "tail", runner.DefaultTailBytes, "bytes of output tail to send with the result (negative: none)")
	cmd.Flags().DurationVar(&pingTimeout, "ping-timeout", 0, "give up on a ping (retries included) after this long; default 10s for the start ping, 30s for the result")
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func newPingCmd() *cobra.Command {
	var f pingFlags
	var start, fail, log bool
	var exit int
	var rid, bodyFile string
	cmd := &cobra.Command{
		Use:   "ping [UUID | PING-KEY/SLUG | SLUG]",
		Short: "Send one ping to a check",
		Long: `Send one ping: success by default, or start, fail, log or an exit status.
The body is read from --body (a file, or - for standard input).`,
		Example: `  nightjar ping --url http://127.0.0.1:8080/ping 5f9a...e1
  nightjar ping --url http://127.0.0.1:8080/ping --fail 5f9a...e1
  echo "rotated 3 logs" | nightjar ping --log --body - pingkey/logrotate
  nightjar ping --exit 3 -m bytes:0 5f9a...e1`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			client, target, metrics, err := f.client(arg)
			if err != nil {
				return err
			}
			kind := pingclient.KindSuccess
			n := 0
			for _, b := range []bool{start, fail, log, cmd.Flags().Changed("exit")} {
				if b {
					n++
				}
			}
			if n > 1 {
				return fmt.Errorf("use only one of --start, --fail, --log and --exit")
			}
			switch {
			case start:
				kind = pingclient.KindStart
			case fail:
				kind = pingclient.KindFail
			case log:
				kind = pingclient.KindLog
			case cmd.Flags().Changed("exit"):
				if exit < 0 || exit > 255 {
					return fmt.Errorf("--exit: must be from 0 to 255")
				}
				kind = pingclient.ExitStatus(exit)
			}
			var body []byte
			switch bodyFile {
			case "":
			case "-":
				if body, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 10<<20)); err != nil {
					return fmt.Errorf("read body: %w", err)
				}
			default:
				if body, err = os.ReadFile(bodyFile); err != nil {
					return fmt.Errorf("read body: %w", err)
				}
			}
			res, err := client.Ping(context.Background(), target, kind, pingclient.Options{RunID: rid, Create: f.create, Body: body, Metrics: metrics})
			if err != nil {
				return err
			}
			if res.Status == http.StatusCreated {
				fmt.Fprintln(cmd.OutOrStdout(), "Created")
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), "OK")
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&start, "start", false, "signal that the job started")
	cmd.Flags().BoolVar(&fail, "fail", false, "signal that the job failed")
	cmd.Flags().BoolVar(&log, "log", false, "record a message without changing the check's status")
	cmd.Flags().IntVar(&exit, "exit", 0, "report this exit status (0-255); non-zero is a failure")
	cmd.Flags().StringVar(&rid, "rid", "", "run id (a UUID) tying a start to its finish")
	cmd.Flags().StringVar(&bodyFile, "body", "", "file to send as the ping body, - for standard input")
	return cmd
}
