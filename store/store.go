// Package store persists Nightjar's state in SQLite (the embedded default)
// or PostgreSQL (for scale and several replicas), from one code base. The
// dialect differences are few and live in dialect.go; every query is
// written once with $N placeholders, which both drivers accept.
//
// Public methods own their transaction. State changes and the outbox rows
// they cause are written in the same commit, so a notification that was
// decided is never lost.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing/fstest"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver
	"github.com/nightjar-dev/nightjar"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // SQLite driver (registers "sqlite")
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options tune how a database is opened.
type Options struct {
	// Synchronous is SQLite's synchronous setting: "FULL" (the default)
	// survives power loss, "NORMAL" survives a killed process but not a
	// power cut.
	Synchronous string
	Logger      *slog.Logger
}

// DB is an open Nightjar database.
type DB struct {
	// w takes writes (one connection on SQLite, which has one writer);
	// r serves reads. On PostgreSQL both are the same pool.
	w, r    pool
	dialect Dialect
	log     *slog.Logger
	// stmts caches statements prepared on the write pool, so the hot
	// paths do not parse their SQL again for every ping (SQLite only;
	// pgx caches prepared statements per connection by itself).
	stmts sync.Map // query string → *sql.Stmt
	// unprepared counts statements run in transactions without a
	// prepared copy (see UnpreparedStatements).
	unprepared atomic.Int64
}

// Open opens (creating if needed) the database named by dsn and applies
// migrations. A dsn starting with postgres:// or postgresql:// is
// PostgreSQL; anything else is a SQLite file path.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	db := &DB{log: opts.Logger}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db.dialect = postgres
		if db.w.DB, err = sql.Open("pgx", dsn); err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.w.SetMaxOpenConns(20)
		db.w.SetMaxIdleConns(20)
		db.w.SetConnMaxIdleTime(5 * time.Minute)
		db.r = db.w
	} else {
		db.dialect = sqlite
		if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		sync := opts.Synchronous
		if sync == "" {
			sync = "FULL"
		}
		if sync != "FULL" && sync != "NORMAL" {
			return nil, fmt.Errorf("sqlite synchronous must be FULL or NORMAL, not %q", sync)
		}
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(" + sync + ")"} {
			q.Add("_pragma", p)
		}
		// The writer keeps a larger page cache: every ping touches its
		// check's row and the pings table. It also lets the write-ahead
		// log grow to 20,000 pages (80 MiB) before copying it back into
		// the database file, instead of SQLite's 1,000: the same hot
		// pages (busy checks' rows, the newest pings) are then copied
		// once for many commits. Measured with nightjar-bench: about 10 %
		// more pings per second. journal_size_limit trims the log file
		// back after a checkpoint.
		wq := url.Values{"_txlock": {"immediate"}, "_pragma": {"cache_size(-65536)", "wal_autocheckpoint(20000)", "journal_size_limit(100000000)"}}
		for k, v := range q {
			wq[k] = append(wq[k], v...)
		}
		if db.w.DB, err = sql.Open("sqlite", "file:"+dsn+"?"+wq.Encode()); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.w.SetMaxOpenConns(1)
		db.w.SetConnMaxIdleTime(0)
		db.w.SetConnMaxLifetime(0)
		if db.r.DB, err = sql.Open("sqlite", "file:"+dsn+"?"+q.Encode()); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db.r.SetMaxOpenConns(8)
		db.r.SetMaxIdleConns(8)
	}
	if err := db.w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.prepareHot(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error {
	var errs []error
	db.stmts.Range(func(_, v any) bool {
		errs = append(errs, v.(*sql.Stmt).Close())
		return true
	})
	if db.r.DB != nil && db.r != db.w {
		errs = append(errs, db.r.Close())
	}
	if db.w.DB != nil {
		errs = append(errs, db.w.Close())
	}
	return errors.Join(errs...)
}

// Dialect is the database in use; it prints as "sqlite" or "postgres".
func (db *DB) Dialect() Dialect { return db.dialect }

// Ping checks the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error { return db.r.PingContext(ctx) }

// migrationFiles renders the embedded migrations for one dialect.
func migrationFiles(d Dialect) (fs.FS, error) {
	out := fstest.MapFS{}
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := fs.ReadFile(migrationFS, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		out[e.Name()] = &fstest.MapFile{Data: []byte(d.render(string(b))), Mode: 0o444}
	}
	return out, nil
}

func (db *DB) migrate(ctx context.Context) error {
	fsys, err := migrationFiles(db.dialect)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	gd := goose.DialectSQLite3
	if db.dialect.name == "postgres" {
		gd = goose.DialectPostgres
		// Several replicas may start at once; one migrates, the others
		// wait, trying again every second. The lock is the schema's:
		// Nightjars in other schemas of the same database (tests run so)
		// migrate without waiting for each other.
		var schema string
		if err := db.w.QueryRowContext(ctx, `SELECT COALESCE(current_schema(), '')`).Scan(&schema); err != nil {
			return fmt.Errorf("read schema: %w", err)
		}
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID(schema)), lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db.w.DB, fsys, opts...)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range res {
		db.log.Info("applied migration", "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// migrationLockID is the PostgreSQL advisory lock that the migrations of
// a schema hold while they run.
func migrationLockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("nightjar migrations of schema " + schema))
	return int64(h.Sum64())
}

// Tx is a write transaction handed to WithTx callers, so an engine module
// can change state and write its outbox rows in one commit.
type Tx struct {
	tx          *sql.Tx
	db          *DB
	afterCommit []func()
}

// AfterCommit has fn run once the transaction has committed, and never if
// it rolls back (or is retried: each attempt has its own Tx). It is for
// telling this process's other goroutines of what the commit made visible,
// such as outbox messages to send now, which must not happen before.
func (tx *Tx) AfterCommit(fn func()) { tx.afterCommit = append(tx.afterCommit, fn) }

// stmt returns the transaction's copy of a statement prepared at open
// time, or nil when query is not one of them.
func (tx *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	v, ok := tx.db.stmts.Load(query)
	if !ok {
		if tx.db.dialect.cacheStatements {
			tx.db.unprepared.Add(1)
		}
		return nil
	}
	return tx.tx.StmtContext(ctx, v.(*sql.Stmt))
}

// prepareHot prepares the hot statements when the dialect benefits.
func (db *DB) prepareHot(ctx context.Context) error {
	if !db.dialect.cacheStatements {
		return nil
	}
	for _, q := range preparedSQL(db.dialect) {
		st, err := db.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %.40q: %w", q, err)
		}
		db.stmts.Store(q, st)
	}
	return nil
}

