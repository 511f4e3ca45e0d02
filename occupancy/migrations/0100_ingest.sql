-- Ingest accounting: one row per ingester (MQTT client id), updated in the same
-- transaction as the rows it counts, so the figures survive restarts and add up:
--   received = accepted + rejected + ignored  (messages, once nothing is in flight)
--   events   = events_inserted + events_duplicate
CREATE TABLE ingest_stats (
    client_id         text PRIMARY KEY,
    received          bigint NOT NULL DEFAULT 0,
    accepted          bigint NOT NULL DEFAULT 0,
    rejected          bigint NOT NULL DEFAULT 0,
    ignored           bigint NOT NULL DEFAULT 0,
    events_inserted   bigint NOT NULL DEFAULT 0,
    events_duplicate  bigint NOT NULL DEFAULT 0,
    badges_inserted   bigint NOT NULL DEFAULT 0,
    badges_duplicate  bigint NOT NULL DEFAULT 0,
    started_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Rejections by reason and device for the dashboard's data-quality view.
CREATE INDEX rejected_messages_reason ON rejected_messages (reason, received_at);
