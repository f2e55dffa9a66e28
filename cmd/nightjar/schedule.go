package main

import (
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/schedule"
	"github.com/spf13/cobra"
)

func newScheduleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Work with cron schedules",
	}
	var tz, after string
	var n int
	next := &cobra.Command{
		Use:   "next SCHEDULE",
		Short: "Print when a cron or OnCalendar schedule runs next",
		Long: `Print the next run times of a schedule in a time zone, one RFC 3339 time a
line. A single line of 5 fields is a cron expression (with L, W and #);
anything else is systemd OnCalendar syntax, one expression a line.

Daylight-saving changes in cron schedules are handled as Vixie-derived cron
daemons (Debian cron, cronie) handle them: a fixed-time job whose time is
skipped runs right after the change, one whose time repeats runs once, and
jobs with a wildcard hour or minute keep their wall-clock rhythm. OnCalendar
times that a change skips do not run, and repeated ones run once.`,
		Example: `  nightjar schedule next '30 2 * * *' --tz Europe/Berlin --after 2026-03-29T00:00:00Z -n 5
  nightjar schedule next '0 9 * * MON-FRI' --tz America/New_York
  nightjar schedule next 'Mon..Fri *-*-* 09:00' --tz Europe/Riga`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cr, err := schedule.Parse(args[0])
			if err != nil {
				return err
			}
			loc, err := nightjar.LoadLocation(tz)
			if err != nil {
				return fmt.Errorf("--tz: %q is not an IANA time zone name such as Europe/Berlin", tz)
			}
			t := time.Now()
			if after != "" {
				if t, err = time.Parse(time.RFC3339, after); err != nil {
					return fmt.Errorf("--after: expected an RFC 3339 time such as 2026-03-29T00:00:00Z")
				}
			}
			if n < 1 || n > 1000 {
				return fmt.Errorf("-n: must be from 1 to 1000")
			}
			for i := 0; i < n; i++ {
				t = cr.Next(t, loc)
				if t.IsZero() {
					break
				}
				fmt.Fprintln(cmd.OutOrStdout(), t.In(loc).Format(time.RFC3339))
			}
			return nil
		},
	}
	next.Flags().StringVar(&tz, "tz", "UTC", "IANA time zone the schedule runs in")
	next.Flags().StringVar(&after, "after", "", "start after this RFC 3339 time (default now)")
	next.Flags().IntVarP(&n, "count", "n", 5, "how many times to print")
	cmd.AddCommand(next)
	return cmd
}
