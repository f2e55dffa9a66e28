-- +goose Up
-- Service level objectives, one per project, service and name, with the
-- definition as people wrote it (JSON) and what the evaluation remembers
-- between minutes (since when each severity fires). next_eval_at is when
-- the objective is next evaluated; replicas divide due objectives with
-- FOR UPDATE SKIP LOCKED.
CREATE TABLE slos (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    service      TEXT NOT NULL,
    name         TEXT NOT NULL,
    definition   TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT '{}',
    next_eval_at BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (project_id, service, name)
);
CREATE INDEX slos_due ON slos (next_eval_at);

-- Per-minute counters of each objective, added to by every replica's
-- flushes (INSERT … ON CONFLICT DO UPDATE SET good = good + excluded.good),
-- so the sums stay right however many replicas ingest. minute is the
-- minute's start in Unix milliseconds; l0 … l11 are the latency
-- histogram's buckets (slo.LatencyBounds and one for slower requests).
-- updated_at is when a flush last added to the row, so that each minute's
-- evaluation rereads only the rows that changed.
CREATE TABLE slo_minutes (
    slo_id  TEXT NOT NULL REFERENCES slos(id) ON DELETE CASCADE,
    minute  BIGINT NOT NULL,
    good    BIGINT NOT NULL,
    total   BIGINT NOT NULL,
    up_ms   BIGINT NOT NULL,
    down_ms BIGINT NOT NULL,
    l0 BIGINT NOT NULL, l1 BIGINT NOT NULL, l2 BIGINT NOT NULL, l3 BIGINT NOT NULL,
    l4 BIGINT NOT NULL, l5 BIGINT NOT NULL, l6 BIGINT NOT NULL, l7 BIGINT NOT NULL,
    l8 BIGINT NOT NULL, l9 BIGINT NOT NULL, l10 BIGINT NOT NULL, l11 BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (slo_id, minute)
);
CREATE INDEX slo_minutes_minute ON slo_minutes (minute);

-- +goose Down
-- Migrations are forward-only.
