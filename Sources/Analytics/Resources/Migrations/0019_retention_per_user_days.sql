-- retention: per-user days expire with the usage; months folded in batches
--
-- Nothing that ties a user to a day or a time outlives the 12 months retention keeps of the
-- usage it came from (issue 27). Until now `package_daily_users` (who used a package on a day)
-- and `package_user_last_day` (the last day each user used each package) were never expired,
-- and `playground_sessions` kept their user forever. The retention job now removes, in
-- batches (`usage_user_days_expire_batch`):
--   - `package_daily_users` rows of days before the cutoff: the daily distinct-user counts of
--     those days are kept in `package_daily_stats.unique_users` (the public aggregates do not
--     change) and no window (1…365 days) reaches them;
--   - `package_user_last_day` rows whose last day is before the cutoff: a window counts the
--     users whose last day is inside it, so these are counted by none (the histogram trigger of
--     migration 6 takes them out of `package_last_day_counts`, whose old days no window reads);
--   - the user of sessions created before the cutoff (`user_id` set to NULL: a session is
--     referenced by usage rows that may be younger, and deleting it would check every usage
--     partition, which has no index on session_id).
-- The user rollups (migration 16) were already expired by `usage_user_rollups_expire`.
--
-- Each batch takes the fold's advisory lock (727276) and folds the queue first: every writer of
-- these two rollup tables (the fold, and a recompute, which folds first) holds that lock, so a
-- batch neither deadlocks with them nor sees a queued insert of an expired day come back after it.
-- Plain indexes on the day columns find the expired rows without reading the whole tables
-- (the sessions' index is partial: only sessions that still hold a user).
CREATE INDEX package_daily_users_day ON package_daily_users (day);
CREATE INDEX package_user_last_day_day ON package_user_last_day (last_day);
CREATE INDEX playground_sessions_user_created ON playground_sessions (created_at) WHERE user_id IS NOT NULL;

-- Expires up to `batch` rows of each kind above older than `cutoff`; returns the largest count of
-- the three (the caller repeats while a whole batch was done).
CREATE FUNCTION usage_user_days_expire_batch(cutoff timestamptz, batch integer) RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  days bigint;
  last_days bigint;
  sessions bigint;
BEGIN
  PERFORM usage_fold();  -- takes the fold's lock until commit
  DELETE FROM package_daily_users d USING (
    SELECT package_id, day, user_id FROM package_daily_users WHERE day < utc_day(cutoff) ORDER BY day LIMIT batch) o
  WHERE (d.package_id, d.day, d.user_id) = (o.package_id, o.day, o.user_id);
  GET DIAGNOSTICS days = ROW_COUNT;
  DELETE FROM package_user_last_day l USING (
    SELECT package_id, user_id FROM package_user_last_day WHERE last_day < utc_day(cutoff) ORDER BY last_day LIMIT batch) o
  WHERE (l.package_id, l.user_id) = (o.package_id, o.user_id);
  GET DIAGNOSTICS last_days = ROW_COUNT;
  UPDATE playground_sessions s SET user_id = NULL WHERE s.id IN (
    SELECT id FROM playground_sessions WHERE user_id IS NOT NULL AND created_at < cutoff ORDER BY created_at LIMIT batch);
  GET DIAGNOSTICS sessions = ROW_COUNT;
  RETURN greatest(days, last_days, sessions);
END
$fn$;

-- Folds into `usage_daily_archive` and deletes up to `batch` rows of `source` (`playground_usage`
-- or one of its partitions) with `lo <= created_at < hi`, oldest first; returns the rows
-- moved. One short transaction per call, whatever the size of the month: retention uses it for
-- the month that straddles the cutoff, for old rows waiting in the default partition, and for
-- an expired month too large to fold in one transaction (`usage_partition_retire` folds a whole
-- month at once). Deletes leave the rollups alone (`prpm.retention`), and a delete run on one
-- partition fires none of the parent's statement triggers.
CREATE FUNCTION usage_archive_batch(source regclass, lo timestamptz, hi timestamptz, batch integer)
RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
  moved bigint;
BEGIN
  PERFORM set_config('prpm.retention', 'on', true);
  EXECUTE format($sql$
    WITH doomed AS (
      SELECT id, created_at FROM %1$s WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED
    ), gone AS (
      DELETE FROM %1$s u USING doomed d WHERE u.id = d.id AND u.created_at = d.created_at RETURNING u.*
    ), folded AS (
      INSERT INTO usage_daily_archive AS a
      SELECT utc_day(created_at), package_id, model, org_id, count(*),
             count(*) FILTER (WHERE error_occurred IS NOT TRUE), sum(credits_spent), sum(tokens_used), sum(duration_ms),
             coalesce(sum(user_rating), 0), count(user_rating)
      FROM gone GROUP BY 1, 2, 3, 4
      ON CONFLICT (day, coalesce(package_id, '00000000-0000-0000-0000-000000000000'::uuid), model,
                   coalesce(org_id, '00000000-0000-0000-0000-000000000000'::uuid))
      DO UPDATE SET runs = a.runs + excluded.runs, successes = a.successes + excluded.successes,
        credits_sum = a.credits_sum + excluded.credits_sum, tokens_sum = a.tokens_sum + excluded.tokens_sum,
        duration_sum = a.duration_sum + excluded.duration_sum, rating_sum = a.rating_sum + excluded.rating_sum,
        rating_count = a.rating_count + excluded.rating_count
      RETURNING 1
    )
    SELECT count(*) FROM gone $sql$, source) USING lo, hi, batch INTO moved;
  RETURN moved;
END
$fn$;
