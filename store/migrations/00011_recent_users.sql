-- +goose Up
-- Each user's last request to an objective (slo_id set, service empty) or
-- to a service (service set, slo_id empty) that some replica saw recently:
-- when (Unix milliseconds) and whether it was bad. Every replica writes
-- the users whose last request changed at each ingest flush, keeping the
-- later request when two replicas saw the same user (at the same
-- millisecond a failure wins), and counts the customers having a bad time
-- now from all replicas' rows. user_key is a 64-bit hash of the user's id,
-- never the id. Rows older than the bad-time window are pruned at each
-- flush, so the table holds about one row per recent user and scope.
CREATE TABLE recent_users (
    project_id TEXT NOT NULL,
    slo_id     TEXT NOT NULL,
    service    TEXT NOT NULL,
    user_key   BIGINT NOT NULL,
    last_at    BIGINT NOT NULL,
    failed     INTEGER NOT NULL,
    PRIMARY KEY (project_id, slo_id, service, user_key)
);
CREATE INDEX recent_users_last_at ON recent_users (last_at);

-- +goose Down
-- Migrations are forward-only.
