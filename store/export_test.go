package store

import (
	"context"
	"fmt"
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
