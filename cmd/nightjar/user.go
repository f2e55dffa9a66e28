package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar/store"
	"github.com/spf13/cobra"
)

func newUserCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage console users"}
	var f configFlags
	var role string
	create := &cobra.Command{
		Use:   "create EMAIL",
		Short: "Create a user; the password is read from standard input",
		Example: `  echo 's3cret-passphrase' | nightjar user create alice@example.com
  nightjar user create bob@example.com --role viewer < password.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.load()
			if err != nil {
				return err
			}
			pw, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
			if err != nil && pw == "" {
				return fmt.Errorf("read password from standard input: %w", err)
			}
			pw = strings.TrimRight(pw, "\r\n")
			ctx := context.Background()
			db, err := store.Open(ctx, cfg.DatabaseDSN(), store.Options{})
			if err != nil {
				return err
			}
			defer db.Close()
			projects, err := db.Projects(ctx)
			if err != nil {
				return err
			}
			projectID := ""
			if len(projects) > 0 {
				projectID = projects[0].ID
			}
			u, err := db.CreateUser(ctx, args[0], pw, projectID, role, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created user %s (%s)\n", u.Email, role)
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", store.RoleAdmin, "role in the first project: owner, admin, member or viewer")
	create.Flags().StringVar(&f.dataDir, "data", "", "data directory for the SQLite database")
	create.Flags().StringVar(&f.databaseURL, "database-url", "", "PostgreSQL URL")
	_ = os.Stdin
	cmd.AddCommand(create)
	return cmd
}
