-- rating deltas without a temporary table
--
-- The update trigger added a statement's rating-only changes through a temporary table
-- (`tmp_rating_delta`, ON COMMIT DELETE ROWS). Every feedback transaction then paid for the
-- table: a catalog lookup to create it if missing, and a truncation at commit, which gives it
-- new files (seen as `DataFileTruncate` waits under load). The two updates now read the deltas
-- straight from the transition tables. Same arithmetic, same order of row locks (package-days,
-- then versions); everything else in the function is unchanged.
CREATE OR REPLACE FUNCTION usage_rollup_on_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  touched_days jsonb;
  touched_users jsonb;
BEGIN
  -- The rating deltas of the statement's rating-only changes, added to the package-days and
  -- versions they belong to (straight from the transition tables: no temporary table).
  WITH delta AS (
    SELECT n.package_id, utc_day(n.created_at) AS day,
           coalesce(n.user_rating, 0) - coalesce(o.user_rating, 0) AS dsum,
           (n.user_rating IS NOT NULL)::int - (o.user_rating IS NOT NULL)::int AS dcount
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE n.package_id IS NOT NULL AND o.user_rating IS DISTINCT FROM n.user_rating
      AND (o.package_id, o.user_id, o.created_at, o.model, o.package_version, o.error_occurred, o.duration_ms, o.tokens_used)
          IS NOT DISTINCT FROM (n.package_id, n.user_id, n.created_at, n.model, n.package_version, n.error_occurred,
                                n.duration_ms, n.tokens_used))
  UPDATE package_daily_stats s SET rating_sum = s.rating_sum + d.dsum, rating_count = s.rating_count + d.dcount
  FROM (SELECT package_id, day, sum(dsum) AS dsum, sum(dcount) AS dcount FROM delta GROUP BY 1, 2) d
  WHERE s.package_id = d.package_id AND s.day = d.day;
  WITH delta AS (
    SELECT n.package_id, utc_day(n.created_at) AS day, n.package_version,
           coalesce(n.user_rating, 0) - coalesce(o.user_rating, 0) AS dsum,
           (n.user_rating IS NOT NULL)::int - (o.user_rating IS NOT NULL)::int AS dcount
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE n.package_id IS NOT NULL AND n.package_version IS NOT NULL AND o.user_rating IS DISTINCT FROM n.user_rating
      AND (o.package_id, o.user_id, o.created_at, o.model, o.package_version, o.error_occurred, o.duration_ms, o.tokens_used)
          IS NOT DISTINCT FROM (n.package_id, n.user_id, n.created_at, n.model, n.package_version, n.error_occurred,
                                n.duration_ms, n.tokens_used))
  UPDATE package_daily_version_stats s SET rating_sum = s.rating_sum + d.dsum, rating_count = s.rating_count + d.dcount
  FROM (SELECT package_id, day, package_version, sum(dsum) AS dsum, sum(dcount) AS dcount FROM delta GROUP BY 1, 2, 3) d
  WHERE s.package_id = d.package_id AND s.day = d.day AND s.package_version = d.package_version;

  -- Any other change of a column the rollups read: recompute the package-days it touches.
  SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object('p', package_id, 'd', utc_day(created_at))), '[]'::jsonb)
    INTO touched_days
    FROM (SELECT o.package_id, o.created_at FROM old_rows o JOIN new_rows n ON n.id = o.id
          WHERE (o.package_id, o.user_id, o.created_at, o.model, o.package_version, o.error_occurred, o.duration_ms,
                 o.tokens_used)
                IS DISTINCT FROM (n.package_id, n.user_id, n.created_at, n.model, n.package_version, n.error_occurred,
                                  n.duration_ms, n.tokens_used)
          UNION ALL
          SELECT n.package_id, n.created_at FROM old_rows o JOIN new_rows n ON n.id = o.id
          WHERE (o.package_id, o.user_id, o.created_at, o.model, o.package_version, o.error_occurred, o.duration_ms,
                 o.tokens_used)
                IS DISTINCT FROM (n.package_id, n.user_id, n.created_at, n.model, n.package_version, n.error_occurred,
                                  n.duration_ms, n.tokens_used)) r
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
