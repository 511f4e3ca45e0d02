-- Arrival times of messages whose event time depends on when they arrived (no
-- device time, or a device clock corrected to the arrival time), by the MQTT
-- packet id the broker gave them on this ingester's session. A message the
-- broker redelivers after a crash (DUP flag, same packet id) gets its first
-- arrival time back, so the unique keys of sensor_events drop the copy.
-- "position" is the message's place in this client's received count
-- (ingest_stats.received): an entry is trusted only when it is recent enough
-- that its packet id cannot have been reused since. One row per packet id per
-- client: at most 65,535 rows per ingester.
CREATE TABLE ingest_arrivals (
    client_id    text NOT NULL,
    mid          integer NOT NULL,
    position     bigint NOT NULL,
    digest       bigint NOT NULL,
    received_at  timestamptz NOT NULL,
    PRIMARY KEY (client_id, mid)
);
