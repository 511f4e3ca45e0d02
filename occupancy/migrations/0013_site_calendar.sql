-- The building model (core area 00xx): each site's own calendar, from the
-- building file's `site:` block (docs/building.md). NULL: not given, the
-- settings apply (working_hours, working_days, holidays); country: the public
-- holidays of that ISO country code (the holidays package) are closed days
-- too. `occupancy analyze` computes every site in its own time zone with
-- these (analytics.sites).
ALTER TABLE sites
    ADD COLUMN country       text,
    ADD COLUMN working_hours text,
    ADD COLUMN working_days  text[],
    ADD COLUMN holidays      date[];
