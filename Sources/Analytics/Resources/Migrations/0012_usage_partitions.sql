-- playground_usage partitioned by month
--
-- `playground_usage` becomes a table partitioned by range of `created_at`, one partition per
-- UTC calendar month (`playground_usage_pYYYY_MM`) and a default partition for rows outside
-- every monthly one (a timestamp far in the past, a month nobody created yet: an insert never
-- fails for want of a partition). The worker's retention job creates the months ahead
-- (`usage_partitions_maintain`), moves rows that waited in the default partition into a new
-- month of their own, and retires whole expired months (`usage_partition_retire`: fold into
-- `usage_daily_archive` and truncate in one transaction, then drop the empty table) instead
-- of deleting their rows one by one.
--
-- Same columns, types, defaults and checks as the design's table. A partitioned table's
-- primary key must contain the partition key: it is (id, created_at), so `created_at` is
-- NOT NULL (its default, now(), fills it when an insert leaves it out) and ids are unique
-- per timestamp (they come from gen_random_uuid()). The design's indexes and ours keep their
-- names (partitioned indexes); the statement triggers that keep the rollups are re-created
-- on the new table unchanged: they fire for every statement on `playground_usage` whatever
-- partitions it touches. Statements run directly on one partition do not fire them: only
-- the partition functions below do that, and they only move or retire rows.

