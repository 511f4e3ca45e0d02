-- Analytics (area 02xx): per space (desk or room) and local hour of available
-- time with data, for hour-of-week profiles of single spaces. Hours are local
-- (0-23); the repeated hour of a 25 h DST day sums both. See docs/analytics.md.
CREATE TABLE analytics_space_hourly (
    day          date NOT NULL,
    hour         smallint NOT NULL CHECK (hour BETWEEN 0 AND 23),
    space_id     text NOT NULL,
    measured_s   real NOT NULL,  -- available time with a known state [s]
    occupied_s   real NOT NULL,  -- occupied time [s]
    people_s     real NOT NULL,  -- integral of the head count [people*s]
    peak_people  real NOT NULL   -- largest head count in the hour
);
CREATE INDEX analytics_space_hourly_day ON analytics_space_hourly (day, space_id);
