-- inserts queue their rows; one folder at a time adds them to the rollups
--
-- A 10-event ingestion batch cost 1.9–2.3 ms of Postgres time, two thirds of it in the
-- insert triggers' rollup upserts (about 90 rollup rows per batch). That cost is per rollup
-- row touched, and the rows of many batches share their rollup rows (today's rows of the
-- popular packages, of the active users): folding 1,000 rows at once costs 45–67 µs of rollup
-- work per row instead of about 130 µs (docs/design-fold-queue.md, docs/performance.md).
--
-- So an insert now writes its rows and appends them to `usage_fold_queue`; `usage_fold()`
-- takes the queue (advisory lock 727276, one folder at a time) and adds its rows to every
-- rollup in one transaction, in the order the insert triggers used (extras, package rollups,
-- user rollups; each in key order). Who folds:
--   - every API process and worker, in the background, about once a second
--     (`usage_fold_try()`: skips when another process is folding);
--   - the site-wide reads of the rollups (popular, summary, the worker's trends), first, when
--     any row waits (`usage_fold_pending()`);
--   - a statement that recomputes package-days (updates of a column other than the rating,
--     feedback or credits; deletes), in `usage_rollup_recompute`: after its exclusive package
--     locks, so the rows of every earlier writer of those packages are folded before it
--     recomputes.
-- The package and user answers do not fold: they add their entity's queued rows to the rollups
-- in the same snapshot (the queue's indexes on package_id and user_id find them), so they are
-- exact without a worker and never wait for a folder, and `user/me` shows a user's writes on
-- the next read.
-- Lock order: package locks (727275), then the queue lock (727276); a holder of the queue lock
-- never waits for a package lock (the fold takes none). So a transaction that inserted (shared
-- package locks) and then deletes cannot deadlock with another deleter on the two locks.
--
-- Rating, helpfulness and credit changes (feedback) still apply their deltas directly: sums
-- commute with the fold's sums. Their package-day and version rows may not exist yet when the
-- row's insert is still queued: `usage_rating_rows` creates them first (runs 0 until the fold
-- adds the insert on top).
--
-- Retention's deletes (`prpm.retention = on`) keep the rollups: a queued row deleted by
-- retention is folded later, as if it had been folded before. The seeder folds before it
-- rebuilds the rollups (a rebuild counts every raw row; the queue must be empty).
CREATE TABLE usage_fold_queue (
  package_id uuid,
  user_id uuid,
  r playground_usage NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000, autovacuum_vacuum_insert_threshold = 5000,
        autovacuum_vacuum_cost_delay = 0);
CREATE INDEX usage_fold_queue_package ON usage_fold_queue (package_id);
CREATE INDEX usage_fold_queue_user ON usage_fold_queue (user_id);

-- Adds rows of playground_usage to every rollup (what the insert triggers did).
CREATE FUNCTION usage_rollups_add(added playground_usage[]) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO package_daily_extras AS e (package_id, day, credits_sum, helpful_yes, helpful_answered)
  SELECT package_id, utc_day(created_at), sum(credits_spent), count(*) FILTER (WHERE was_helpful), count(was_helpful)
  FROM unnest(added) WHERE package_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (package_id, day) DO UPDATE SET credits_sum = e.credits_sum + excluded.credits_sum,
    helpful_yes = e.helpful_yes + excluded.helpful_yes, helpful_answered = e.helpful_answered + excluded.helpful_answered;

  WITH fresh AS (
    INSERT INTO package_daily_users (package_id, day, user_id)
    SELECT DISTINCT package_id, utc_day(created_at), user_id FROM unnest(added)
    WHERE package_id IS NOT NULL ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING
    RETURNING package_id, day
  ), fresh_counts AS (
    SELECT package_id, day, count(*) AS n FROM fresh GROUP BY 1, 2
  ), batch AS (
    SELECT package_id, utc_day(created_at) AS day, count(*) AS runs,
           count(*) FILTER (WHERE error_occurred IS NOT TRUE) AS successes,
           sum(duration_ms) AS duration_sum, sum(tokens_used) AS tokens_sum,
           coalesce(sum(user_rating), 0) AS rating_sum, count(user_rating) AS rating_count
    FROM unnest(added) WHERE package_id IS NOT NULL GROUP BY 1, 2
  )
  INSERT INTO package_daily_stats AS s
  SELECT b.package_id, b.day, b.runs, b.successes, b.duration_sum, b.tokens_sum, b.rating_sum, b.rating_count,
         coalesce(f.n, 0)
  FROM batch b LEFT JOIN fresh_counts f USING (package_id, day) ORDER BY 1, 2
  ON CONFLICT (package_id, day) DO UPDATE SET
    runs = s.runs + excluded.runs, successes = s.successes + excluded.successes,
    duration_sum = s.duration_sum + excluded.duration_sum, tokens_sum = s.tokens_sum + excluded.tokens_sum,
    rating_sum = s.rating_sum + excluded.rating_sum, rating_count = s.rating_count + excluded.rating_count,
    unique_users = s.unique_users + excluded.unique_users;

  INSERT INTO package_daily_model_stats AS s
  SELECT package_id, utc_day(created_at), model, count(*),
         count(*) FILTER (WHERE error_occurred IS NOT TRUE), sum(duration_ms)
  FROM unnest(added) WHERE package_id IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (package_id, day, model) DO UPDATE SET
    runs = s.runs + excluded.runs, successes = s.successes + excluded.successes,
    duration_sum = s.duration_sum + excluded.duration_sum;

  INSERT INTO package_daily_version_stats AS s
  SELECT package_id, utc_day(created_at), package_version, count(*), coalesce(sum(user_rating), 0), count(user_rating)
  FROM unnest(added) WHERE package_id IS NOT NULL AND package_version IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (package_id, day, package_version) DO UPDATE SET
    runs = s.runs + excluded.runs, rating_sum = s.rating_sum + excluded.rating_sum,
    rating_count = s.rating_count + excluded.rating_count;

  INSERT INTO package_user_last_day AS s
  SELECT package_id, user_id, max(utc_day(created_at))
  FROM unnest(added) WHERE package_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (package_id, user_id) DO UPDATE SET last_day = greatest(s.last_day, excluded.last_day);

  PERFORM usage_user_rollups_apply(added, NULL);
END
$fn$;

-- Folds the whole queue (waits for a folder that is running). Returns the rows folded. Each
-- row is folded once: it leaves the queue in the same transaction.
CREATE FUNCTION usage_fold() RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  added playground_usage[];
BEGIN
  PERFORM pg_advisory_xact_lock(727276);
  WITH taken AS (DELETE FROM usage_fold_queue RETURNING r) SELECT array_agg(r) INTO added FROM taken;
  IF added IS NULL THEN RETURN 0; END IF;
  PERFORM usage_rollups_add(added);
  RETURN cardinality(added);
END
$fn$;

-- The background fold: folds the whole queue unless another process is folding (then -1).
CREATE FUNCTION usage_fold_try() RETURNS bigint LANGUAGE plpgsql AS $fn$
BEGIN
  IF NOT pg_try_advisory_xact_lock(727276) THEN RETURN -1; END IF;
  RETURN usage_fold();
END
$fn$;

-- Before a site-wide read of the rollups: folds the queue when any row waits. Returns the rows
-- folded.
CREATE FUNCTION usage_fold_pending() RETURNS bigint LANGUAGE plpgsql AS $fn$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM usage_fold_queue) THEN RETURN 0; END IF;
  RETURN usage_fold();
