// Package checkstest sets up the checks area for tests: the area of a
// database with its alert stage, checks to ping, and single pings.
package checkstest

import (
	"context"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/store"
)

// New returns the checks area of db with an alert stage of its own.
func New(db *store.DB) *checks.Service { return checks.New(db, alerting.New(db), nil) }

// Create stores a check with the slug (and name) slug in the project at
// time at: due an hour after each ping with ten minutes' grace, unless mod
// changes that.
func Create(t testing.TB, s *checks.Service, projectID, slug string, at time.Time, mod func(c *nightjar.Check)) *nightjar.Check {
	t.Helper()
	c := nightjar.NewCheck(projectID, slug)
	c.Timeout, c.Grace = time.Hour, 10*time.Minute
	if mod != nil {
		mod(c)
	}
	if err := s.Create(context.Background(), c, at); err != nil {
		t.Fatalf("create check: %v", err)
	}
	return c
}

// Ping records one ping in a batch of its own, as a POST unless req names
// a method, and returns what recording it did.
func Ping(t testing.TB, s *checks.Service, req *checks.PingRequest) checks.PingResult {
	t.Helper()
	if req.Method == "" {
		req.Method = "POST"
	}
	return s.RecordPings(context.Background(), []*checks.PingRequest{req}, 0)[0]
}
