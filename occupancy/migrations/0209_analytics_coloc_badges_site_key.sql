-- Analytics (area 02xx): `occupancy analyze` computes each site apart (site x
-- chunk partitions, analytics.sites), so the site-wide co-location badges
-- carry their site: a badge seen in two sites on one day gives one row per
-- site (readers count DISTINCT badge, so it is still one person), and a
-- partition replaces only its own site's rows. Rows written before this
-- migration get '' and are replaced by the next run of the configured site
-- (or by `occupancy analyze --full`).
ALTER TABLE analytics_coloc_badges_site
    ADD COLUMN site_id text NOT NULL DEFAULT '';
ALTER TABLE analytics_coloc_badges_site
    DROP CONSTRAINT analytics_coloc_badges_site_pkey;
ALTER TABLE analytics_coloc_badges_site
    ADD PRIMARY KEY (day, source, department_a, department_b, badge, site_id);
