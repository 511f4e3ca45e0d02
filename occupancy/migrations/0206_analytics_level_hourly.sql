-- Analytics (area 02xx, dashboard speed): analytics_level_buckets summed per
-- local hour (analytics.patterns.level_hourly), written by `occupancy analyze`
-- next to the buckets. Sums and extremes only, so the readers (utilization of
-- groups and days, hour-of-week profiles) aggregate a range from these rows
-- (four times fewer than buckets) with the same results.
CREATE TABLE analytics_level_hourly (
    day                 date NOT NULL,             -- local day
    level               text NOT NULL,
    level_id            text NOT NULL,
    hour                smallint NOT NULL,         -- local hour 0-23 (a repeated DST hour: both)
    in_working_hours    boolean NOT NULL,          -- an hour partly in working hours: a row per part
    buckets             integer NOT NULL,          -- level buckets summed
    spaces              integer NOT NULL,          -- max over the buckets
    capacity            integer NOT NULL,          -- max
    desks_measured      integer NOT NULL,          -- max
    capacity_s          double precision NOT NULL, -- sum [seat*s]
    measured_s          double precision NOT NULL, -- sum [s]
    occupied_s          double precision NOT NULL, -- sum [s]
    people_s            double precision NOT NULL, -- sum [people*s]
    peak_people         double precision NOT NULL, -- max
    peak_desks_occupied double precision NOT NULL, -- max
    min_vacant          double precision NOT NULL, -- min of desks_measured - peak_desks_occupied
    PRIMARY KEY (level, day, level_id, hour, in_working_hours)
);
CREATE INDEX analytics_level_hourly_day ON analytics_level_hourly (day);

-- Days analysed before this migration: filled from the stored buckets when
-- the database holds one site (its time zone gives the local hour); with
-- several sites run `occupancy analyze --full` once.
INSERT INTO analytics_level_hourly
SELECT day, level, level_id,
       EXTRACT(hour FROM bucket_start AT TIME ZONE tz.timezone)::smallint,
       in_working_hours, count(*), max(spaces), max(capacity), max(desks_measured),
       sum(capacity_s), sum(measured_s), sum(occupied_s), sum(people_s),
       max(peak_people), max(peak_desks_occupied),
       min(desks_measured - peak_desks_occupied)
  FROM analytics_level_buckets
 CROSS JOIN (SELECT min(timezone) AS timezone FROM sites HAVING count(*) = 1) tz
 GROUP BY 1, 2, 3, 4, 5;
