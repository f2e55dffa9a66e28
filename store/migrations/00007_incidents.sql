-- +goose Up
-- Incident response: the objects people configure (services, teams,
-- escalation policies, on-call schedules, routing rules, silences,
-- maintenance windows, contact methods and notification rules), and what
-- happens to alerts (incidents, their alerts, their timelines). Settings
-- whose shape the incident and oncall packages decide are kept as JSON.
CREATE TABLE incident_services (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    team_id      TEXT NOT NULL,
    tier         TEXT NOT NULL,
    labels       TEXT NOT NULL,
    runbook_url  TEXT NOT NULL,
    description  TEXT NOT NULL,
    auto_resolve BOOLEAN NOT NULL,
    group_window BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE incident_teams (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    members    TEXT NOT NULL,
    policy_id  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE escalation_policies (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE oncall_schedules (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    definition  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (project_id, name)
);

-- A project's routing rules, in order.
CREATE TABLE incident_routes (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    matchers   TEXT NOT NULL,
    policy_id  TEXT NOT NULL,
    urgency    TEXT NOT NULL,
    PRIMARY KEY (project_id, position)
);

CREATE TABLE silences (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    matchers   TEXT NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    comment    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX silences_project ON silences (project_id, ends_at);

CREATE TABLE maintenance_windows (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    matchers   TEXT NOT NULL,
    time_window TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX maintenance_windows_project ON maintenance_windows (project_id);

-- A person's ways to be reached. The verification code is stored hashed.
CREATE TABLE contact_methods (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    value           TEXT NOT NULL,
    verified        BOOLEAN NOT NULL,
    code_hash       TEXT NOT NULL,
    code_expires_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX contact_methods_user ON contact_methods (user_id);

CREATE TABLE notification_rules (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    method_id  TEXT NOT NULL REFERENCES contact_methods(id) ON DELETE CASCADE,
    delay      BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notification_rules_user ON notification_rules (user_id);

-- The last incident number given in each project.
CREATE TABLE incident_numbers (
    project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    last       BIGINT NOT NULL
);

-- Incidents, with where their escalation stands: the policy's first step
-- counts from esc_since, esc_fired step firings have been sent, and the
-- escalation module next looks at the incident at esc_next (0: never).
CREATE TABLE incidents (
    id                    TEXT PRIMARY KEY,
    project_id            TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    number                BIGINT NOT NULL,
    title                 TEXT NOT NULL,
    service               TEXT NOT NULL,
    urgency               TEXT NOT NULL,
    status                TEXT NOT NULL,
    policy_id             TEXT NOT NULL,
    assignee              TEXT NOT NULL,
    commander             TEXT NOT NULL,
    responders            TEXT NOT NULL,
    channels              TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    acked_at              BIGINT NOT NULL,
    resolved_at           BIGINT NOT NULL,
    esc_since             BIGINT NOT NULL,
    esc_fired             INTEGER NOT NULL,
    esc_next              BIGINT NOT NULL,
    esc_leased_until      BIGINT NOT NULL DEFAULT 0,
    postmortem            TEXT NOT NULL DEFAULT '',
    postmortem_updated_at BIGINT NOT NULL DEFAULT 0,
    postmortem_updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (project_id, number)
);
CREATE INDEX incidents_open ON incidents (project_id, service, status);
CREATE INDEX incidents_due ON incidents (esc_next) WHERE esc_next > 0;

-- An incident's alerts, in the order they joined it.
CREATE TABLE incident_alerts (
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    project_id  TEXT NOT NULL,
    position    INTEGER NOT NULL,
    dedup_key   TEXT NOT NULL,
    summary     TEXT NOT NULL,
    severity    TEXT NOT NULL,
    firing      BOOLEAN NOT NULL,
    fired_at    BIGINT NOT NULL,
    resolved_at BIGINT NOT NULL,
    PRIMARY KEY (incident_id, dedup_key)
);
CREATE INDEX incident_alerts_key ON incident_alerts (project_id, dedup_key);

-- Everything that happened to an incident. A notification's entry names
-- its outbox message, and gets the message's delivery result.
CREATE TABLE incident_timeline (
    id          {{serial}},
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    text        TEXT NOT NULL,
    dedup_key   TEXT NOT NULL,
    users       TEXT NOT NULL,
    channels    TEXT NOT NULL,
    outbox_id   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, at);
CREATE INDEX incident_timeline_outbox ON incident_timeline (outbox_id) WHERE outbox_id <> '';

-- Keys Nightjar makes for itself at first start, such as the one that
-- signs acknowledgement links.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Signed links already used, so each works once.
CREATE TABLE incident_links_used (
    token_hash TEXT PRIMARY KEY,
    used_at    BIGINT NOT NULL
);

-- +goose Down
-- Migrations are forward-only.
