-- What the ingester last heard from devices that are not placed in the
-- building (unknown or unassigned), so an installer sees what is missing
-- (issue 12, Devices page): family, the kinds they report, the last topic and
-- payload. last_payload is NULL for BLE/badge messages: those carry raw MACs
-- and beacon ids (personal data) and are never stored here.
-- Written by the ingester, read by the dashboard.
CREATE TABLE device_observations (
    device_id     text PRIMARY KEY,
    family        text NOT NULL,
    kinds         text[] NOT NULL DEFAULT '{}',
    last_topic    text NOT NULL,
    last_payload  text,
    last_heard    timestamptz NOT NULL,
    messages      bigint NOT NULL DEFAULT 0
);
