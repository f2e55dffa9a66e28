package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/spf13/cobra"
)

// openFromFlags opens the database named by the usual flags and
// environment.
func openFromFlags(f *configFlags) (*app, error) {
	cfg, err := f.load()
	if err != nil {
		return nil, err
	}
	return openApp(context.Background(), cfg, nil)
}

func dbFlags(cmd *cobra.Command, f *configFlags) {
	cmd.Flags().StringVar(&f.dataDir, "data", "", "data directory for the SQLite database (env NIGHTJAR_DATA_DIR)")
	cmd.Flags().StringVar(&f.databaseURL, "database-url", "", "PostgreSQL URL (env NIGHTJAR_DATABASE_URL)")
}

// readPassword reads one line from r: passwords come from standard input
// so they stay out of shell history and process lists.
func readPassword(r io.Reader) (string, error) {
	pw, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && pw == "" {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	return strings.TrimRight(pw, "\r\n"), nil
}

func newUserCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage console users (first admin, password recovery)"}

	var cf configFlags
	var role, project string
	create := &cobra.Command{
		Use:   "create EMAIL",
		Short: "Create a user and add them to a project; the password is read from standard input",
		Example: `  echo 'a long passphrase' | nightjar user create alice@example.com --role owner
  nightjar user create bob@example.com --role viewer --project Ops < password.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			a, err := openFromFlags(&cf)
			if err != nil {
				return err
			}
			defer a.Close()
			ctx := context.Background()
			projects, err := a.projects.List(ctx)
			if err != nil {
				return err
			}
			var p *nightjar.Project
			for _, candidate := range projects {
				if project == "" || candidate.Name == project || candidate.ID == project {
					p = candidate
					break
				}
			}
			if p == nil {
				return fmt.Errorf("--project: no project named %q", project)
			}
			u, err := a.accounts.CreateUser(ctx, args[0], pw, p.ID, nightjar.Role(role), time.Now())
			if err != nil {
				return userError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created user %s, %s of project %q\n", u.Email, role, p.Name)
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", string(nightjar.RoleAdmin), "role in the project: owner, admin, member or viewer")
	create.Flags().StringVar(&project, "project", "", "project name or id (default: the first project)")
	dbFlags(create, &cf)

	var pf configFlags
	passwd := &cobra.Command{
		Use:     "passwd EMAIL",
		Short:   "Set a user's password, read from standard input, and log out their sessions",
		Example: `  echo 'a new long passphrase' | nightjar user passwd alice@example.com`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			a, err := openFromFlags(&pf)
			if err != nil {
				return err
			}
			defer a.Close()
			ctx := context.Background()
			u, err := a.accounts.UserByEmail(ctx, args[0])
			if err != nil {
				return userError(err)
			}
			if err := a.accounts.SetPassword(ctx, u.ID, pw, ""); err != nil {
				return userError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "password of %s changed; their sessions were logged out\n", u.Email)
			return nil
		},
	}
	dbFlags(passwd, &pf)

	var lf configFlags
	list := &cobra.Command{
		Use:   "list",
		Short: "List users and their projects",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := openFromFlags(&lf)
			if err != nil {
				return err
			}
			defer a.Close()
			ctx := context.Background()
			users, err := a.accounts.Users(ctx)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "EMAIL\tCREATED\tPROJECTS")
			for _, u := range users {
				ms, err := a.accounts.Memberships(ctx, u.ID)
				if err != nil {
					return err
				}
				var ps []string
				for _, m := range ms {
					ps = append(ps, fmt.Sprintf("%s (%s)", m.ProjectName, m.Role))
				}
				fmt.Fprintf(w, "%s\t%s\t%s\n", u.Email, u.CreatedAt.Format("2006-01-02"), strings.Join(ps, ", "))
			}
			return w.Flush()
		},
	}
	dbFlags(list, &lf)
	cmd.AddCommand(create, passwd, list)
	return cmd
}

// userError turns a domain error into a plain message for the terminal.
func userError(err error) error {
	if nightjar.ErrorCode(err) != nightjar.EINTERNAL {
		return fmt.Errorf("%s", nightjar.ErrorMessage(err))
	}
	return err
}
