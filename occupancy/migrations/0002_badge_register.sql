-- Badge register: which department a (pseudonymised) badge belongs to, imported
-- from HR with `occupancy badges import`. Raw badge ids are never stored.
CREATE TABLE badge_departments (
    badge         text PRIMARY KEY,
    department_id text NOT NULL REFERENCES departments ON DELETE CASCADE,
    imported_at   timestamptz NOT NULL DEFAULT now()
);
