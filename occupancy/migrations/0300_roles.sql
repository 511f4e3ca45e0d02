-- Least privilege (docs/privacy.md, "Database roles"): one group role per
-- service. Their privileges come from occupancy/grants.py (one line per table),
-- applied after every `occupancy db migrate`; login and password are given by
-- `occupancy db migrate` when the *_db_password settings are set.
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['occupancy_ingester', 'occupancy_analytics', 'occupancy_dashboard']
  LOOP
    BEGIN
      EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', r);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;  -- roles are per cluster: another database created it already
    END;
  END LOOP;
END
$$;
-- The dashboard/API role never writes: every transaction read-only, bounded.
ALTER ROLE occupancy_dashboard SET default_transaction_read_only = on;
ALTER ROLE occupancy_dashboard SET statement_timeout = '60s';
-- No service may create objects in the schema (PostgreSQL 15 default, stated
-- for older servers).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
