// Package peerbin finds the real programs tests run against — Chromium,
// Alertmanager, Prometheus — the same way for each: a path from an
// environment variable ("off" skips the tests), or a default; a missing
// program skips the test on a developer's machine and fails it in CI (CI
// set), naming the script that installs it.
package peerbin

import (
	"os"
	"os/exec"
	"testing"
)

// Peer describes one program tests need.
type Peer struct {
	// Name is what messages call the program, such as "Chromium".
	Name string
	// Env names the variable that gives its path, or "off".
	Env string
	// Default is the path or command name used when Env is unset.
	Default string
	// Installer is the script that installs it, named in messages.
	Installer string
	// Check reports why a path cannot be run; exec.LookPath's answer
	// when nil.
	Check func(path string) error
}

// Find returns the program's path, or skips or fails t when there is none.
func Find(t testing.TB, p Peer) string {
	t.Helper()
	path := os.Getenv(p.Env)
	if path == "off" {
		t.Skipf("%s tests disabled (%s=off)", p.Name, p.Env)
	}
	explicit := path != ""
	if !explicit {
		path = p.Default
	}
	check := p.Check
	if check == nil {
		check = func(path string) error {
			_, err := exec.LookPath(path)
			return err
		}
	}
	if err := check(path); err != nil {
		switch {
		case explicit:
			t.Fatalf("%s=%s: %v", p.Env, path, err)
		case os.Getenv("CI") != "":
			t.Fatalf("%s is required in CI: %v (%s installs it)", p.Name, err, p.Installer)
		default:
			t.Skipf("%s not installed: %v (%s installs it)", p.Name, err, p.Installer)
		}
	}
	if found, err := exec.LookPath(path); err == nil {
		return found
	}
	return path
}
