-- Building model additions (issue #15): polygons from imported floor plans,
-- assigned desks, room calendars, the department hierarchy and building costs.
-- polygon: JSON list of [x, y] corners [m, floor coordinates, y down]; NULL
-- for rectangles (x, y, width, height stay the bounding box either way).
ALTER TABLE zones ADD COLUMN polygon jsonb NULL;
ALTER TABLE spaces ADD COLUMN polygon jsonb NULL;
ALTER TABLE spaces ADD COLUMN assigned boolean NOT NULL DEFAULT false;
ALTER TABLE spaces ADD COLUMN calendar text NULL;
ALTER TABLE departments ADD COLUMN parent_id text NULL
    REFERENCES departments (department_id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE buildings ADD COLUMN area_m2 double precision NULL CHECK (area_m2 > 0);
ALTER TABLE buildings ADD COLUMN cost_per_m2_year double precision NULL
    CHECK (cost_per_m2_year >= 0);
ALTER TABLE buildings ADD COLUMN cost_per_desk_year double precision NULL
    CHECK (cost_per_desk_year >= 0);
