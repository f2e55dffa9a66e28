package store_test

import (
	"context"
	"testing"

	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// Every hot statement declared so far prepares on every dialect: a typo in
// a hot statement fails here rather than at a replica's start. The areas
// run the same test with theirs declared.
func TestHotStatementsPrepare(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if err := db.PrepareHotStatements(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// A statement that one dialect lacks is not prepared there, and reading
// the write mark works where it exists.
func TestWriteMark(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var first, second store.WriteMark
		read := func(m *store.WriteMark) error {
			return db.WithTx(ctx, func(tx *store.Tx) error {
				var err error
				*m, err = tx.WriteMark(ctx)
				return err
			})
		}
		if !db.Dialect().OneWriter() {
			if err := read(&first); err == nil {
				t.Fatal("a write mark read on a dialect without one writer")
			}
			return
		}
		if err := read(&first); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO system_state (key, value, updated_at) VALUES ('mark_test', '1', 1)`); err != nil {
			t.Fatal(err)
		}
		if err := read(&second); err != nil {
			t.Fatal(err)
		}
		if first == second {
			t.Fatalf("the write mark did not move with a write: %+v", first)
		}
		if db.UnpreparedStatements() != 0 {
			t.Fatalf("reading the write mark ran %d unprepared statements", db.UnpreparedStatements())
		}
	})
}
