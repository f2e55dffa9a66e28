-- +goose Up
-- Which channels a check's alerts go to ('*' = all of the project's, or a
-- JSON array of channel ids) and Healthchecks-style keyword filters that
-- classify a ping by its body.
ALTER TABLE checks ADD COLUMN channels TEXT NOT NULL DEFAULT '*';
ALTER TABLE checks ADD COLUMN filter_body BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE checks ADD COLUMN start_kw TEXT NOT NULL DEFAULT '';
ALTER TABLE checks ADD COLUMN success_kw TEXT NOT NULL DEFAULT '';
ALTER TABLE checks ADD COLUMN failure_kw TEXT NOT NULL DEFAULT '';

-- +goose Down
-- Migrations are forward-only.
