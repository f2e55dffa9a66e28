package main

import (
	"log/slog"

	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/store"
)

// app is Nightjar's areas wired on one open database, built once by each
// command that needs them, so every part of a process shares them (the
// checks area's cache of pinged checks, for one, is only right when one
// checks area writes through the process's one SQLite writer).
type app struct {
	db *store.DB
	// alerts is the alert stage every source hands its alert changes to.
	alerts *alerting.Stage
	// checks is the heartbeat-check area.
	checks *checks.Service
}

// newApp wires the areas on db; log may be nil.
func newApp(db *store.DB, log *slog.Logger) *app {
	alerts := alerting.New(db)
	return &app{db: db, alerts: alerts, checks: checks.New(db, alerts, log)}
}
