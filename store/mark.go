package store

import (
	"context"
	"fmt"
)

// WriteMark tells whether anything wrote the database since a moment, on a
// dialect with one writer (SQLite): Changes is the writer connection's
// total_changes(), which moves with every row any statement of this
// process changes, and Version is SQLite's data_version, which moves when
// another process (nightjar apply, say) commits. While the mark stands
// still, what this process last wrote is still what the database holds,
// so it may keep that in memory instead of reading it back.
type WriteMark struct{ Changes, Version int64 }

var qWriteMark = Hot(func(d Dialect) string {
	if !d.oneWriter {
		return ""
	}
	return `SELECT total_changes(), data_version FROM pragma_data_version()`
})

// WriteMark reads the mark on the transaction's connection. Only dialects
// with OneWriter have marks.
func (tx *Tx) WriteMark(ctx context.Context) (WriteMark, error) {
	var m WriteMark
	if !tx.db.dialect.oneWriter {
		return m, fmt.Errorf("read write mark: %s has no single writer", tx.db.dialect)
	}
	if err := tx.QueryRowStmt(ctx, qWriteMark).Scan(&m.Changes, &m.Version); err != nil {
		return m, fmt.Errorf("read write mark: %w", err)
	}
	return m, nil
}
