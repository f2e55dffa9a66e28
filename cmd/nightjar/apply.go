package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/reconcile"
	"github.com/spf13/cobra"
)

func newApplyCmd() *cobra.Command {
	var file string
	var dryRun bool
	var f configFlags
	cmd := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Make the projects, keys, channels and checks a YAML file declares exist",
		Long: `Apply a declarative configuration to the database. Applying the same file again
changes nothing. Each change is printed as a diff line: "+" created, "~" updated.
Objects the file does not mention are left alone.

The file is applied in one transaction: when anything in it is invalid or
fails, or the command is stopped half-way, nothing is changed.

The database is the one serve uses: --data, --database-url or the environment.`,
		Example: `  nightjar apply -f nightjar.yaml
  nightjar apply -f nightjar.yaml --dry-run
  NIGHTJAR_DATABASE_URL=postgres://nightjar@db/nightjar nightjar apply -f checks.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			decl, err := config.Load(file)
			if err != nil {
				return err
			}
			if err := decl.Validate(); err != nil {
				return fmt.Errorf("invalid configuration:\n%w", err)
			}
			cfg, err := f.load()
			if err != nil {
				return err
			}
			ctx := context.Background()
			a, err := openApp(ctx, cfg, nil)
			if err != nil {
				return err
			}
			defer a.Close()
			changes, err := reconcile.Apply(ctx, a.db, a.reconcileAreas(), decl, os.Getenv, time.Now(), dryRun)
			for _, c := range changes {
				fmt.Fprintln(cmd.OutOrStdout(), c.String())
			}
			if err != nil {
				return err
			}
			if len(changes) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no changes")
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "YAML file with projects: to apply (required)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the changes without making them")
	_ = cmd.MarkFlagRequired("file")
	cmd.Flags().StringVar(&f.dataDir, "data", "", "data directory for the SQLite database")
	cmd.Flags().StringVar(&f.databaseURL, "database-url", "", "PostgreSQL URL")
	return cmd
}
