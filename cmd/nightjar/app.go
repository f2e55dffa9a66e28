package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/nightjar-dev/nightjar/accounts"
	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/attribution"
	"github.com/nightjar-dev/nightjar/audit"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/console"
	"github.com/nightjar-dev/nightjar/engine"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/integrations"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/password"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/reconcile"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/web"
)

// app is an open database and the areas of Nightjar's state built on it,
// wired once, here, for every command that opens the database: serve,
// apply and user. The consumers each take the areas they use.
type app struct {
	db       *store.DB
	projects *projects.Store
	accounts *accounts.Store
	audit    *audit.Log
	channels *channels.Service
	outbox   *outbox.Outbox
	// alerts is the alert stage every source hands its alert changes to.
	alerts *alerting.Stage
	// checks is the heartbeat-check area. A process has one: its cache of
	// pinged checks is kept for the one SQLite writer.
	checks *checks.Service
	// integrations keeps integration keys and takes in the alerts other
	// monitoring systems send with them.
	integrations *integrations.Service
	// incidents is the incident response area: services, policies,
	// schedules, incidents and their escalation.
	incidents *incidents.Store
	// slos stores service level objectives; ingest counts spans and
	// events for them in memory until the flush module stores them.
	slos   *slos.Service
	ingest *aggregate.Aggregator
	// traces is the sample of failing traces adaptive paging votes over.
	traces *aggregate.Traces
}

// passwords hashes user passwords for every command that opens the
// database; nil is production's cost. Tests set a cheap one.
var passwords *password.Hasher

// openApp opens the configured database and builds the areas on it.
func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger) (*app, error) {
	db, err := store.Open(ctx, cfg.DatabaseDSN(), store.Options{Synchronous: cfg.SQLiteSynchronous, Logger: log})
	if err != nil {
		return nil, err
	}
	return newApp(db, log, time.Duration(cfg.IngestUserCutoff)*time.Second), nil
}

// newApp builds the areas on an open database; log may be nil. userCutoff
// is the uptime cutoff of ingest (config's ingest_user_cutoff), zero for
// the default.
func newApp(db *store.DB, log *slog.Logger, userCutoff time.Duration) *app {
	inc := incidents.New(db)
	alerts := alerting.New(db, incidents.AlertRoute{Store: inc})
	traces, _ := aggregate.NewTraces(attribution.SamplerConfig{})
	a := &app{db: db, projects: projects.New(db), accounts: accounts.New(db, passwords), audit: audit.New(db),
		channels: channels.New(db), outbox: outbox.New(db, inc), alerts: alerts, checks: checks.New(db, alerts, log), incidents: inc,
		integrations: integrations.New(db, alerts), slos: slos.New(db, alerts), ingest: aggregate.New(aggregate.Limits{Cutoff: userCutoff}), traces: traces}
	a.slos.Evidence = engine.TraceEvidence(traces)
	a.slos.UserCutoff = userCutoff
	a.slos.Ingest = a.ingest
	return a
}

// Close closes the database.
func (a *app) Close() error { return a.db.Close() }

// webAreas are the areas the API uses.
func (a *app) webAreas() web.Areas {
	return web.Areas{Projects: a.projects, Audit: a.audit, Channels: a.channels, Outbox: a.outbox, Checks: a.checks, Alerts: a.alerts,
		Integrations: a.integrations, Incidents: a.incidents, SLOs: a.slos, Ingest: a.ingest, Traces: a.traces}
}

// consoleAreas are the areas the console uses.
func (a *app) consoleAreas() console.Areas {
	return console.Areas{Projects: a.projects, Accounts: a.accounts, Audit: a.audit, Channels: a.channels, Outbox: a.outbox,
		Checks: a.checks, Incidents: a.incidents, SLOs: a.slos,
		RefreshIngest: a.refreshIngest}
}

// retention is the engine module that prunes what Nightjar no longer
// needs: sent notifications, and each area's own expired records.
func (a *app) retention() *engine.Retention {
	return &engine.Retention{Outbox: a.outbox, Areas: []engine.Pruner{a.accounts, a.incidents, a.slos}}
}

// reconcileAreas are the areas apply writes.
func (a *app) reconcileAreas() reconcile.Areas {
	return reconcile.Areas{Projects: a.projects, Checks: a.checks}
}

// refreshIngest makes ingest count by the objectives as stored, at start
// and after the API or the console changed one.
func (a *app) refreshIngest(ctx context.Context) error {
	return engine.LoadTargets(ctx, a.slos, a.ingest)
}
