-- Usage partitions are vacuumed often enough that the user and org answers stay index-only.
--
-- The user and org answers read covering indexes (index-only scans). A page that an insert or
-- an update (feedback) touched is not all-visible until vacuum runs, and every row on it then
-- costs a heap fetch: on the demo data the biggest org's answer took 37 ms before a VACUUM and
-- 27 ms after. With the default thresholds (20 % of the table changed or inserted) a month
-- partition of 400k rows waits for 80k changes. Autovacuum options cannot be set on a
-- partitioned table, so each partition gets them: the existing ones here, new ones as
-- `usage_partition_create` makes them (redefined below with that one step added).
CREATE FUNCTION usage_partition_tune(part regclass) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format('ALTER TABLE %s SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 500,
                  autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_vacuum_insert_threshold = 2000)', part);
END
$fn$;

SELECT usage_partition_tune(inhrelid::regclass) FROM pg_inherits WHERE inhparent = 'playground_usage'::regclass;

CREATE OR REPLACE FUNCTION usage_partition_create(month date) RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
  month_start date := date_trunc('month', month::timestamp)::date;
  part text := 'playground_usage_p' || to_char(month_start, 'YYYY_MM');
  lo timestamptz := month_start::timestamp AT TIME ZONE 'UTC';
  hi timestamptz := (month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC';
BEGIN
  IF to_regclass(part) IS NOT NULL THEN RETURN false; END IF;
  EXECUTE format('CREATE TABLE %I (LIKE playground_usage INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
  PERFORM usage_partition_tune(part::regclass);
  EXECUTE format('WITH moved AS (DELETE FROM playground_usage_default WHERE created_at >= %L AND created_at < %L RETURNING *)
                  INSERT INTO %I SELECT * FROM moved', lo, hi, part);
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (created_at >= %L AND created_at < %L)', part, part || '_month', lo, hi);
  EXECUTE format('ALTER TABLE playground_usage ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_month');
  RETURN true;
END
$fn$;
