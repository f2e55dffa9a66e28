-- +goose Up
-- The outbox becomes general: a message goes to a destination of some kind
-- ('channel' today, a person's contact method next), named by kind and id,
-- rather than to a row of channels, so it no longer references that table;
-- deleting a channel deletes its messages in the same transaction instead.
-- Every message has an idempotency key, which receivers see with each
-- attempt; older rows keep their id as their key. The payload is a JSON
-- document with named parts; an older row held the bare alert, which
-- becomes its "alert" part. SQLite cannot drop a foreign key, so the table
-- is built anew, on both databases alike.
CREATE TABLE outbox_new (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    destination_kind TEXT NOT NULL,
    destination_id   TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    event            TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    leased_until     BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT NOT NULL
);
INSERT INTO outbox_new (id, project_id, destination_kind, destination_id, idempotency_key, event, payload,
        status, attempts, next_attempt_at, leased_until, last_error, created_at, sent_at)
    SELECT id, project_id, 'channel', channel_id, id, event, '{"alert":' || payload || '}',
        status, attempts, next_attempt_at, leased_until, last_error, created_at, sent_at
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_destination ON outbox (destination_kind, destination_id, created_at);
CREATE INDEX outbox_project ON outbox (project_id, created_at);
-- Rows leased now limit each destination's and project's attempts in
-- flight across replicas.
CREATE INDEX outbox_leased ON outbox (destination_kind, destination_id, project_id, leased_until) WHERE status = 'pending' AND leased_until > 0;

-- +goose Down
-- Migrations are forward-only.
