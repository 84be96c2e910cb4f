-- user rollups: a user's days, and months by model and by package
--
-- A `user/me` miss read the user's raw rows of the window: on the 5M-row seed the heaviest user
-- took 37 ms at 365 days (39k rows). Its answer has no distinct count, only sums, so it is
-- kept by delta triggers like `package_daily_extras` (migration 11): every statement adds its
-- new rows' values and subtracts its old rows' values. Sums commute, so concurrent writers
-- can never make them drift, and a row moved to another user, day, model or package moves its
-- values.
--
-- Grains (measured on the 5M-row seed, heaviest user: 22,475 package-days, 7,225
-- package-months, 2,189 model-days, 365 days):
--   - user_daily_stats: totals and the daily series (at most one row per day of the window);
--   - user_monthly_model_stats, user_monthly_package_stats: the whole months of a window. The
--     answer reads the days before the first whole month (at most 30) from the raw rows, through
--     the covering index `idx_playground_usage_user_cover`.
-- Rows whose sums fall back to zero (all the rows deleted or moved) stay, and the answer skips
-- them: deleting them would race with a concurrent insert of the same key.
-- Retention's deletes (`prpm.retention = on`) leave them alone like the package rollups; the
-- retention job removes the rows older than what it keeps (`usage_user_rollups_expire`).
-- The triggers are named `usage_rollup_user_*`: they fire after the package rollups' triggers
-- (statement triggers of one event fire in name order), so every writer locks rollup rows in
-- the same order: package rows, then user rows, each in key order.
CREATE TABLE user_daily_stats (
  user_id uuid NOT NULL,
  day date NOT NULL,
  runs bigint NOT NULL,
  credits_sum bigint NOT NULL,
  tokens_sum bigint NOT NULL,
  duration_sum bigint NOT NULL,
  PRIMARY KEY (user_id, day)
) WITH (fillfactor = 90);
CREATE TABLE user_monthly_model_stats (
  user_id uuid NOT NULL,
  month date NOT NULL,
  model text NOT NULL,
  runs bigint NOT NULL,
  credits_sum bigint NOT NULL,
  duration_sum bigint NOT NULL,
  PRIMARY KEY (user_id, month, model)
) WITH (fillfactor = 90);
CREATE TABLE user_monthly_package_stats (
  user_id uuid NOT NULL,
  month date NOT NULL,
  package_id uuid NOT NULL,
  runs bigint NOT NULL,
  credits_sum bigint NOT NULL,
  rating_sum bigint NOT NULL,
  rating_count bigint NOT NULL,
  PRIMARY KEY (user_id, month, package_id) INCLUDE (runs, credits_sum, rating_sum, rating_count)
);
-- Only the package months carry their sums in the index. A long window reads thousands of
-- them, one heap page each without it (the heaviest user at 365 days: 7,231 rows on 6,636
-- pages; 16 → 5 ms by index only), as long as their pages are marked all-visible. Ingestion
-- changes only the current month's rows, so past months' pages stay marked; a backfill or a
-- bulk delete of past rows clears their marks until autovacuum's next pass (`VACUUM` the table
-- after one; vacuuming after 1 % of changes cost the mix's writes more than it saved). The
-- price: their updates are never HOT (a summed column is in the index). The days and the model
-- months (at most 365 and about 130 rows per answer) keep plain keys and room on their pages
-- (fillfactor 90), so their updates stay HOT. (With the sums in all three keys and vacuum after
-- 1 % of changes, the mix at 2000 req/s stalled at every autovacuum naptime: 0 HOT updates and
-- 6 vacuums of each table a minute.)

-- The first day of a timestamp's UTC month.
CREATE FUNCTION utc_month(ts timestamptz) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT date_trunc('month', ts AT TIME ZONE 'UTC')::date $$;

