-- Department membership with history (issue #15), from `occupancy people
-- import`: a (pseudonymised) badge belongs to a department from valid_from to
-- valid_to (local dates, both included; NULL = still). A reorganisation adds
-- a row instead of rewriting the old one, so last year's co-location stays as
-- it was. Overlaps are refused by the import. Written by the owner (import),
-- read by analytics (co-location joins the membership valid at each sighting).
CREATE TABLE badge_memberships (
    badge         text NOT NULL,
    department_id text NOT NULL REFERENCES departments ON DELETE CASCADE,
    valid_from    date NOT NULL,
    valid_to      date NULL CHECK (valid_to IS NULL OR valid_to >= valid_from),
    imported_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (badge, valid_from)
);
CREATE INDEX badge_memberships_department ON badge_memberships (department_id);
