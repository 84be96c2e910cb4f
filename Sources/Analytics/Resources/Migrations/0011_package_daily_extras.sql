-- credits and helpfulness per package-day
--
-- The figures of the package pages (`avgCost`, `helpfulRate`) from a small rollup of their own.
-- It is kept by delta triggers: every statement adds its new rows' values and subtracts its old
-- rows' values, grouped by package-day. Sums and counts commute, so concurrent writers can never
-- make it drift (no recompute), and a row moved to another package or day moves its values.
-- Retention's deletes (`prpm.retention = on`) leave it alone, like the other package rollups.
-- The triggers are named `usage_rollup_extras_*`: they fire after `usage_lock_*` (migration 8).
CREATE TABLE package_daily_extras (
  package_id uuid NOT NULL,
  day date NOT NULL,
  credits_sum bigint NOT NULL,
  helpful_yes bigint NOT NULL,
  helpful_answered bigint NOT NULL,
  PRIMARY KEY (package_id, day)
);

-- Rebuilds it from the raw rows (now, and after a bulk load with the triggers off: the seeder).
CREATE FUNCTION usage_extras_rebuild() RETURNS void LANGUAGE sql AS $fn$
  TRUNCATE package_daily_extras;
  INSERT INTO package_daily_extras (package_id, day, credits_sum, helpful_yes, helpful_answered)
  SELECT package_id, utc_day(created_at), sum(credits_spent), count(*) FILTER (WHERE was_helpful), count(was_helpful)
  FROM playground_usage WHERE package_id IS NOT NULL GROUP BY 1, 2;
$fn$;
SELECT usage_extras_rebuild();

-- One statement per trigger: transition tables are visible only in the trigger function's own
-- queries. Each adds the signed values of its rows (new +, old -), in package-day order.
CREATE FUNCTION usage_extras_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO package_daily_extras AS e (package_id, day, credits_sum, helpful_yes, helpful_answered)
  SELECT package_id, utc_day(created_at), sum(credits_spent), count(*) FILTER (WHERE was_helpful), count(was_helpful)
  FROM new_rows WHERE package_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (package_id, day) DO UPDATE SET credits_sum = e.credits_sum + excluded.credits_sum,
    helpful_yes = e.helpful_yes + excluded.helpful_yes, helpful_answered = e.helpful_answered + excluded.helpful_answered;
  RETURN NULL;
END
$fn$;

CREATE FUNCTION usage_extras_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO package_daily_extras AS e (package_id, day, credits_sum, helpful_yes, helpful_answered)
  SELECT package_id, day, sum(credits), sum(yes), sum(answered)
  FROM (
    SELECT package_id, utc_day(created_at) AS day, credits_spent::bigint AS credits,
           (was_helpful IS TRUE)::int AS yes, (was_helpful IS NOT NULL)::int AS answered
    FROM new_rows WHERE package_id IS NOT NULL
    UNION ALL
    SELECT package_id, utc_day(created_at), -credits_spent::bigint, -(was_helpful IS TRUE)::int, -(was_helpful IS NOT NULL)::int
    FROM old_rows WHERE package_id IS NOT NULL
  ) delta
  GROUP BY 1, 2
  -- Feedback text edits and the like move nothing: no write at all.
  HAVING sum(credits) <> 0 OR sum(yes) <> 0 OR sum(answered) <> 0
  ORDER BY 1, 2
  ON CONFLICT (package_id, day) DO UPDATE SET credits_sum = e.credits_sum + excluded.credits_sum,
    helpful_yes = e.helpful_yes + excluded.helpful_yes, helpful_answered = e.helpful_answered + excluded.helpful_answered;
  RETURN NULL;
END
$fn$;

CREATE FUNCTION usage_extras_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF current_setting('prpm.retention', true) = 'on' THEN RETURN NULL; END IF;
  INSERT INTO package_daily_extras AS e (package_id, day, credits_sum, helpful_yes, helpful_answered)
  SELECT package_id, utc_day(created_at), -sum(credits_spent), -count(*) FILTER (WHERE was_helpful), -count(was_helpful)
  FROM old_rows WHERE package_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (package_id, day) DO UPDATE SET credits_sum = e.credits_sum + excluded.credits_sum,
    helpful_yes = e.helpful_yes + excluded.helpful_yes, helpful_answered = e.helpful_answered + excluded.helpful_answered;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER usage_rollup_extras_insert AFTER INSERT ON playground_usage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_extras_insert();
CREATE TRIGGER usage_rollup_extras_update AFTER UPDATE ON playground_usage
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_extras_update();
CREATE TRIGGER usage_rollup_extras_delete AFTER DELETE ON playground_usage
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_extras_delete();
