-- Analytics (area 02xx, year-scale co-location): the distinct badges behind
-- the co-location cells are stored as one bitmap per cell instead of one row
-- per badge. Each badge pseudonym gets a stable integer code
-- (analytics_badge_codes, assigned by `occupancy analyze` when it first sees
-- the badge); a cell's bit n (leftmost = 0) is set when the badge of code n
-- is behind it. Readers union cells with bit_or and count with bit_count
-- (PostgreSQL >= 14): exact distinct counts over any days and zones, so
-- k-suppression stays exact, at a fraction of the rows (a year of 2,000
-- desks: ~16 M badge rows before). Bitmaps of one table may differ in length
-- (the dictionary grows); readers cast them to one width (bit(n) pads with
-- zeros). Existing rows are converted here; nothing to re-analyse.

CREATE TABLE analytics_badge_codes (
    code   integer GENERATED ALWAYS AS IDENTITY (MINVALUE 0 START WITH 0) PRIMARY KEY,
    badge  text NOT NULL UNIQUE
);

INSERT INTO analytics_badge_codes (badge)
SELECT badge FROM (SELECT badge FROM analytics_coloc_badges
                   UNION SELECT badge FROM analytics_coloc_badges_site
                   UNION SELECT badge FROM analytics_coloc_week_badges) b
 ORDER BY badge;

CREATE TABLE analytics_coloc_bits (
    day           date NOT NULL,
    zone_id       text NOT NULL,
    source        text NOT NULL,
    department_a  text NOT NULL,
    department_b  text NOT NULL,
    bits          bit varying NOT NULL,
    PRIMARY KEY (day, zone_id, department_a, department_b)
);

-- site_id: as analytics_coloc_badges_site since migration 0209 (a site's
-- partition replaces only its own rows; readers bit_or over the sites, so a
-- badge seen in two sites on one day is still one person).
CREATE TABLE analytics_coloc_bits_site (
    day           date NOT NULL,
    source        text NOT NULL,
    department_a  text NOT NULL,
    department_b  text NOT NULL,
    site_id       text NOT NULL DEFAULT '',
    bits          bit varying NOT NULL,
    PRIMARY KEY (day, source, department_a, department_b, site_id)
);

CREATE TABLE analytics_coloc_week_bits (
    week          date NOT NULL,
    source        text NOT NULL,
    department_a  text NOT NULL,
    department_b  text NOT NULL,
    bits          bit varying NOT NULL,
    PRIMARY KEY (week, source, department_a, department_b)
);

-- The empty bitmap as wide as the dictionary, once.
CREATE TEMPORARY TABLE _coloc_zero AS
SELECT repeat('0', GREATEST(count(*)::int, 1))::bit varying AS z FROM analytics_badge_codes;

INSERT INTO analytics_coloc_bits
SELECT t.day, t.zone_id, t.source, t.department_a, t.department_b,
       bit_or(set_bit(z.z, c.code, 1))
  FROM analytics_coloc_badges t JOIN analytics_badge_codes c USING (badge), _coloc_zero z
 GROUP BY 1, 2, 3, 4, 5;

INSERT INTO analytics_coloc_bits_site
SELECT t.day, t.source, t.department_a, t.department_b, t.site_id,
       bit_or(set_bit(z.z, c.code, 1))
  FROM analytics_coloc_badges_site t JOIN analytics_badge_codes c USING (badge), _coloc_zero z
 GROUP BY 1, 2, 3, 4, 5;

INSERT INTO analytics_coloc_week_bits
SELECT t.week, t.source, t.department_a, t.department_b, bit_or(set_bit(z.z, c.code, 1))
  FROM analytics_coloc_week_badges t JOIN analytics_badge_codes c USING (badge), _coloc_zero z
 GROUP BY 1, 2, 3, 4;

DROP TABLE _coloc_zero;
DROP TABLE analytics_coloc_badges;
DROP TABLE analytics_coloc_badges_site;
DROP TABLE analytics_coloc_week_badges;
