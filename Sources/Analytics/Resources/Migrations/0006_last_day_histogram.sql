-- histogram of last days for distinct users; faster rebuild and recompute
--
-- Distinct users of a window ending today = users whose last day with the package is in
-- it. Counting those rows cost ≈ 1.2 ms per read of a hot package (the largest part of a
-- package computation); a per-package histogram of last days, kept by statement triggers
-- on `package_user_last_day`, makes it a sum over at most 365 rows. Also: the rebuild
-- writes in index order and takes last days from `package_daily_users` (76 s → 41 s on
-- 5M rows), and recomputed last days read the user's covering index instead of joining
-- two large index scans.
CREATE TABLE package_last_day_counts (
  package_id uuid NOT NULL, day date NOT NULL, users bigint NOT NULL,
  PRIMARY KEY (package_id, day)
);
INSERT INTO package_last_day_counts
SELECT package_id, last_day, count(*) FROM package_user_last_day GROUP BY 1, 2 ORDER BY 1, 2;

CREATE FUNCTION package_last_day_counts_sync() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO package_last_day_counts AS c
    SELECT package_id, last_day, count(*) FROM new_rows GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (package_id, day) DO UPDATE SET users = c.users + excluded.users;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE package_last_day_counts c SET users = c.users - d.n
    FROM (SELECT package_id, last_day, count(*) AS n FROM old_rows GROUP BY 1, 2) d
    WHERE c.package_id = d.package_id AND c.day = d.last_day;
  ELSE
    INSERT INTO package_last_day_counts AS c
    SELECT package_id, day, sum(n) FROM (
      SELECT package_id, last_day AS day, -count(*) AS n FROM old_rows GROUP BY 1, 2
      UNION ALL
      SELECT package_id, last_day, count(*) FROM new_rows GROUP BY 1, 2) d
    GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
    ON CONFLICT (package_id, day) DO UPDATE SET users = c.users + excluded.users;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER package_last_day_counts_insert AFTER INSERT ON package_user_last_day
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION package_last_day_counts_sync();
CREATE TRIGGER package_last_day_counts_update AFTER UPDATE ON package_user_last_day
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION package_last_day_counts_sync();
CREATE TRIGGER package_last_day_counts_delete AFTER DELETE ON package_user_last_day
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION package_last_day_counts_sync();

CREATE OR REPLACE FUNCTION usage_rollup_recompute(days_touched jsonb, users_touched jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
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
  -- A (package, user) pair's last day: the newest of the user's rows for the package,
  -- read backwards from the user's covering (user_id, created_at) index. IS NOT DISTINCT
  -- FROM (equal here: package_id is never null in the pairs) is not indexable, which keeps
  -- the planner off a BitmapAnd with the package index: 69 ms → 0.3 ms per pair for the
  -- hottest package of the 5M-row seed.
  INSERT INTO package_user_last_day
  SELECT t.package_id, t.user_id, l.last_day
  FROM (SELECT DISTINCT (e->>'p')::uuid AS package_id, (e->>'u')::uuid AS user_id FROM jsonb_array_elements(users_touched) e) t
  CROSS JOIN LATERAL (
    SELECT utc_day(u.created_at) AS last_day FROM playground_usage u
    WHERE u.user_id = t.user_id AND u.package_id IS NOT DISTINCT FROM t.package_id
    ORDER BY u.created_at DESC LIMIT 1) l
  ORDER BY 1, 2
  ON CONFLICT (package_id, user_id) DO UPDATE SET last_day = excluded.last_day;
  DELETE FROM tmp_usage_batch;
END
$fn$;

CREATE OR REPLACE FUNCTION usage_rollup_rebuild() RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  TRUNCATE package_daily_stats, package_daily_model_stats, package_daily_version_stats,
           package_daily_users, package_user_last_day, package_last_day_counts;
  INSERT INTO package_daily_users
  SELECT DISTINCT package_id, utc_day(created_at), user_id FROM playground_usage WHERE package_id IS NOT NULL ORDER BY 1, 2, 3;
  INSERT INTO package_daily_stats
  SELECT u.package_id, u.day, u.runs, u.successes, u.duration_sum, u.tokens_sum, u.rating_sum, u.rating_count, d.n
  FROM (SELECT package_id, utc_day(created_at) AS day, count(*) AS runs,
               count(*) FILTER (WHERE error_occurred IS NOT TRUE) AS successes,
               sum(duration_ms) AS duration_sum, sum(tokens_used) AS tokens_sum,
               coalesce(sum(user_rating), 0) AS rating_sum, count(user_rating) AS rating_count
        FROM playground_usage WHERE package_id IS NOT NULL GROUP BY 1, 2) u
  JOIN (SELECT package_id, day, count(*) AS n FROM package_daily_users GROUP BY 1, 2) d USING (package_id, day)
  ORDER BY 1, 2;
  INSERT INTO package_daily_model_stats
  SELECT package_id, utc_day(created_at), model, count(*), count(*) FILTER (WHERE error_occurred IS NOT TRUE), sum(duration_ms)
  FROM playground_usage WHERE package_id IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
  INSERT INTO package_daily_version_stats
  SELECT package_id, utc_day(created_at), package_version, count(*), coalesce(sum(user_rating), 0), count(user_rating)
  FROM playground_usage WHERE package_id IS NOT NULL AND package_version IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
  INSERT INTO package_user_last_day
  SELECT package_id, user_id, max(day) FROM package_daily_users GROUP BY 1, 2 ORDER BY 1, 2;
END
$fn$;
