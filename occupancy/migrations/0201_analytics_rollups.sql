-- Analytics rollups (area 02xx). All cover *available* time only (working hours
-- and days of the site, holidays excluded); see docs/analytics.md.

-- Per space (desk or room) and local day.
CREATE TABLE analytics_space_daily (
    day              date NOT NULL,
    space_id         text NOT NULL,
    available_s      double precision NOT NULL,  -- available time of the day [s]
    measured_s       double precision NOT NULL,  -- available time with a known state [s]
    occupied_s       double precision NOT NULL,  -- available time occupied [s]
    occupied_total_s double precision NOT NULL,  -- occupied over the whole local day [s]
    people_s         double precision NOT NULL,  -- integral of the head count [people*s]
    peak_people      double precision NOT NULL,
    stuck_s          double precision NOT NULL,  -- available time excluded: stuck sensor [s]
    sessions         integer NOT NULL,
    hours_used       integer NOT NULL,           -- local hours above the min-use threshold
    used_day         boolean NOT NULL,           -- day above the min-use threshold
    PRIMARY KEY (day, space_id)
);

-- Per group of spaces (level: zone, floor, building, department, room) and bucket.
CREATE TABLE analytics_level_buckets (
    bucket_start       timestamptz NOT NULL,
    day                date NOT NULL,
    level              text NOT NULL,
    level_id           text NOT NULL,
    spaces             integer NOT NULL,          -- spaces with a sensor in the group
    capacity           integer NOT NULL,          -- their seats
    measured_spaces    integer NOT NULL,          -- of which with data in this bucket
    desks_measured     integer NOT NULL,
    capacity_s         double precision NOT NULL, -- sum of seats x measured time [seat*s]
    measured_s         double precision NOT NULL, -- sum of measured time [s]
    occupied_s         double precision NOT NULL, -- sum of occupied time [s]
    people_s           double precision NOT NULL, -- integral of people [people*s]
    peak_people        double precision NOT NULL, -- largest simultaneous total
    peak_desks_occupied double precision NOT NULL,
    PRIMARY KEY (level, level_id, bucket_start)
);
CREATE INDEX analytics_level_buckets_day ON analytics_level_buckets (day);

-- Time a room spent at each head count while occupied, per local day.
CREATE TABLE analytics_room_headcount (
    day       date NOT NULL,
    space_id  text NOT NULL,
    people    integer NOT NULL,
    seconds   double precision NOT NULL,
    PRIMARY KEY (day, space_id, people)
);

-- Department presence per zone and bucket from badge sightings (the badge
-- pseudonyms are kept only to count distinct people for k-anonymity; never output).
CREATE TABLE analytics_dept_presence (
    bucket_start  timestamptz NOT NULL,
    day           date NOT NULL,
    zone_id       text NOT NULL,
    source        text NOT NULL,
    department_id text NOT NULL,
    people        integer NOT NULL,
    badges        text[] NOT NULL,
    PRIMARY KEY (zone_id, bucket_start, department_id)
);
CREATE INDEX analytics_dept_presence_day ON analytics_dept_presence (day);

-- Stuck sensors and other data-quality findings per space and day.
CREATE TABLE analytics_data_quality (
    day       date NOT NULL,
    space_id  text NOT NULL,
    issue     text NOT NULL,
    seconds   double precision NOT NULL,
    PRIMARY KEY (day, space_id, issue)
);

-- Imported bookings (no names).
CREATE TABLE analytics_bookings (
    booking_id          bigserial PRIMARY KEY,
    room_id             text NOT NULL,
    start_ts            timestamptz NOT NULL,
    end_ts              timestamptz NOT NULL CHECK (end_ts > start_ts),
    organiser_department text,
    expected_attendees  integer,
    imported_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (room_id, start_ts, end_ts)
);

-- What `occupancy analyze` has seen: events received up to this instant.
CREATE TABLE analytics_watermark (
    name         text PRIMARY KEY,
    received_at  timestamptz NOT NULL,
    computed_at  timestamptz NOT NULL DEFAULT now()
);
