package store_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// holdMigrationLock takes, on a connection of its own until the test ends,
// the lock that migrating schema takes, as a Nightjar in the middle of
// migrating it would hold it.
func holdMigrationLock(t *testing.T, dsn, schema string) {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	conn, err := admin.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_lock($1)`, store.MigrationLockID(schema)); err != nil {
		t.Fatal(err)
	}
}

func schemaOf(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("search_path")
}

// A Nightjar migrating one schema does not hold up one starting in another
// schema of the same database; one migrating the same schema does.
func TestMigrationLockIsPerSchema(t *testing.T) {
	busy, free := storetest.PostgresURL(t), storetest.PostgresURL(t)
	holdMigrationLock(t, busy, schemaOf(t, busy))

	// The lock is held for the whole test, so a wait for it would last
	// until the deadline: generous, since the open should not wait at all.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, free, store.Options{})
	if err != nil {
		t.Fatalf("opening another schema while one is migrating: %v", err)
	}
	db.Close()

	ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if db, err := store.Open(ctx, busy, store.Options{}); err == nil {
		db.Close()
		t.Fatal("a schema opened while another process held its migration lock")
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("opening the schema being migrated: %v, want a wait until the deadline", err)
	}
}
