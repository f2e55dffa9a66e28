package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/pressly/goose/v3"
)

// WriterPragma reads a pragma on the SQLite writer connection.
func (db *DB) WriterPragma(ctx context.Context, name string) (string, error) {
	var v string
	err := db.w.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}

// MigrationLockID is the advisory lock the migrations of a PostgreSQL
// schema hold.
var MigrationLockID = migrationLockID

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
