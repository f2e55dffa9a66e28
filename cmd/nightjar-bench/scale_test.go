package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/nightjar-dev/nightjar/store"
)

// TestScaleColumnsMatchTheSchema keeps the --scale bulk load in step with
// the migrations: a new column of the checks table must be named in
// checkColumns or defaultedColumns, or the measurement refuses to run.
func TestScaleColumnsMatchTheSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "scale.db")
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := sameColumns(ctx, raw); err != nil {
		t.Fatal(err)
	}
	if len((&scaleCheck{}).args("p")) != len(checkColumns) {
		t.Fatalf("scaleCheck.args gives %d values for %d columns", len((&scaleCheck{}).args("p")), len(checkColumns))
	}
}
