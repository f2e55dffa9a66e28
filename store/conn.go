package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// This file is what the areas' store code (checks, alerts, outbox,
// channels, accounts, …) builds on: the statements of a database handle
// and of a transaction, the row scanning helper, and the stored forms of
// times, durations and JSON. Each area writes its own SQL with these; no
// area's SQL lives here.

// Row is one result row to scan: *sql.Row, or a row whose statement was
// refused before it ran.
type Row interface{ Scan(dest ...any) error }

// Querier runs reads: the database's read pool (*DB) or a transaction
// (*Tx), so one function serves a read on its own and a read inside a
// write.
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
	Dialect() Dialect
}

// Conn runs reads and writes: the database (writes on its writer) or a
// transaction, so a change made on its own and the same change made inside
// a caller's transaction share their code.
type Conn interface {
	Querier
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Exec runs one statement on the writer, in a transaction of its own.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return db.w.ExecContext(ctx, query, args...)
}

// Query runs a read on the read pool.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.r.QueryContext(ctx, query, args...)
}

// QueryRow runs a read of one row on the read pool.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) Row {
	return db.r.QueryRowContext(ctx, query, args...)
}

// Exec runs a statement in the transaction, prepared when it is a hot
// statement.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.exec(ctx, query, args...)
}

// Query runs a read in the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.QueryContext(ctx, query, args...)
}

// QueryRow runs a read of one row in the transaction.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) Row {
	return tx.QueryRowContext(ctx, query, args...)
}

// Dialect is the transaction's database dialect.
func (tx *Tx) Dialect() Dialect { return tx.db.dialect }

// DB is the database the transaction belongs to.
func (tx *Tx) DB() *DB { return tx.db }

// QueryAll runs a read and scans every row with scan; what names the read
// in errors. An empty result is an empty, non-nil slice, so JSON shows []
// rather than null.
func QueryAll[T any](ctx context.Context, q Querier, what, query string, scan func(Row) (T, error), args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// MustAffect turns a change that touched no row into ENOTFOUND naming
// what: an update or delete by id that finds nothing means the caller
// named something that does not exist (or is another project's).
func MustAffect(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return nightjar.Errorf(nightjar.ENOTFOUND, "%s not found", what)
	}
	return nil
}

// ScanError reads the error of scanning one row that was asked for by
// name or id: no row is ENOTFOUND "<what> not found", as the caller named
// something that does not exist (or is another project's); any other
// error is wrapped.
func ScanError(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return nightjar.Errorf(nightjar.ENOTFOUND, "%s not found", what)
	} else if err != nil {
		return fmt.Errorf("scan %s: %w", what, err)
	}
	return nil
}

// ScanString scans a one-column row of text.
func ScanString(row Row) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

// Millis is a time's stored form: Unix milliseconds, 0 for none.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Time reads a stored time back, in UTC; 0 is the zero time.
func Time(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// DurationMillis is a duration's stored form: whole milliseconds.
func DurationMillis(d time.Duration) int64 { return d.Milliseconds() }

// Duration reads a stored duration back.
func Duration(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

// JSON is the stored form of settings and details kept as JSON text. Only
// plain slices, maps and structs of them are stored, which always encode.
func JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store: encode %T: %v", v, err))
	}
	return string(b)
}

// Placeholders renders n placeholders numbered from first: "$1, $2, $3".
func Placeholders(first, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", first+i)
	}
	return b.String()
}

// Tuples renders n tuples of width placeholders numbered from first, each
// wrapped in a CAST to the type in casts when casts is given (PostgreSQL
// cannot infer the types of parameters in a VALUES list that is not an
// INSERT's).
func Tuples(first, n, width int, casts []string) string {
	var b strings.Builder
	p := first
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := 0; j < width; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			if casts != nil {
				fmt.Fprintf(&b, "CAST($%d AS %s)", p, casts[j])
			} else {
				fmt.Fprintf(&b, "$%d", p)
			}
			p++
		}
		b.WriteByte(')')
	}
	return b.String()
}
