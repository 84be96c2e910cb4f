-- the insert trigger leaves a package's last-day row alone when the day does not move
--
-- Every ingested row upserted its (package, user) last day, also when the user had already used
-- the package that day: a new row version each time, and through the histogram trigger an
-- update of the package's count for today, a row nearly every batch of a hot package updates.
-- Now the update happens only when the day moves forward (the result is the same: the day was
-- `greatest(old, new)`). Ingestion alone, 300 batches of 10 events per second on the demo data,
-- Postgres CPU per batch: 2.03 / 2.14 ms before, 1.74 / 1.99 ms after (alternating runs).
CREATE OR REPLACE FUNCTION usage_rollup_on_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  WITH fresh AS (
    INSERT INTO package_daily_users (package_id, day, user_id)
    SELECT DISTINCT package_id, utc_day(created_at), user_id FROM new_rows
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
    FROM new_rows WHERE package_id IS NOT NULL GROUP BY 1, 2
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
  FROM new_rows WHERE package_id IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (package_id, day, model) DO UPDATE SET
    runs = s.runs + excluded.runs, successes = s.successes + excluded.successes,
    duration_sum = s.duration_sum + excluded.duration_sum;

  INSERT INTO package_daily_version_stats AS s
  SELECT package_id, utc_day(created_at), package_version, count(*), coalesce(sum(user_rating), 0), count(user_rating)
  FROM new_rows WHERE package_id IS NOT NULL AND package_version IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (package_id, day, package_version) DO UPDATE SET
    runs = s.runs + excluded.runs, rating_sum = s.rating_sum + excluded.rating_sum,
    rating_count = s.rating_count + excluded.rating_count;

  INSERT INTO package_user_last_day AS s
  SELECT package_id, user_id, max(utc_day(created_at))
  FROM new_rows WHERE package_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (package_id, user_id) DO UPDATE SET last_day = excluded.last_day WHERE s.last_day < excluded.last_day;
  RETURN NULL;
END
$fn$;
