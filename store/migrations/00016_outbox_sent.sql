-- +goose Up
-- Delivery keeps each destination to a number of messages a minute,
-- counted from what was sent to it in the last minute on every replica;
-- this finds those sends without reading the destination's whole history.
CREATE INDEX outbox_sent ON outbox (destination_kind, destination_id, sent_at) WHERE status = 'sent';

-- +goose Down
-- Migrations are forward-only.
