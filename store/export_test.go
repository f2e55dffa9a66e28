package store

import "context"

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
