-- +goose Up
-- Integration keys let other monitoring systems (Alertmanager, senders of
-- PagerDuty-style events) send alerts to a project's service. Only the
-- SHA-256 of a key is kept; a revoked key stays, so its name still reads in
-- the audit log, but finds nothing.
CREATE TABLE integration_keys (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    service      TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL DEFAULT 0,
    revoked_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX integration_keys_project ON integration_keys (project_id, created_at);

-- Alerts from other systems carry labels (what routes and silences match)
-- and links (runbook, graph), and can be acknowledged by their sender.
-- Alerts from checks have none of these.
ALTER TABLE alerts ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
ALTER TABLE alerts ADD COLUMN links TEXT NOT NULL DEFAULT '[]';
ALTER TABLE alerts ADD COLUMN acknowledged_at BIGINT NOT NULL DEFAULT 0;
-- A hash of what an alert says, so a sender repeating an alert unchanged
-- (Alertmanager resends whole groups) costs a read, not a write.
ALTER TABLE alerts ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';

-- +goose Down
-- Migrations are forward-only.
