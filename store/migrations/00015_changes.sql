-- +goose Up
-- Changes made to a service (deploys, configuration changes), sent by
-- deploy scripts and CI, so an incident's notifications can say what
-- changed just before it. A service is named as alerts name it. Kept for
-- 30 days by the retention module.
CREATE TABLE service_changes (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    service     TEXT NOT NULL,
    summary     TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT '',
    happened_at BIGINT NOT NULL,
    links       TEXT NOT NULL DEFAULT '[]',
    details     TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL
);
CREATE INDEX service_changes_service ON service_changes (project_id, service, happened_at);
CREATE INDEX service_changes_created ON service_changes (created_at);

-- +goose Down
-- Migrations are forward-only.
