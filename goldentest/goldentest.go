// Package goldentest compares what a test renders (notifications, webhook
// payloads, postmortem drafts) with golden files kept under testdata/, so
// that a change to the output shows up as a diff in review. Run a test
// with -update to rewrite its golden files from the current output.
package goldentest

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with the current output")

// Compare fails the test when got differs from the file at path, or
// rewrites the file with got when the test runs with -update.
func Compare(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}
