package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// Statement is SQL that a hot path runs for nearly every signal (recording
// a ping, scanning deadlines, raising an alert). It is declared with Hot
// beside the code that runs it, and every database opened afterwards
// prepares it once, so the hot path never parses SQL again. That matters
// on SQLite, where parsing is a real share of a ping's cost; pgx keeps
// prepared statements per connection by itself.
type Statement struct {
	sql map[string]string // by dialect name
}

var (
	hotMu         sync.Mutex
	hotStatements []*Statement
)

// Hot declares a hot statement. build renders its SQL for a dialect (so
// it may add ForUpdate or SkipLocked); it runs once per dialect, here. A
// statement that only one dialect has renders as "" for the others, which
// neither prepare nor may run it. Declare hot statements as package
// variables, so they exist before any database opens.
func Hot(build func(d Dialect) string) *Statement {
	s := &Statement{sql: map[string]string{}}
	for _, d := range Dialects {
		s.sql[d.name] = build(d)
	}
	hotMu.Lock()
	hotStatements = append(hotStatements, s)
	hotMu.Unlock()
	return s
}

// SQL is the statement's text for a dialect.
func (s *Statement) SQL(d Dialect) string { return s.sql[d.name] }

// HotStatements lists every hot statement declared so far, for the test
// that each one prepares on every dialect.
func HotStatements() []*Statement {
	hotMu.Lock()
	defer hotMu.Unlock()
	return append([]*Statement(nil), hotStatements...)
}

// ExecStmt runs a hot statement in the transaction.
func (tx *Tx) ExecStmt(ctx context.Context, s *Statement, args ...any) (sql.Result, error) {
	return tx.exec(ctx, s.SQL(tx.db.dialect), args...)
}

// QueryRowStmt runs a hot statement that reads one row.
func (tx *Tx) QueryRowStmt(ctx context.Context, s *Statement, args ...any) Row {
	return tx.QueryRowContext(ctx, s.SQL(tx.db.dialect), args...)
}

// QueryStmt runs a hot statement that reads rows.
func (tx *Tx) QueryStmt(ctx context.Context, s *Statement, args ...any) (*sql.Rows, error) {
	return tx.QueryContext(ctx, s.SQL(tx.db.dialect), args...)
}

// preparedSQL is every statement a database of dialect d prepares: the
// declared hot statements that exist on d, each once.
func preparedSQL(d Dialect) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range HotStatements() {
		if q := s.SQL(d); q != "" && !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	return out
}

// PrepareHotStatements prepares, and closes again, every hot statement
// declared so far that exists on the database's dialect. Open keeps them
// prepared on dialects that gain from it; tests call this on every
// dialect, so a typo in a hot statement fails there rather than at a
// replica's start.
func (db *DB) PrepareHotStatements(ctx context.Context) error {
	for _, q := range preparedSQL(db.dialect) {
		st, err := db.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %.60q: %w", q, err)
		}
		st.Close()
	}
	return nil
}

// UnpreparedStatements counts the statements this database ran inside
// write transactions without a prepared copy, on a dialect that prepares
// its hot statements. Tests hold the hot paths to zero with it; a
// statement that needs preparing is declared with Hot.
func (db *DB) UnpreparedStatements() int64 { return db.unprepared.Load() }
