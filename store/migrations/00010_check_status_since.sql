-- +goose Up
-- A check keeps when it entered its status and why (the time and reason of
-- its last recorded status change), so pages say "down since 03:10: the job
-- exited with status 2" without searching the flips, and editing a check's
-- settings no longer looks like a status change. settled_status is the
-- status of that change: it tells the end of a routine run of an up check
-- (up → started → up) from the first success after a start from new or
-- late, which is recorded. Existing checks take them from their last flip,
-- or their creation when they have none.
ALTER TABLE checks ADD COLUMN status_since BIGINT NOT NULL DEFAULT 0;
ALTER TABLE checks ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE checks ADD COLUMN settled_status TEXT NOT NULL DEFAULT '';
UPDATE checks SET
    status_since = COALESCE((SELECT f.created_at FROM flips f WHERE f.check_id = checks.id ORDER BY f.created_at DESC, f.id DESC LIMIT 1), created_at),
    status_reason = COALESCE((SELECT f.reason FROM flips f WHERE f.check_id = checks.id ORDER BY f.created_at DESC, f.id DESC LIMIT 1), ''),
    settled_status = COALESCE((SELECT f.to_status FROM flips f WHERE f.check_id = checks.id ORDER BY f.created_at DESC, f.id DESC LIMIT 1), status);

-- +goose Down
-- Migrations are forward-only.
