-- +goose Up
-- Healthchecks' current keyword settings: filter_http_body classifies every
-- HTTP ping by its body, and filter_default_fail makes a filtered ping that
-- matches no keyword a failure instead of ignored. badge_key is the random,
-- public name of a check's status badge, so a badge URL does not give away
-- the ping URL.
ALTER TABLE checks ADD COLUMN filter_http_body BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE checks ADD COLUMN filter_default_fail BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE checks ADD COLUMN badge_key TEXT NOT NULL DEFAULT '';
UPDATE checks SET badge_key = {{random_key}};
CREATE INDEX checks_badge_key ON checks (badge_key);

-- +goose Down
-- Migrations are forward-only.
