-- per-day rollups for users and organizations
--
-- The user and organization answers read these instead of the raw rows: a heavy user's or a big
-- organization's year is a few thousand rollup rows instead of hundreds of thousands of usage
-- rows. Like `package_daily_extras` (migration 11) they hold only sums and counts, kept by delta
-- triggers (each statement adds its new rows' values and subtracts its old rows' values): additions
-- commute, so no interleaving of writers can make them drift, and a row moved to another user,
-- org, package, model or day moves its values. A key whose runs fall to 0 keeps its row (readers
-- skip `runs = 0`). Retention's deletes subtract like any other delete (rows past 12 months are
-- outside every window anyway); the retention job prunes rollup rows older than every window.
--
-- - user_daily_usage: per user, day, model and package (NULL package included): totals, models,
--   top packages and daily activity of `user/me`.
-- - org_daily_member_usage: per org, day and member: totals, active members (rows with runs),
--   member activity, daily usage and team allocation of the organization answer.
-- - org_daily_package_usage: per org, day, package and member: an org's top packages with their
--   unique users and ratings.
CREATE TABLE user_daily_usage (
  user_id uuid NOT NULL,
  day date NOT NULL,
  model text NOT NULL,
  package_id uuid,
  runs bigint NOT NULL,
  credits bigint NOT NULL,
  tokens bigint NOT NULL,
  duration_sum bigint NOT NULL,
  rating_sum bigint NOT NULL,
  rating_count bigint NOT NULL,
  CONSTRAINT user_daily_usage_key UNIQUE NULLS NOT DISTINCT (user_id, day, model, package_id)
);

CREATE TABLE org_daily_member_usage (
  org_id uuid NOT NULL,
  day date NOT NULL,
  user_id uuid NOT NULL,
  runs bigint NOT NULL,
  credits bigint NOT NULL,
  tokens bigint NOT NULL,
  duration_sum bigint NOT NULL,
  PRIMARY KEY (org_id, day, user_id)
);

CREATE TABLE org_daily_package_usage (
  org_id uuid NOT NULL,
  day date NOT NULL,
  package_id uuid NOT NULL,
  user_id uuid NOT NULL,
  runs bigint NOT NULL,
  rating_sum bigint NOT NULL,
  rating_count bigint NOT NULL,
  PRIMARY KEY (org_id, day, package_id, user_id)
);

-- Rebuilds them from the raw rows (now, and after a bulk load with the triggers off: the seeder).
CREATE FUNCTION usage_people_rebuild() RETURNS void LANGUAGE sql AS $fn$
  TRUNCATE user_daily_usage, org_daily_member_usage, org_daily_package_usage;
  INSERT INTO user_daily_usage (user_id, day, model, package_id, runs, credits, tokens, duration_sum, rating_sum, rating_count)
  SELECT user_id, utc_day(created_at), model, package_id, count(*), sum(credits_spent), sum(tokens_used), sum(duration_ms),
         coalesce(sum(user_rating), 0), count(user_rating)
  FROM playground_usage GROUP BY 1, 2, 3, 4;
  INSERT INTO org_daily_member_usage (org_id, day, user_id, runs, credits, tokens, duration_sum)
  SELECT org_id, utc_day(created_at), user_id, count(*), sum(credits_spent), sum(tokens_used), sum(duration_ms)
  FROM playground_usage WHERE org_id IS NOT NULL GROUP BY 1, 2, 3;
  INSERT INTO org_daily_package_usage (org_id, day, package_id, user_id, runs, rating_sum, rating_count)
  SELECT org_id, utc_day(created_at), package_id, user_id, count(*), coalesce(sum(user_rating), 0), count(user_rating)
  FROM playground_usage WHERE org_id IS NOT NULL AND package_id IS NOT NULL GROUP BY 1, 2, 3, 4;
$fn$;
SELECT usage_people_rebuild();

-- One usage row's part in the rollups, signed: +1 for a new row, -1 for an old one.
CREATE TYPE usage_delta AS (
  sign integer, user_id uuid, org_id uuid, package_id uuid, model text, day date,
  credits bigint, tokens bigint, duration bigint, rating integer
);

