-- package rollups maintained by triggers
--
-- Per-package daily rollups, kept exact by statement-level triggers on `playground_usage`:
-- inserts are added incrementally from the statement's transition table (one upsert per
-- package-day of the batch, not per row); updates and deletes recompute the package-days
-- they touch from the raw rows. Retention's deletes (which set `prpm.retention = on`) leave
-- the rollups alone: they are the aggregates kept forever.
CREATE TABLE package_daily_stats (
  package_id uuid NOT NULL, day date NOT NULL,
  runs bigint NOT NULL, successes bigint NOT NULL,
  duration_sum bigint NOT NULL, tokens_sum bigint NOT NULL,
  rating_sum bigint NOT NULL, rating_count bigint NOT NULL,
  unique_users bigint NOT NULL,
  PRIMARY KEY (package_id, day)
);
CREATE TABLE package_daily_model_stats (
  package_id uuid NOT NULL, day date NOT NULL, model text NOT NULL,
  runs bigint NOT NULL, successes bigint NOT NULL, duration_sum bigint NOT NULL,
  PRIMARY KEY (package_id, day, model)
);
CREATE TABLE package_daily_version_stats (
  package_id uuid NOT NULL, day date NOT NULL, package_version text NOT NULL,
  runs bigint NOT NULL, rating_sum bigint NOT NULL, rating_count bigint NOT NULL,
  PRIMARY KEY (package_id, day, package_version)
);
-- Who used a package on a day (for the daily distinct-user counts).
CREATE TABLE package_daily_users (
  package_id uuid NOT NULL, day date NOT NULL, user_id uuid NOT NULL,
  PRIMARY KEY (package_id, day, user_id)
);
-- The last day each user used each package: distinct users of a window ending today
-- are the users whose last day is inside it.
CREATE TABLE package_user_last_day (
  package_id uuid NOT NULL, user_id uuid NOT NULL, last_day date NOT NULL,
  PRIMARY KEY (package_id, user_id)
);
CREATE INDEX idx_package_user_last_day ON package_user_last_day(package_id, last_day);