-- Adds `added` and subtracts `removed` (rows of playground_usage) in one statement: the three
-- tables in this order, each in key order; groups whose sums do not move are not written (a
-- feedback text edit writes nothing, a rating writes one package-month row).
-- (PL/pgSQL, not SQL: a SQL function plans its statement again at every call, 1.5 ms per
-- 10-row batch; PL/pgSQL keeps the plan.)
CREATE FUNCTION usage_user_rollups_apply(added playground_usage[], removed playground_usage[]) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  written bigint;
BEGIN
  WITH delta AS MATERIALIZED (
    SELECT 1 AS sign, a.* FROM unnest(added) a
    UNION ALL
    SELECT -1, r.* FROM unnest(removed) r
  ), days AS (
    INSERT INTO user_daily_stats AS s (user_id, day, runs, credits_sum, tokens_sum, duration_sum)
    SELECT user_id, utc_day(created_at), sum(sign), sum(sign * credits_spent), sum(sign * tokens_used), sum(sign * duration_ms)
    FROM delta GROUP BY 1, 2
    HAVING (sum(sign), sum(sign * credits_spent), sum(sign * tokens_used), sum(sign * duration_ms)) <> (0, 0, 0, 0)
    ORDER BY 1, 2
    ON CONFLICT (user_id, day) DO UPDATE SET runs = s.runs + excluded.runs, credits_sum = s.credits_sum + excluded.credits_sum,
      tokens_sum = s.tokens_sum + excluded.tokens_sum, duration_sum = s.duration_sum + excluded.duration_sum
    RETURNING 1
  ), models AS (
    INSERT INTO user_monthly_model_stats AS s (user_id, month, model, runs, credits_sum, duration_sum)
    SELECT user_id, utc_month(created_at), model, sum(sign), sum(sign * credits_spent), sum(sign * duration_ms)
    FROM delta GROUP BY 1, 2, 3
    HAVING (sum(sign), sum(sign * credits_spent), sum(sign * duration_ms)) <> (0, 0, 0)
    ORDER BY 1, 2, 3
    ON CONFLICT (user_id, month, model) DO UPDATE SET runs = s.runs + excluded.runs,
      credits_sum = s.credits_sum + excluded.credits_sum, duration_sum = s.duration_sum + excluded.duration_sum
    RETURNING 1
  ), packages AS (
    INSERT INTO user_monthly_package_stats AS s (user_id, month, package_id, runs, credits_sum, rating_sum, rating_count)
    SELECT user_id, utc_month(created_at), package_id, sum(sign), sum(sign * credits_spent),
           sum(sign * coalesce(user_rating, 0)), sum(sign * (user_rating IS NOT NULL)::int)
    FROM delta WHERE package_id IS NOT NULL GROUP BY 1, 2, 3
    HAVING (sum(sign), sum(sign * credits_spent), sum(sign * coalesce(user_rating, 0)), sum(sign * (user_rating IS NOT NULL)::int))
           <> (0, 0, 0, 0)
    ORDER BY 1, 2, 3
    ON CONFLICT (user_id, month, package_id) DO UPDATE SET runs = s.runs + excluded.runs,
      credits_sum = s.credits_sum + excluded.credits_sum, rating_sum = s.rating_sum + excluded.rating_sum,
      rating_count = s.rating_count + excluded.rating_count
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM days) + (SELECT count(*) FROM models) + (SELECT count(*) FROM packages) INTO written;
END
$fn$;

-- Transition tables are visible only in the trigger function's own queries: each trigger
-- hands its rows to the function above as arrays.
CREATE FUNCTION usage_user_rollups_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM usage_user_rollups_apply((SELECT array_agg(n::playground_usage) FROM new_rows n), NULL);
  RETURN NULL;
END
$fn$;

CREATE FUNCTION usage_user_rollups_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  -- Only the rows whose rolled-up columns changed (feedback text and helpfulness move nothing).
  PERFORM usage_user_rollups_apply(array_agg(n::playground_usage), array_agg(o::playground_usage))
  FROM old_rows o JOIN new_rows n ON n.id = o.id
  WHERE (o.user_id, o.created_at, o.model, o.package_id, o.credits_spent, o.tokens_used, o.duration_ms, o.user_rating)
        IS DISTINCT FROM (n.user_id, n.created_at, n.model, n.package_id, n.credits_spent, n.tokens_used, n.duration_ms,
                          n.user_rating)
  HAVING count(*) > 0;
  RETURN NULL;
END
$fn$;

CREATE FUNCTION usage_user_rollups_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF current_setting('prpm.retention', true) = 'on' THEN RETURN NULL; END IF;
  PERFORM usage_user_rollups_apply(NULL, (SELECT array_agg(o::playground_usage) FROM old_rows o));
  RETURN NULL;
END
$fn$;

CREATE TRIGGER usage_rollup_user_insert AFTER INSERT ON playground_usage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_user_rollups_insert();
CREATE TRIGGER usage_rollup_user_update AFTER UPDATE ON playground_usage
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_user_rollups_update();
CREATE TRIGGER usage_rollup_user_delete AFTER DELETE ON playground_usage
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_user_rollups_delete();

-- Rebuilds them from the raw rows (now, and after a bulk load with the triggers off: the seeder).
CREATE FUNCTION usage_user_rollups_rebuild() RETURNS void LANGUAGE sql AS $fn$
  TRUNCATE user_daily_stats, user_monthly_model_stats, user_monthly_package_stats;
  INSERT INTO user_daily_stats
  SELECT user_id, utc_day(created_at), count(*), sum(credits_spent), sum(tokens_used), sum(duration_ms)
  FROM playground_usage GROUP BY 1, 2;
  INSERT INTO user_monthly_model_stats
  SELECT user_id, utc_month(created_at), model, count(*), sum(credits_spent), sum(duration_ms)
  FROM playground_usage GROUP BY 1, 2, 3;
  INSERT INTO user_monthly_package_stats
  SELECT user_id, utc_month(created_at), package_id, count(*), sum(credits_spent), coalesce(sum(user_rating), 0), count(user_rating)
  FROM playground_usage WHERE package_id IS NOT NULL GROUP BY 1, 2, 3;
$fn$;
SELECT usage_user_rollups_rebuild();
ANALYZE user_daily_stats, user_monthly_model_stats, user_monthly_package_stats;

-- Retention: the rows of the days and months before `cutoff` (no window reaches them).
CREATE FUNCTION usage_user_rollups_expire(cutoff timestamptz) RETURNS bigint LANGUAGE sql AS $fn$
  WITH d AS (DELETE FROM user_daily_stats WHERE day < utc_day(cutoff) RETURNING 1),
  m AS (DELETE FROM user_monthly_model_stats WHERE month < utc_month(cutoff) RETURNING 1),
  p AS (DELETE FROM user_monthly_package_stats WHERE month < utc_month(cutoff) RETURNING 1)
  SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM m) + (SELECT count(*) FROM p);
$fn$;
