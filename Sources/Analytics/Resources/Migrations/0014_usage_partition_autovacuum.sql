-- Usage partitions are vacuumed often enough that the user and org answers stay index-only.
--
-- The user and org answers read covering indexes (index-only scans). A page that an insert or
-- an update (feedback) touched is not all-visible until vacuum runs, and every row on it then
-- costs a heap fetch: on the demo data the biggest org's answer took 37 ms before a VACUUM and
-- 27 ms after. With the default thresholds (20 % of the table changed or inserted) a month
-- partition of 400k rows waits for 80k changes. Autovacuum options cannot be set on a
-- partitioned table, so each partition gets them: the existing ones here, new ones as
-- `usage_partition_create` makes them (below).
CREATE FUNCTION usage_partition_tune(part regclass) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  EXECUTE format('ALTER TABLE %s SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 500,
                  autovacuum_vacuum_insert_scale_factor = 0.02, autovacuum_vacuum_insert_threshold = 2000)', part);
END
$fn$;

SELECT usage_partition_tune(inhrelid::regclass) FROM pg_inherits WHERE inhparent = 'playground_usage'::regclass;

-- New partitions get them as they are made: the function of migration 12 keeps its body under
-- another name, and `usage_partition_create` (which the other partition functions call by name)
-- makes the partition with it, then tunes it.
ALTER FUNCTION usage_partition_create(date) RENAME TO usage_partition_make;

CREATE FUNCTION usage_partition_create(month date) RETURNS boolean LANGUAGE plpgsql AS $fn$
BEGIN
  IF NOT usage_partition_make(month) THEN RETURN false; END IF;
  PERFORM usage_partition_tune(('playground_usage_p' || to_char(date_trunc('month', month::timestamp), 'YYYY_MM'))::regclass);
  RETURN true;
END
$fn$;
