-- The building model (core area 00xx): each site's demand changes announced
-- in advance, from the building file's `site: planned_changes:` block
-- (docs/building.md): a JSON list of {date, factor, floors, departments,
-- note} (occupancy.planned_changes.to_records; empty: none). The forecast
-- applies those dated after its history (docs/metrics.md, "Planned changes").
ALTER TABLE sites
    ADD COLUMN planned_changes jsonb NOT NULL DEFAULT '[]'::jsonb;
