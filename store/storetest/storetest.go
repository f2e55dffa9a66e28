// Package storetest opens real databases for tests: SQLite in a temporary
// directory always, and PostgreSQL when one is reachable (in CI it must
// be). Each PostgreSQL test gets a schema of its own, dropped afterwards,
// so tests never see each other's rows. It also holds the few helpers
// every area's conformance tests share.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver
	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/store"
)

// DefaultPostgresURL is used when NIGHTJAR_TEST_POSTGRES_URL is not set.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns a URL of a fresh, empty schema on the test
// PostgreSQL server, or "" (after t.Skip outside CI, t.Fatal in CI) when
// none answers.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u, skip := postgresURL(t)
	if skip != "" {
		t.Skip(skip)
	}
	return u
}

// postgresURL makes the schema PostgresURL returns, or says why the
// PostgreSQL tests are skipped.
func postgresURL(t testing.TB) (u, skip string) {
	t.Helper()
	base := os.Getenv("NIGHTJAR_TEST_POSTGRES_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	if base == "off" {
		return "", "PostgreSQL tests disabled (NIGHTJAR_TEST_POSTGRES_URL=off)"
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL at %s is required in CI: %v", base, err)
		}
		return "", fmt.Sprintf("PostgreSQL not reachable at %s: %v", base, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "nj_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	return pu.String(), ""
}

// SQLitePath returns a database file path in a temporary directory.
func SQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "nightjar.db")
}

// Open opens a database of the named dialect ("sqlite" or "postgres") for
// the test and closes it at the end.
func Open(t testing.TB, dialect string) *store.DB {
	t.Helper()
	dsn := SQLitePath(t)
	if dialect == "postgres" {
		dsn = PostgresURL(t)
	}
	return openDSN(t, dialect, dsn)
}

func openDSN(t testing.TB, dialect, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, store.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenEach opens one database of every dialect, for tests that cannot run
// a subtest per database, such as fuzz targets: every input goes to each
// of them. PostgreSQL is left out, with a log line, where Each would skip
// it, so SQLite is still tested.
func OpenEach(t testing.TB) []*store.DB {
	t.Helper()
	dbs := []*store.DB{Open(t, "sqlite")}
	u, skip := postgresURL(t)
	if skip != "" {
		t.Log(skip)
		return dbs
	}
	return append(dbs, openDSN(t, "postgres", u))
}

// NewProject makes a project named name, created at at, for a test of an
// area whose rows belong to one.
func NewProject(t testing.TB, db *store.DB, name string, at time.Time) *nightjar.Project {
	t.Helper()
	p := &nightjar.Project{Name: name}
	if err := projects.New(db).Create(context.Background(), p, at); err != nil {
		t.Fatalf("create project %s: %v", name, err)
	}
	return p
}

// WantCode fails the test unless err carries the error code code ("" for
// no error).
func WantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := nightjar.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// Dialects are the databases every conformance test runs against.
var Dialects = []string{"sqlite", "postgres"}

// Each runs fn as a subtest once per database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}