// exec runs a statement in the transaction.
func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := refuseBadText(args); err != nil {
		return nil, err
	}
	if st := tx.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, query, args...)
}

// ExecContext runs a statement in the transaction; with QueryContext and
// QueryRowContext it makes Tx a conn.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.exec(ctx, query, args...)
}

// QueryRowContext runs a query for one row in the transaction.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) Row {
	if err := refuseBadText(args); err != nil {
		return errRow{err}
	}
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction; it makes Tx a querier.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := refuseBadText(args); err != nil {
		return nil, err
	}
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, query, args...)
}

// WithTx runs fn in a write transaction, committing if it returns nil. On
// PostgreSQL a serialization failure or deadlock is retried a few times.
func (db *DB) WithTx(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.withTxOnce(ctx, fn)
		if err == nil || !db.dialect.retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
	return err
}

func (db *DB) withTxOnce(ctx context.Context, fn func(tx *Tx) error) error {
	sqlTx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{tx: sqlTx, db: db}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, fn := range tx.afterCommit {
		fn()
	}
	return nil
}

// pool is a database handle whose statements refuse, as Tx's do, a text
// argument that is not valid UTF-8 or holds a NUL byte. Validation refuses
// such text first, naming the field; this is the net under it, so that no
// text PostgreSQL cannot store ever reaches it (where it would fail the
// statement with an internal error) and SQLite, which would store it, gives
// the same answer.
type pool struct{ *sql.DB }

// ExecContext runs a statement.
func (p pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := refuseBadText(args); err != nil {
		return nil, err
	}
	return p.DB.ExecContext(ctx, query, args...)
}

// QueryContext runs a query; it makes pool a querier.
func (p pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := refuseBadText(args); err != nil {
		return nil, err
	}
	return p.DB.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query for one row.
func (p pool) QueryRowContext(ctx context.Context, query string, args ...any) Row {
	if err := refuseBadText(args); err != nil {
		return errRow{err}
	}
	return p.DB.QueryRowContext(ctx, query, args...)
}

// errBadText is what a statement with a text argument that cannot be
// stored fails with.
var errBadText = nightjar.Errorf(nightjar.EINVALID, "text must be valid UTF-8 without NUL bytes")

// refuseBadText refuses statement arguments that are strings but not valid
// text.
func refuseBadText(args []any) error {
	for _, a := range args {
		if s, ok := a.(string); ok && !nightjar.ValidText(s) {
			return errBadText
		}
	}
	return nil
}

// errRow is a row whose query was refused before it ran.
type errRow struct{ err error }

// Scan returns the refusal.
func (r errRow) Scan(...any) error { return r.err }
