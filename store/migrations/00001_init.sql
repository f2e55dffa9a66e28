-- +goose Up
-- Times are Unix milliseconds (0 = none) and durations milliseconds, so the
-- same schema and the same Go code serve SQLite and PostgreSQL.
CREATE TABLE projects (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    ping_key   TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE project_members (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL DEFAULT 0,
    revoked_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_project ON api_keys (project_id);

CREATE TABLE checks (
    id                   TEXT PRIMARY KEY,
    project_id           TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    slug                 TEXT NOT NULL,
    tags                 TEXT NOT NULL,
    description          TEXT NOT NULL,
    service              TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    timeout_ms           BIGINT NOT NULL,
    grace_ms             BIGINT NOT NULL,
    schedule             TEXT NOT NULL,
    tz                   TEXT NOT NULL,
    early_tolerance_ms   BIGINT NOT NULL,
    max_runtime_ms       BIGINT NOT NULL,
    min_runtime_ms       BIGINT NOT NULL,
    failure_threshold    INTEGER NOT NULL,
    realert_ms           BIGINT NOT NULL,
    methods              TEXT NOT NULL,
    manual_resume        BOOLEAN NOT NULL,
    metric_rules         TEXT NOT NULL,
    status               TEXT NOT NULL,
    n_pings              BIGINT NOT NULL,
    last_ping            BIGINT NOT NULL,
    last_start           BIGINT NOT NULL,
    last_start_rid       TEXT NOT NULL,
    last_duration_ms     BIGINT NOT NULL,
    expected_at          BIGINT NOT NULL,
    next_deadline        BIGINT NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    last_alert_at        BIGINT NOT NULL,
    last_metrics         TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX checks_project ON checks (project_id, created_at);
CREATE INDEX checks_slug ON checks (project_id, slug);
-- The deadline scan reads only this partial index: checks with nothing to
-- wait for are not in it at all.
CREATE INDEX checks_due ON checks (next_deadline) WHERE next_deadline > 0;

CREATE TABLE pings (
    check_id    TEXT NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    n           BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    scheme      TEXT NOT NULL,
    remote_addr TEXT NOT NULL,
    method      TEXT NOT NULL,
    ua          TEXT NOT NULL,
    rid         TEXT NOT NULL,
    exit_status INTEGER,
    duration_ms BIGINT NOT NULL,
    body        {{blob}} NOT NULL,
    metrics     TEXT NOT NULL,
    note        TEXT NOT NULL,
    PRIMARY KEY (check_id, n)
);

CREATE TABLE flips (
    id          {{serial}},
    check_id    TEXT NOT NULL REFERENCES checks(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX flips_check ON flips (check_id, created_at);

CREATE TABLE channels (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    config     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX channels_project ON channels (project_id);

CREATE TABLE alerts (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    dedup_key  TEXT NOT NULL,
    source     TEXT NOT NULL,
    source_id  TEXT NOT NULL,
    service    TEXT NOT NULL,
    severity   TEXT NOT NULL,
    summary    TEXT NOT NULL,
    details    TEXT NOT NULL,
    status     TEXT NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, dedup_key)
);

-- A notification is a row here, written in the transaction that decided it.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    project_id      TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    channel_id      TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_channel ON outbox (channel_id, created_at);

CREATE TABLE system_state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE downtime_gaps (
    id              {{serial}},
    started_at      BIGINT NOT NULL,
    ended_at        BIGINT NOT NULL,
    checks_adjusted BIGINT NOT NULL
);

-- +goose Down
-- Migrations are forward-only.
