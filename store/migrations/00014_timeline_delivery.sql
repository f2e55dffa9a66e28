-- +goose Up
-- A notification's timeline entry keeps how its message fared (pending,
-- sent, failed or cancelled, the attempts, the last error, when it was
-- sent, how many went in its bundle), written with each attempt's result,
-- so that an incident's timeline and postmortem keep them once the outbox
-- has pruned its messages. Existing entries take what their message says
-- now.
ALTER TABLE incident_timeline ADD COLUMN delivery_status TEXT NOT NULL DEFAULT '';
ALTER TABLE incident_timeline ADD COLUMN delivery_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incident_timeline ADD COLUMN delivery_error TEXT NOT NULL DEFAULT '';
ALTER TABLE incident_timeline ADD COLUMN delivery_sent_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE incident_timeline ADD COLUMN delivery_bundled INTEGER NOT NULL DEFAULT 0;
UPDATE incident_timeline SET
    delivery_status = COALESCE((SELECT o.status FROM outbox o WHERE o.id = incident_timeline.outbox_id), ''),
    delivery_attempts = COALESCE((SELECT o.attempts FROM outbox o WHERE o.id = incident_timeline.outbox_id), 0),
    delivery_error = COALESCE((SELECT o.last_error FROM outbox o WHERE o.id = incident_timeline.outbox_id), ''),
    delivery_sent_at = COALESCE((SELECT o.sent_at FROM outbox o WHERE o.id = incident_timeline.outbox_id), 0),
    delivery_bundled = COALESCE((SELECT (SELECT COUNT(*) FROM outbox b WHERE b.bundle = o.bundle) FROM outbox o
        WHERE o.id = incident_timeline.outbox_id AND o.bundle <> ''), 0)
WHERE outbox_id <> '';

-- +goose Down
-- Migrations are forward-only.