-- Adds the signed values of one statement's rows to the three rollups, grouped by key and in
-- key order (concurrent statements take row locks in the same order). Keys whose sums do not
-- change (a feedback text edit) are not written at all.
CREATE FUNCTION usage_people_fold(delta usage_delta[]) RETURNS void LANGUAGE sql AS $fn$
  INSERT INTO user_daily_usage AS r (user_id, day, model, package_id, runs, credits, tokens, duration_sum, rating_sum, rating_count)
  SELECT user_id, day, model, package_id, sum(sign), sum(sign * credits), sum(sign * tokens), sum(sign * duration),
         sum(sign * coalesce(rating, 0)), sum(sign * (rating IS NOT NULL)::int)
  FROM unnest(delta) GROUP BY 1, 2, 3, 4
  HAVING sum(sign) <> 0 OR sum(sign * credits) <> 0 OR sum(sign * tokens) <> 0 OR sum(sign * duration) <> 0
      OR sum(sign * coalesce(rating, 0)) <> 0 OR sum(sign * (rating IS NOT NULL)::int) <> 0
  ORDER BY 1, 2, 3, 4
  ON CONFLICT ON CONSTRAINT user_daily_usage_key DO UPDATE SET runs = r.runs + excluded.runs, credits = r.credits + excluded.credits,
    tokens = r.tokens + excluded.tokens, duration_sum = r.duration_sum + excluded.duration_sum,
    rating_sum = r.rating_sum + excluded.rating_sum, rating_count = r.rating_count + excluded.rating_count;

  INSERT INTO org_daily_member_usage AS r (org_id, day, user_id, runs, credits, tokens, duration_sum)
  SELECT org_id, day, user_id, sum(sign), sum(sign * credits), sum(sign * tokens), sum(sign * duration)
  FROM unnest(delta) WHERE org_id IS NOT NULL GROUP BY 1, 2, 3
  HAVING sum(sign) <> 0 OR sum(sign * credits) <> 0 OR sum(sign * tokens) <> 0 OR sum(sign * duration) <> 0
  ORDER BY 1, 2, 3
  ON CONFLICT (org_id, day, user_id) DO UPDATE SET runs = r.runs + excluded.runs, credits = r.credits + excluded.credits,
    tokens = r.tokens + excluded.tokens, duration_sum = r.duration_sum + excluded.duration_sum;

  INSERT INTO org_daily_package_usage AS r (org_id, day, package_id, user_id, runs, rating_sum, rating_count)
  SELECT org_id, day, package_id, user_id, sum(sign), sum(sign * coalesce(rating, 0)), sum(sign * (rating IS NOT NULL)::int)
  FROM unnest(delta) WHERE org_id IS NOT NULL AND package_id IS NOT NULL GROUP BY 1, 2, 3, 4
  HAVING sum(sign) <> 0 OR sum(sign * coalesce(rating, 0)) <> 0 OR sum(sign * (rating IS NOT NULL)::int) <> 0
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (org_id, day, package_id, user_id) DO UPDATE SET runs = r.runs + excluded.runs,
    rating_sum = r.rating_sum + excluded.rating_sum, rating_count = r.rating_count + excluded.rating_count;
$fn$;

-- The triggers pass their transition tables' rows as deltas (transition tables are visible only
-- in the trigger function's own queries).
CREATE FUNCTION usage_people_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM usage_people_fold(ARRAY(
    SELECT ROW(1, user_id, org_id, package_id, model, utc_day(created_at), credits_spent, tokens_used, duration_ms, user_rating)::usage_delta
    FROM new_rows));
  RETURN NULL;
END
$fn$;

CREATE FUNCTION usage_people_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM usage_people_fold(ARRAY(
    SELECT ROW(1, user_id, org_id, package_id, model, utc_day(created_at), credits_spent, tokens_used, duration_ms, user_rating)::usage_delta
    FROM new_rows
    UNION ALL
    SELECT ROW(-1, user_id, org_id, package_id, model, utc_day(created_at), credits_spent, tokens_used, duration_ms, user_rating)::usage_delta
    FROM old_rows));
  RETURN NULL;
END
$fn$;

CREATE FUNCTION usage_people_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM usage_people_fold(ARRAY(
    SELECT ROW(-1, user_id, org_id, package_id, model, utc_day(created_at), credits_spent, tokens_used, duration_ms, user_rating)::usage_delta
    FROM old_rows));
  RETURN NULL;
END
$fn$;

CREATE TRIGGER usage_rollup_people_insert AFTER INSERT ON playground_usage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_people_insert();
CREATE TRIGGER usage_rollup_people_update AFTER UPDATE ON playground_usage
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_people_update();
CREATE TRIGGER usage_rollup_people_delete AFTER DELETE ON playground_usage
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_people_delete();
