// Command nightjar is Nightjar's one binary: the server (serve) and the
// command-line tools (run, ping, apply, schedule, user, version). This
// package only wires the other packages together.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := newRootCmd().Execute(); err != nil {
		var ec exitCode
		if asExit(err, &ec) {
			os.Exit(int(ec))
		}
		fmt.Fprintln(os.Stderr, "nightjar:", err)
		os.Exit(1)
	}
}

// exitCode is an error that only carries a process exit status, for
// `nightjar run`, which must exit with its job's code.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func asExit(err error, ec *exitCode) bool {
	if e, ok := err.(exitCode); ok {
		*ec = e
		return true
	}
	return false
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "nightjar",
		Short:         "Nightjar: cron and heartbeat monitoring, alerts and notifications in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newApplyCmd(), newScheduleCmd(), newRunCmd(), newPingCmd(), newUserCmd(), newVersionCmd())
	root.AddCommand(newDemoCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "nightjar", version)
			return nil
		},
	}
}