-- Adds a batch of new usage rows (a transition table copied into tmp_usage_batch).
CREATE FUNCTION usage_rollup_add_batch() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  WITH fresh AS (
    INSERT INTO package_daily_users (package_id, day, user_id)
    SELECT DISTINCT package_id, utc_day(created_at), user_id FROM tmp_usage_batch
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
    FROM tmp_usage_batch WHERE package_id IS NOT NULL GROUP BY 1, 2
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
  FROM tmp_usage_batch WHERE package_id IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (package_id, day, model) DO UPDATE SET
    runs = s.runs + excluded.runs, successes = s.successes + excluded.successes,
    duration_sum = s.duration_sum + excluded.duration_sum;

  INSERT INTO package_daily_version_stats AS s
  SELECT package_id, utc_day(created_at), package_version, count(*), coalesce(sum(user_rating), 0), count(user_rating)
  FROM tmp_usage_batch WHERE package_id IS NOT NULL AND package_version IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (package_id, day, package_version) DO UPDATE SET
    runs = s.runs + excluded.runs, rating_sum = s.rating_sum + excluded.rating_sum,
    rating_count = s.rating_count + excluded.rating_count;

  INSERT INTO package_user_last_day AS s
  SELECT package_id, user_id, max(utc_day(created_at))
  FROM tmp_usage_batch WHERE package_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (package_id, user_id) DO UPDATE SET last_day = greatest(s.last_day, excluded.last_day);
END
$fn$;

-- Recomputes the rollups of the given package-days and package-users from the raw rows.
CREATE FUNCTION usage_rollup_recompute(days_touched jsonb, users_touched jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  CREATE TEMP TABLE IF NOT EXISTS tmp_rollup_keys (package_id uuid, day date) ON COMMIT DELETE ROWS;
  DELETE FROM tmp_rollup_keys;
  INSERT INTO tmp_rollup_keys
  SELECT DISTINCT (e->>'p')::uuid, (e->>'d')::date FROM jsonb_array_elements(days_touched) e;

  DELETE FROM package_daily_stats s USING tmp_rollup_keys k WHERE s.package_id = k.package_id AND s.day = k.day;
  DELETE FROM package_daily_model_stats s USING tmp_rollup_keys k WHERE s.package_id = k.package_id AND s.day = k.day;
  DELETE FROM package_daily_version_stats s USING tmp_rollup_keys k WHERE s.package_id = k.package_id AND s.day = k.day;
  DELETE FROM package_daily_users s USING tmp_rollup_keys k WHERE s.package_id = k.package_id AND s.day = k.day;

  CREATE TEMP TABLE IF NOT EXISTS tmp_usage_batch (LIKE playground_usage) ON COMMIT DELETE ROWS;
  DELETE FROM tmp_usage_batch;
  INSERT INTO tmp_usage_batch
  SELECT u.* FROM tmp_rollup_keys k JOIN playground_usage u
    ON u.package_id = k.package_id
   AND u.created_at >= (k.day::timestamp AT TIME ZONE 'UTC')
   AND u.created_at < ((k.day + 1)::timestamp AT TIME ZONE 'UTC');
  PERFORM usage_rollup_add_batch();

  DELETE FROM package_user_last_day s
  USING (SELECT DISTINCT (e->>'p')::uuid AS package_id, (e->>'u')::uuid AS user_id FROM jsonb_array_elements(users_touched) e) t
  WHERE s.package_id = t.package_id AND s.user_id = t.user_id;
  INSERT INTO package_user_last_day
  SELECT u.package_id, u.user_id, max(utc_day(u.created_at))
  FROM (SELECT DISTINCT (e->>'p')::uuid AS package_id, (e->>'u')::uuid AS user_id FROM jsonb_array_elements(users_touched) e) t
  JOIN playground_usage u ON u.package_id = t.package_id AND u.user_id = t.user_id
  GROUP BY 1, 2
  ON CONFLICT (package_id, user_id) DO UPDATE SET last_day = excluded.last_day;
  DELETE FROM tmp_usage_batch;
END
$fn$;

CREATE FUNCTION usage_rollup_on_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  CREATE TEMP TABLE IF NOT EXISTS tmp_usage_batch (LIKE playground_usage) ON COMMIT DELETE ROWS;
  DELETE FROM tmp_usage_batch;
  INSERT INTO tmp_usage_batch SELECT * FROM new_rows;
  PERFORM usage_rollup_add_batch();
  DELETE FROM tmp_usage_batch;
  RETURN NULL;
END
$fn$;

CREATE FUNCTION usage_rollup_on_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  touched_days jsonb;
  touched_users jsonb;
BEGIN
  -- Only columns the rollups read matter (feedback text, was_helpful… do not).
  SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object('p', package_id, 'd', utc_day(created_at))), '[]'::jsonb)
    INTO touched_days
    FROM (SELECT o.package_id, o.created_at FROM old_rows o JOIN new_rows n ON n.id = o.id
          WHERE (o.package_id, o.user_id, o.created_at, o.model, o.package_version, o.error_occurred, o.duration_ms,
                 o.tokens_used, o.user_rating)
                IS DISTINCT FROM (n.package_id, n.user_id, n.created_at, n.model, n.package_version, n.error_occurred,
                                  n.duration_ms, n.tokens_used, n.user_rating)
          UNION ALL
          SELECT n.package_id, n.created_at FROM old_rows o JOIN new_rows n ON n.id = o.id
          WHERE (o.package_id, o.user_id, o.created_at, o.model, o.package_version, o.error_occurred, o.duration_ms,
                 o.tokens_used, o.user_rating)
                IS DISTINCT FROM (n.package_id, n.user_id, n.created_at, n.model, n.package_version, n.error_occurred,
                                  n.duration_ms, n.tokens_used, n.user_rating)) r
   WHERE package_id IS NOT NULL;
  IF touched_days = '[]'::jsonb THEN RETURN NULL; END IF;
  SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object('p', package_id, 'u', user_id)), '[]'::jsonb)
    INTO touched_users
    FROM (SELECT o.package_id, o.user_id FROM old_rows o JOIN new_rows n ON n.id = o.id
          WHERE (o.package_id, o.user_id, utc_day(o.created_at)) IS DISTINCT FROM (n.package_id, n.user_id, utc_day(n.created_at))
          UNION ALL
          SELECT n.package_id, n.user_id FROM old_rows o JOIN new_rows n ON n.id = o.id
          WHERE (o.package_id, o.user_id, utc_day(o.created_at)) IS DISTINCT FROM (n.package_id, n.user_id, utc_day(n.created_at))) r
   WHERE package_id IS NOT NULL;
  PERFORM usage_rollup_recompute(touched_days, touched_users);
  RETURN NULL;
