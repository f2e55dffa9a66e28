-- +goose Up
-- An objective keeps what its last evaluation decided (its budget, burn
-- rates and rules, as JSON; empty until the first evaluation and after
-- its definition changes), so a list of hundreds of objectives reads them
-- in one query rather than rereading every objective's minutes.
ALTER TABLE slos ADD COLUMN decision TEXT NOT NULL DEFAULT '';

-- +goose Down
-- Migrations are forward-only.
