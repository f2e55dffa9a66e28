-- +goose Up
-- An objective keeps what its last evaluation decided (its budget, burn
-- rates and rules, as JSON; empty until the first evaluation and after
-- its definition changes), so a list of hundreds of objectives reads them
-- in one query rather than rereading every objective's minutes.
ALTER TABLE slos ADD COLUMN decision TEXT NOT NULL DEFAULT '';

-- Why the last read of a Prometheus objective's counts failed, and when
-- (Unix milliseconds); a read that succeeds clears both. They are stored,
-- not kept by the replica that read, so the API and the console of every
-- replica show them and any replica's evaluation waits for a good read.
ALTER TABLE slos ADD COLUMN source_error TEXT NOT NULL DEFAULT '';
ALTER TABLE slos ADD COLUMN source_error_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
-- Migrations are forward-only.
