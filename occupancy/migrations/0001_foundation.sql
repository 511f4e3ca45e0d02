-- Foundation schema: building metadata, raw events, rejected messages, device
-- health, and the first rollup (per-desk daily utilization).
-- Hypertables are created by the migration runner when TimescaleDB is present
-- (see occupancy/db.py: HYPERTABLES); on plain PostgreSQL these stay ordinary tables.

CREATE TABLE sites (
    site_id     text PRIMARY KEY,
    name        text NOT NULL,
    timezone    text NOT NULL
);

CREATE TABLE buildings (
    building_id text PRIMARY KEY,
    site_id     text NOT NULL REFERENCES sites ON DELETE CASCADE,
    name        text NOT NULL
);

CREATE TABLE departments (
    department_id text PRIMARY KEY,
    site_id       text NOT NULL REFERENCES sites ON DELETE CASCADE,
    name          text NOT NULL,
    headcount     integer NOT NULL CHECK (headcount >= 0),
    color         text
);

CREATE TABLE floors (
    floor_id    text PRIMARY KEY,
    building_id text NOT NULL REFERENCES buildings ON DELETE CASCADE,
    level       integer NOT NULL,
    name        text NOT NULL,
    width_m     double precision NOT NULL,
    height_m    double precision NOT NULL
);

-- kind: neighbourhood (a department's home zone), shared (department-neutral:
-- cafe, project space), meeting (a block of meeting rooms), other.
CREATE TABLE zones (
    zone_id       text PRIMARY KEY,
    floor_id      text NOT NULL REFERENCES floors ON DELETE CASCADE,
    name          text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('neighbourhood', 'shared', 'meeting', 'other')),
    department_id text REFERENCES departments,
    capacity      integer NOT NULL CHECK (capacity >= 0),
    x double precision NOT NULL, y double precision NOT NULL,
    width double precision NOT NULL, height double precision NOT NULL
);

-- Desks and rooms. kind: desk, meeting_room, focus_room, phone_booth.
CREATE TABLE spaces (
    space_id    text PRIMARY KEY,
    zone_id     text NOT NULL REFERENCES zones ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('desk', 'meeting_room', 'focus_room', 'phone_booth')),
    name        text NOT NULL,
    capacity    integer NOT NULL CHECK (capacity >= 1),
    x double precision NOT NULL, y double precision NOT NULL,
    width double precision NOT NULL, height double precision NOT NULL
);

-- Devices. kind: desk_sensor, room_counter, zone_counter, ble_scanner.
-- space_id is a desk or room, zone_id a zone; assigned=false for devices the
-- ingester discovered (availability, discovery) that no building file names.
CREATE TABLE devices (
    device_id   text PRIMARY KEY,
    site_id     text REFERENCES sites ON DELETE CASCADE,
    kind        text NOT NULL,
    family      text NOT NULL DEFAULT 'occupancy',
    space_id    text REFERENCES spaces ON DELETE SET NULL,
    zone_id     text REFERENCES zones ON DELETE SET NULL,
    topic       text,
    assigned    boolean NOT NULL DEFAULT true
);

CREATE TABLE sensor_events (
    ts          timestamptz NOT NULL,
    device_id   text NOT NULL,
    space_id    text,
    kind        text NOT NULL,
    value       double precision,
    seq         bigint NOT NULL DEFAULT -1,
    ts_source   text NOT NULL DEFAULT 'device',
    family      text NOT NULL DEFAULT 'occupancy',
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (device_id, kind, seq, ts)
);
CREATE INDEX sensor_events_space_ts ON sensor_events (space_id, ts);

CREATE TABLE badge_sightings (
    ts          timestamptz NOT NULL,
    device_id   text NOT NULL,
    zone_id     text,
    badge       text NOT NULL,
    rssi        real,
    seq         bigint NOT NULL DEFAULT -1,
    ts_source   text NOT NULL DEFAULT 'device',
    family      text NOT NULL DEFAULT 'occupancy',
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (device_id, badge, seq, ts)
);
CREATE INDEX badge_sightings_zone_ts ON badge_sightings (zone_id, ts);

CREATE TABLE rejected_messages (
    id          bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    topic       text NOT NULL,
    payload     bytea NOT NULL,
    reason      text NOT NULL,
    detail      text NOT NULL DEFAULT '',
    device_id   text
);
CREATE INDEX rejected_messages_received_at ON rejected_messages (received_at);

CREATE TABLE device_health (
    device_id    text PRIMARY KEY,
    last_seen    timestamptz,
    battery_pct  double precision,
    online       boolean,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Skeleton rollup: per desk and local day, occupied seconds inside working hours.
CREATE TABLE desk_daily_utilization (
    day          date NOT NULL,
    space_id     text NOT NULL,
    occupied_s   double precision NOT NULL,
    available_s  double precision NOT NULL,
    time_used_pct double precision NOT NULL,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, space_id)
);
