package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"
)

// WriterPragma reads a pragma on the SQLite writer connection.
func (db *DB) WriterPragma(ctx context.Context, name string) (string, error) {
	var v string
	err := db.w.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}

// SetCheckCacheLimit changes how many checks SQLite's writer keeps.
func (db *DB) SetCheckCacheLimit(n int) {
	if db.cache != nil {
		db.cache.mu.Lock()
		db.cache.max = n
		db.cache.mu.Unlock()
	}
}

// PrepareAll prepares every statement a database of this dialect would
// prepare, whether or not the dialect caches them.
func (db *DB) PrepareAll(ctx context.Context) error {
	for _, q := range preparedSQL(db.dialect) {
		st, err := db.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %.60q: %w", q, err)
		}
		st.Close()
	}
	return nil
}

// MigrateTo applies the migrations up to version only, so that a test can
// write rows as an older Nightjar did before Open takes the database the
// rest of the way.
func MigrateTo(ctx context.Context, dsn string, version int64) error {
	d, driver, source, gd := sqlite, "sqlite", "file:"+dsn+"?_pragma=foreign_keys(1)", goose.DialectSQLite3
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		d, driver, source, gd = postgres, "pgx", dsn, goose.DialectPostgres
	}
	conn, err := sql.Open(driver, source)
	if err != nil {
		return err
	}
	defer conn.Close()
	fsys, err := migrationFiles(d)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(gd, conn, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