END
$fn$;

CREATE FUNCTION usage_rollup_on_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  touched_days jsonb;
  touched_users jsonb;
BEGIN
  IF current_setting('prpm.retention', true) = 'on' THEN RETURN NULL; END IF;
  SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object('p', package_id, 'd', utc_day(created_at))), '[]'::jsonb),
         coalesce(jsonb_agg(DISTINCT jsonb_build_object('p', package_id, 'u', user_id)), '[]'::jsonb)
    INTO touched_days, touched_users
    FROM old_rows WHERE package_id IS NOT NULL;
  IF touched_days = '[]'::jsonb THEN RETURN NULL; END IF;
  PERFORM usage_rollup_recompute(touched_days, touched_users);
  RETURN NULL;
END
$fn$;

CREATE TRIGGER usage_rollup_insert AFTER INSERT ON playground_usage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_on_insert();
CREATE TRIGGER usage_rollup_update AFTER UPDATE ON playground_usage
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_on_update();
CREATE TRIGGER usage_rollup_delete AFTER DELETE ON playground_usage
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_on_delete();

-- Rebuilds every rollup from the raw rows (after a bulk load with triggers disabled).
CREATE FUNCTION usage_rollup_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  TRUNCATE package_daily_stats, package_daily_model_stats, package_daily_version_stats,
           package_daily_users, package_user_last_day;
  INSERT INTO package_daily_users
  SELECT DISTINCT package_id, utc_day(created_at), user_id FROM playground_usage WHERE package_id IS NOT NULL;
  INSERT INTO package_daily_stats
  SELECT u.package_id, u.day, u.runs, u.successes, u.duration_sum, u.tokens_sum, u.rating_sum, u.rating_count, d.n
  FROM (SELECT package_id, utc_day(created_at) AS day, count(*) AS runs,
               count(*) FILTER (WHERE error_occurred IS NOT TRUE) AS successes,
               sum(duration_ms) AS duration_sum, sum(tokens_used) AS tokens_sum,
               coalesce(sum(user_rating), 0) AS rating_sum, count(user_rating) AS rating_count
        FROM playground_usage WHERE package_id IS NOT NULL GROUP BY 1, 2) u
  JOIN (SELECT package_id, day, count(*) AS n FROM package_daily_users GROUP BY 1, 2) d USING (package_id, day);
  INSERT INTO package_daily_model_stats
  SELECT package_id, utc_day(created_at), model, count(*), count(*) FILTER (WHERE error_occurred IS NOT TRUE), sum(duration_ms)
  FROM playground_usage WHERE package_id IS NOT NULL GROUP BY 1, 2, 3;
  INSERT INTO package_daily_version_stats
  SELECT package_id, utc_day(created_at), package_version, count(*), coalesce(sum(user_rating), 0), count(user_rating)
  FROM playground_usage WHERE package_id IS NOT NULL AND package_version IS NOT NULL GROUP BY 1, 2, 3;
  INSERT INTO package_user_last_day
  SELECT package_id, user_id, max(utc_day(created_at)) FROM playground_usage WHERE package_id IS NOT NULL GROUP BY 1, 2;
END
$fn$;
