-- Analytics reads (dashboard speed, #16): the co-location page with a floor or
-- zone filter sums the daily pair cells and unions the badge bitmaps of a few
-- zones over the period. The primary keys lead with the day, so such a read
-- scanned every zone's rows of the range (a year of 2,000 desks: 338k rows
-- each) and dropped nine in ten. Indexes led by the zone let it read only the
-- filtered zones' rows (EXPLAIN ANALYZE, one floor of four zones over a year,
-- load 14: the pair sums 201-266 -> 115-120 ms; the bitmaps read 710 of 4,491
-- pages). Nothing to refill.
CREATE INDEX IF NOT EXISTS analytics_coloc_pairs_zone_day
    ON analytics_coloc_pairs (zone_id, day);
CREATE INDEX IF NOT EXISTS analytics_coloc_bits_zone_day
    ON analytics_coloc_bits (zone_id, day);
