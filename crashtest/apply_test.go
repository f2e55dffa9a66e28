package crashtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver
	"github.com/nightjar-dev/nightjar/serverproc"
	"github.com/nightjar-dev/nightjar/store/storetest"
	_ "modernc.org/sqlite" // SQLite driver
)

// Size of the configuration, as in the report of a half-applied file:
// 100 channels and 3,000 checks.
const (
	applyChannels = 100
	applyChecks   = 3000
)

// TestKilledApplyLeavesNothing kills `nightjar apply -f` while it is in
// the middle of a large file and checks that the database is as it was.
//
// The file's last project reads an API key from a named pipe, after the
// channels and checks before it are written. Each time the apply opens
// the pipe, the test looks whether the apply holds a write transaction
// open: if so it kills the apply there, with everything before the key
// written but not committed; if not, it feeds the key and lets the apply
// go on. An apply that commits as it goes never holds one, which fails
// the test.
func TestKilledApplyLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary; skipped with -short")
	}
	bin := buildNightjar(t)
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "data", "nightjar.db")
		raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		raw.SetMaxOpenConns(1)
		killApplyMidway(t, bin, []string{"--data", filepath.Dir(path)}, raw, func() bool {
			// The apply holds the one writer's lock: taking it fails at once.
			tx, err := raw.BeginTx(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			_, err = tx.Exec(`INSERT INTO projects (id, name, ping_key, created_at) VALUES ('probe', 'probe', 'probe', 0)`)
			if err == nil {
				return false
			}
			if !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "busy") {
				t.Fatalf("probe the write lock: %v", err)
			}
			return true
		})
	})
	t.Run("postgres", func(t *testing.T) {
		u, err := url.Parse(storetest.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		app := "nightjar-apply-" + serverproc.RandomHex(6)
		q := u.Query()
		q.Set("application_name", app)
		u.RawQuery = q.Encode()
		raw, err := sql.Open("pgx", u.String())
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		killApplyMidway(t, bin, []string{"--database-url", u.String()}, raw, func() bool {
			// The apply's session has written and not committed.
			var n int
			if err := raw.QueryRow(`SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()
				AND state = 'idle in transaction' AND backend_xid IS NOT NULL`, app).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n > 0
		})
	})
}

// killApplyMidway runs the apply described above against the database
// the store flags name and raw reads, killing it when inTx reports an
// open write transaction while it waits for the key.
func killApplyMidway(t *testing.T, bin string, storeFlags []string, raw *sql.DB, inTx func() bool) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.yaml")
	if err := os.WriteFile(base, []byte("projects:\n  - name: Ops\n    checks:\n      - slug: existing\n        grace: 1h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, append([]string{"apply", "-f", base}, storeFlags...)...).CombinedOutput(); err != nil {
		t.Fatalf("first apply: %v\n%s", err, out)
	}
	before := tableCounts(t, raw)

	pipe := filepath.Join(dir, "key")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("projects:\n  - name: Ops\n    channels:\n")
	for i := range applyChannels {
		fmt.Fprintf(&b, "      - name: hook-%d\n        kind: webhook\n        url: https://hooks.example.com/%d\n", i, i)
	}
	b.WriteString("    checks:\n      - slug: existing\n        grace: 2h\n")
	for i := range applyChecks {
		fmt.Fprintf(&b, "      - slug: job-%d\n        schedule: \"%d 3 * * *\"\n        channels: [hook-%d]\n", i, i%60, i%applyChannels)
	}
	fmt.Fprintf(&b, "  - name: Zeta\n    api_keys:\n      - name: ci\n        scope: read-write\n        value_file: %s\n", pipe)
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, append([]string{"apply", "-f", big}, storeFlags...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	killed := false
	for !killed {
		// Opening the pipe for writing waits until the apply opens it to
		// read; a bounded wait fails the test rather than hang it.
		opened := make(chan *os.File, 1)
		go func() {
			f, err := os.OpenFile(pipe, os.O_WRONLY, 0)
			if err != nil {
				t.Errorf("open the pipe: %v", err)
				f = nil
			}
			opened <- f
		}()
		var f *os.File
		select {
		case f = <-opened:
		case err := <-exited:
			// Let the goroutine waiting to open the pipe go.
			if r, err := os.OpenFile(pipe, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
				r.Close()
			}
			t.Fatalf("the apply ended (%v) without being caught in a transaction: it does not apply the file as one\n…%s", err, lastBytes(out.String(), 2000))
		case <-time.After(2 * time.Minute):
			_ = cmd.Process.Kill()
			t.Fatalf("the apply never read its key file\n…%s", lastBytes(out.String(), 2000))
		}
		if f == nil {
			_ = cmd.Process.Kill()
			return
		}
		if inTx() {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-exited
			killed = true
		} else if _, err := f.WriteString("zeta-ci-key-0123456789\n"); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	after := tableCounts(t, raw)
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("the killed apply left %v, want the database as it was: %v", after, before)
	}
}

// tableCounts counts what an apply writes, and sums the grace periods it
// may change.
func tableCounts(t *testing.T, raw *sql.DB) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, q := range []string{"SELECT COUNT(*) FROM projects", "SELECT COUNT(*) FROM api_keys", "SELECT COUNT(*) FROM channels",
		"SELECT COUNT(*) FROM checks", "SELECT COALESCE(SUM(grace_ms), 0) FROM checks"} {
		var n int64
		if err := raw.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out[q] = n
	}
	return out
}

// lastBytes returns the end of s, at most n bytes of it.
func lastBytes(s string, n int) string { return s[max(0, len(s)-n):] }
