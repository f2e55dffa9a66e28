-- +goose Up
-- A claimed notification is leased to one sender until leased_until, and
-- while the lease holds its attempt may still be running, so nobody else
-- takes it. next_attempt_at says only when the next attempt is due. Rows
-- leased now are also what limits each channel's and project's attempts in
-- flight across replicas.
ALTER TABLE outbox ADD COLUMN leased_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_leased ON outbox (channel_id, project_id, leased_until) WHERE status = 'pending' AND leased_until > 0;

-- +goose Down
-- Migrations are forward-only.