END
$fn$;

CREATE FUNCTION usage_queue_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO usage_fold_queue (package_id, user_id, r) SELECT n.package_id, n.user_id, n::playground_usage FROM new_rows n;
  RETURN NULL;
END
$fn$;

DROP TRIGGER usage_rollup_insert ON playground_usage;
DROP TRIGGER usage_rollup_extras_insert ON playground_usage;
DROP TRIGGER usage_rollup_user_insert ON playground_usage;
-- Their functions' statements live on in usage_rollups_add.
DROP FUNCTION usage_rollup_on_insert(), usage_extras_insert(), usage_user_rollups_insert();
-- After `usage_lock_insert` (statement triggers of one event fire in name order).
CREATE TRIGGER usage_queue_insert AFTER INSERT ON playground_usage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_queue_insert();

-- A recompute (updates of a column other than the rating, feedback or credits; deletes) runs
-- after migration 8's exclusive package locks, so every earlier writer of its packages has
-- committed: fold their queued rows first, then recompute from the raw rows. The statements that
-- call it resolve `usage_rollup_recompute` by name at run time, so renaming the released
-- function and putting this one in its place changes no released code.
ALTER FUNCTION usage_rollup_recompute(jsonb, jsonb) RENAME TO usage_rollup_recompute_rows;
CREATE FUNCTION usage_rollup_recompute(days_touched jsonb, users_touched jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM usage_fold();
  PERFORM usage_rollup_recompute_rows(days_touched, users_touched);
END
$fn$;

-- A rating change of a row whose insert still waits in the queue finds no package-day or
-- version row to add its delta to (migration 13's UPDATE would lose it). This trigger fires
-- just before that one (name order) and creates the missing rows with zero sums; the fold later
-- adds the insert on top. Existing rows are left alone (no lock, no write).
CREATE FUNCTION usage_rating_rows() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO package_daily_stats (package_id, day, runs, successes, duration_sum, tokens_sum, rating_sum, rating_count, unique_users)
  SELECT DISTINCT n.package_id, utc_day(n.created_at), 0, 0, 0, 0, 0, 0, 0
  FROM old_rows o JOIN new_rows n ON n.id = o.id
  WHERE n.package_id IS NOT NULL AND o.user_rating IS DISTINCT FROM n.user_rating ORDER BY 1, 2
  ON CONFLICT DO NOTHING;
  INSERT INTO package_daily_version_stats (package_id, day, package_version, runs, rating_sum, rating_count)
  SELECT DISTINCT n.package_id, utc_day(n.created_at), n.package_version, 0, 0, 0
  FROM old_rows o JOIN new_rows n ON n.id = o.id
  WHERE n.package_id IS NOT NULL AND n.package_version IS NOT NULL AND o.user_rating IS DISTINCT FROM n.user_rating
  ORDER BY 1, 2, 3
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER usage_rollup_rating_rows AFTER UPDATE ON playground_usage
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rating_rows();
