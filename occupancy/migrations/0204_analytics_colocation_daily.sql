-- Analytics (area 02xx): per local day, the counts behind the co-location
-- matrix and the diversity index (analytics.colocation.colocation_daily), so
-- dashboard reads are SQL aggregation (SUM buckets, COUNT(DISTINCT badge))
-- over the range instead of parsing every bucket's badge array. Filled by
-- `occupancy analyze` next to analytics_dept_presence; re-run
-- `occupancy analyze --full` once to fill them for days analysed before.

-- Buckets in which both departments were present in the zone (a = b: a was).
CREATE TABLE analytics_coloc_pairs (
    day           date NOT NULL,
    zone_id       text NOT NULL,
    source        text NOT NULL,
    department_a  text NOT NULL,
    department_b  text NOT NULL,
    buckets       integer NOT NULL,
    PRIMARY KEY (day, zone_id, department_a, department_b)
);

-- Buckets in which anyone (of a registered department) was present.
CREATE TABLE analytics_coloc_zone (
    day      date NOT NULL,
    zone_id  text NOT NULL,
    source   text NOT NULL,
    buckets  integer NOT NULL,
    PRIMARY KEY (day, zone_id)
);

-- Buckets a department was present, and Σ distinct people over those buckets.
CREATE TABLE analytics_coloc_dept (
    day             date NOT NULL,
    zone_id         text NOT NULL,
    source          text NOT NULL,
    department_id   text NOT NULL,
    buckets         integer NOT NULL,
    people_buckets  bigint NOT NULL,
    PRIMARY KEY (day, zone_id, department_id)
);

-- One row per badge (pseudonym) of department a seen in the zone that day in
-- a bucket where department b was present (a = b: every badge of a), for
-- exact k-suppression by distinct people over any range.
CREATE TABLE analytics_coloc_badges (
    day           date NOT NULL,
    zone_id       text NOT NULL,
    source        text NOT NULL,
    department_a  text NOT NULL,
    department_b  text NOT NULL,
    badge         text NOT NULL,
    PRIMARY KEY (day, zone_id, department_a, department_b, badge)
);

-- The same badges without the zone (one row per badge, day, source and pair):
-- what unfiltered reads count, several times fewer rows.
CREATE TABLE analytics_coloc_badges_site (
    day           date NOT NULL,
    source        text NOT NULL,
    department_a  text NOT NULL,
    department_b  text NOT NULL,
    badge         text NOT NULL,
    PRIMARY KEY (day, source, department_a, department_b, badge)
);
