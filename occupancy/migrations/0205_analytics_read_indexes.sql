-- Analytics reads (area 02xx, dashboard speed): the department mix of shared
-- zones (analytics.read_colocation.read_diversity / read_diversity_weekly)
-- counts distinct badges of rows with source = 'shared' and department_a =
-- department_b only: a partial index holding just those rows turns a scan of
-- every badge row of the range into a scan of the few it needs. Small to
-- maintain (only the matching rows are indexed).
CREATE INDEX IF NOT EXISTS analytics_coloc_badges_shared_self
    ON analytics_coloc_badges (day, zone_id, badge)
    WHERE source = 'shared' AND department_a = department_b;
