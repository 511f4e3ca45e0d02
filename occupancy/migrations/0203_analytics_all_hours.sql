-- Analytics (area 02xx): level buckets and space hours keep every hour with
-- data, flagged in_working_hours (working hours and days, holidays excluded);
-- readers select working hours unless Filters.working_hours_only is False.
-- Rows written before this migration were working hours only (default true).
ALTER TABLE analytics_level_buckets
    ADD COLUMN in_working_hours boolean NOT NULL DEFAULT true;
ALTER TABLE analytics_space_hourly
    ADD COLUMN in_working_hours boolean NOT NULL DEFAULT true;

-- `occupancy analyze` finds new and late events by received_at (watermark):
-- without an index that is a scan of every raw event (seconds per run on a
-- year of data). TimescaleDB builds it per chunk.
CREATE INDEX IF NOT EXISTS sensor_events_received_at ON sensor_events (received_at);
CREATE INDEX IF NOT EXISTS badge_sightings_received_at ON badge_sightings (received_at);
