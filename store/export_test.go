package store

import "context"

// WriterPragma reads a pragma on the SQLite writer connection.
func (db *DB) WriterPragma(ctx context.Context, name string) (string, error) {
	var v string
	err := db.w.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	return v, err
}

// MigrationLockID is the advisory lock the migrations of a PostgreSQL
// schema hold.
var MigrationLockID = migrationLockID
