-- +goose Up
-- Messages to one of a person's contact methods that fall due together go
-- out as one message that lists them all (a bundle). bundle names the
-- bundle a message was first sent in ('' while it has been sent alone or
-- not at all); it is set when the bundle is made, before its first
-- attempt, and never changes, so every retry sends the same members under
-- the same idempotency key, and a crash between sending and recording the
-- result loses none of them.
ALTER TABLE outbox ADD COLUMN bundle TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_bundle ON outbox (bundle) WHERE bundle <> '';

-- +goose Down
-- Migrations are forward-only.
