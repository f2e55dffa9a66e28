package store_test

import (
	"context"
	"testing"

	"github.com/nightjar-dev/nightjar/store/storetest"
)

// The SQLite writer runs with the settings durability and speed rest on.
func TestSQLiteWriterSettings(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	want := map[string]string{
		"journal_mode":       "wal",
		"foreign_keys":       "1",
		"wal_autocheckpoint": "20000",
		"journal_size_limit": "100000000",
	}
	for name, v := range want {
		got, err := db.WriterPragma(context.Background(), name)
		if err != nil || got != v {
			t.Errorf("PRAGMA %s = %q, %v; want %q", name, got, err, v)
		}
	}
}
