-- Analytics (area 02xx, dashboard speed): the week cells of the released
-- co-location figures (analytics.coloc_weeks), precomputed by `occupancy
-- analyze` from the daily co-location tables for every ISO week it touches.
-- Released figures are built from whole local ISO weeks, each week's cell
-- k-suppressed on its own (analytics.release, docs/privacy.md); the counts
-- here are unsuppressed and the reader applies k to each week. Re-run
-- `occupancy analyze --full` once to fill them for days analysed before (until
-- then the reader computes the weeks from the daily tables).

-- Per week (its Monday), source (neighbourhood, meeting, shared, all) and
-- department pair: buckets both present (a = b: a was), distinct badges of
-- each side behind the cell, buckets each side was present, buckets anyone.
CREATE TABLE analytics_coloc_week (
    week          date NOT NULL,
    source        text NOT NULL,
    department_a  text NOT NULL,
    department_b  text NOT NULL,
    buckets       bigint NOT NULL,
    people_a      integer NOT NULL,
    people_b      integer NOT NULL,
    buckets_a     bigint,
    buckets_b     bigint,
    buckets_any   bigint,
    PRIMARY KEY (week, source, department_a, department_b)
);

-- The distinct badges (pseudonyms) of department a behind each week cell:
-- a range's people are counted over the weeks in which the cell was released.
CREATE TABLE analytics_coloc_week_badges (
    week          date NOT NULL,
    source        text NOT NULL,
    department_a  text NOT NULL,
    department_b  text NOT NULL,
    badge         text NOT NULL,
    PRIMARY KEY (week, source, department_a, department_b, badge)
);