-- The definitions of the current indexes, triggers and foreign keys, taken before the rename
-- (the columns, defaults and checks are copied with LIKE).
CREATE TEMP TABLE usage_saved_definitions ON COMMIT DROP AS
SELECT 1 AS step, indexdef AS definition FROM pg_indexes
WHERE schemaname = current_schema() AND tablename = 'playground_usage' AND indexname <> 'playground_usage_pkey'
UNION ALL
SELECT 2, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'playground_usage'::regclass AND NOT tgisinternal
UNION ALL
SELECT 3, format('ALTER TABLE playground_usage ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid))
FROM pg_constraint WHERE conrelid = 'playground_usage'::regclass AND contype = 'f';

DO $do$
DECLARE
  item record;
BEGIN
  FOR item IN SELECT indexname FROM pg_indexes
              WHERE schemaname = current_schema() AND tablename = 'playground_usage' AND indexname <> 'playground_usage_pkey'
  LOOP
    EXECUTE format('DROP INDEX %I', item.indexname);
  END LOOP;
END
$do$;
ALTER TABLE playground_usage RENAME TO playground_usage_unpartitioned;
ALTER TABLE playground_usage_unpartitioned RENAME CONSTRAINT playground_usage_pkey TO playground_usage_unpartitioned_pkey;

CREATE TABLE playground_usage (LIKE playground_usage_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
  PARTITION BY RANGE (created_at);
ALTER TABLE playground_usage ALTER COLUMN created_at SET NOT NULL, ADD PRIMARY KEY (id, created_at);
CREATE TABLE playground_usage_default PARTITION OF playground_usage DEFAULT;

-- The partition of the UTC month of `month`, created if missing: an empty table checked to hold
-- only that month, filled with the month's rows found in the default partition (a move: the
-- rows do not change, no rollup trigger fires), then attached (the indexes and foreign keys of
-- the parent are added by the attach). Returns whether it was created.
CREATE FUNCTION usage_partition_create(month date) RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
  month_start date := date_trunc('month', month::timestamp)::date;
  part text := 'playground_usage_p' || to_char(month_start, 'YYYY_MM');
  lo timestamptz := month_start::timestamp AT TIME ZONE 'UTC';
  hi timestamptz := (month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC';
BEGIN
  IF to_regclass(part) IS NOT NULL THEN RETURN false; END IF;
  EXECUTE format('CREATE TABLE %I (LIKE playground_usage INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
  EXECUTE format('WITH moved AS (DELETE FROM playground_usage_default WHERE created_at >= %L AND created_at < %L RETURNING *)
                  INSERT INTO %I SELECT * FROM moved', lo, hi, part);
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (created_at >= %L AND created_at < %L)', part, part || '_month', lo, hi);
  EXECUTE format('ALTER TABLE playground_usage ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_month');
  RETURN true;
END
$fn$;

-- Creates the partitions of every month from `first_month` to `last_month`; returns how many were new.
CREATE FUNCTION usage_partitions_ensure(first_month date, last_month date) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
  month date := date_trunc('month', first_month::timestamp)::date;
  created integer := 0;
BEGIN
  WHILE month <= last_month LOOP
    IF usage_partition_create(month) THEN created := created + 1; END IF;
    month := month + interval '1 month';
  END LOOP;
  RETURN created;
END
$fn$;

-- The worker's upkeep: this UTC month and `months_ahead` more exist, and rows waiting in the
-- default partition get a month of their own unless retention is about to remove them anyway
-- (months ending before `keep_after`). Returns how many partitions were created.
CREATE FUNCTION usage_partitions_maintain(months_ahead integer, keep_after timestamptz) RETURNS integer LANGUAGE plpgsql AS $fn$
DECLARE
  this_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
  created integer;
  waiting date;
BEGIN
  created := usage_partitions_ensure(this_month, (this_month + make_interval(months => months_ahead))::date);
  FOR waiting IN SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date FROM playground_usage_default LOOP
    IF (waiting + interval '1 month')::timestamp AT TIME ZONE 'UTC' > keep_after AND usage_partition_create(waiting) THEN
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END
$fn$;

-- The monthly partitions whose whole month is before `cutoff`, oldest first.
CREATE FUNCTION usage_partitions_expired(cutoff timestamptz) RETURNS SETOF regclass LANGUAGE sql STABLE AS $fn$
  SELECT c.oid::regclass FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'playground_usage'::regclass AND c.relname ~ '^playground_usage_p[0-9]{4}_[0-9]{2}$'
    AND (to_date(substring(c.relname from '[0-9]{4}_[0-9]{2}$'), 'YYYY_MM') + interval '1 month')::timestamp AT TIME ZONE 'UTC'
        <= cutoff
  ORDER BY c.relname
$fn$;

-- Retires one expired partition: its rows are folded into `usage_daily_archive` and removed
-- (TRUNCATE) in the caller's transaction, writes to it held off meanwhile; the empty table is
-- dropped afterwards by `usage_partition_drop_empty` (a drop locks the parent table, so it
-- is a separate, short step). Returns the rows folded.
CREATE FUNCTION usage_partition_retire(part regclass) RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  folded bigint;
BEGIN
  EXECUTE format('LOCK TABLE %s IN SHARE MODE', part);
  EXECUTE format($sql$
    WITH month_groups AS (
      SELECT utc_day(created_at) AS day, package_id, model, org_id, count(*) AS runs,
             count(*) FILTER (WHERE error_occurred IS NOT TRUE), sum(credits_spent), sum(tokens_used), sum(duration_ms),
             coalesce(sum(user_rating), 0), count(user_rating)
      FROM %s GROUP BY 1, 2, 3, 4
    ), folded AS (
      INSERT INTO usage_daily_archive AS a SELECT * FROM month_groups
      ON CONFLICT (day, coalesce(package_id, '00000000-0000-0000-0000-000000000000'::uuid), model,
                   coalesce(org_id, '00000000-0000-0000-0000-000000000000'::uuid))
      DO UPDATE SET runs = a.runs + excluded.runs, successes = a.successes + excluded.successes,
        credits_sum = a.credits_sum + excluded.credits_sum, tokens_sum = a.tokens_sum + excluded.tokens_sum,
        duration_sum = a.duration_sum + excluded.duration_sum, rating_sum = a.rating_sum + excluded.rating_sum,
        rating_count = a.rating_count + excluded.rating_count)
    SELECT coalesce(sum(runs), 0) FROM month_groups $sql$, part) INTO folded;
  EXECUTE format('TRUNCATE %s', part);
  RETURN folded;
END
$fn$;

-- Drops a retired (empty) monthly partition; false, and nothing dropped, if it holds rows.
CREATE FUNCTION usage_partition_drop_empty(part regclass) RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
  found boolean;
BEGIN
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', part) INTO found;
  IF found THEN RETURN false; END IF;
  EXECUTE format('DROP TABLE %s', part);
  RETURN true;
END
$fn$;

-- The months of the rows already there and at least the twelve months retention keeps (at
-- most ten years back: older rows wait in the default partition for retention), this month
-- and three ahead; then the rows, the indexes and the triggers.
SELECT usage_partitions_ensure(
  greatest(least((SELECT min(created_at) FROM playground_usage_unpartitioned), now() - interval '12 months'),
           now() - interval '10 years')::date,
  (now() + interval '3 months')::date);
INSERT INTO playground_usage SELECT * FROM playground_usage_unpartitioned;
DO $do$
DECLARE
  item record;
BEGIN
  FOR item IN SELECT definition FROM usage_saved_definitions ORDER BY step, definition LOOP
    EXECUTE item.definition;
  END LOOP;
END
$do$;
DROP TABLE playground_usage_unpartitioned;
ANALYZE playground_usage;
