-- Arrival times of arrival-stamped messages (see 0101), one row per committed
-- batch instead of one row per packet id: a batch appends one row of arrays
-- (no per-message upsert on a primary key), and the ingester deletes the rows
-- older than its recall window. A redelivered message (DUP flag, same packet
-- id) looks its packet id up in the rows of the last positions
-- (last_position > received count - window); the latest position wins.
CREATE TABLE ingest_arrival_batches (
    client_id      text NOT NULL,
    last_position  bigint NOT NULL,
    mids           integer[] NOT NULL,
    positions      bigint[] NOT NULL,
    digests        bigint[] NOT NULL,
    received_at    timestamptz[] NOT NULL
);
CREATE INDEX ingest_arrival_batches_client
    ON ingest_arrival_batches (client_id, last_position);

-- What an ingester recorded before this migration stays recallable.
INSERT INTO ingest_arrival_batches
SELECT client_id, max(position),
       array_agg(mid ORDER BY position), array_agg(position ORDER BY position),
       array_agg(digest ORDER BY position), array_agg(received_at ORDER BY position)
FROM ingest_arrivals GROUP BY client_id;

DROP TABLE ingest_arrivals;
