-- trends and retention archive
-- The worker's latest week-over-week figures per package.
CREATE TABLE package_trends (
  package_id uuid PRIMARY KEY REFERENCES packages(id) ON DELETE CASCADE,
  this_week bigint NOT NULL,
  last_week bigint NOT NULL,
  change_pct double precision,
  trend text NOT NULL CHECK (trend IN ('new','rising','falling','stable')),
  computed_at timestamptz NOT NULL
);
-- Daily aggregates of usage rows removed by retention, per package, model and org (kept forever).
CREATE TABLE usage_daily_archive (
  day date NOT NULL,
  package_id uuid,
  model text NOT NULL,
  org_id uuid,
  runs bigint NOT NULL,
  successes bigint NOT NULL,
  credits_sum bigint NOT NULL,
  tokens_sum bigint NOT NULL,
  duration_sum bigint NOT NULL,
  rating_sum bigint NOT NULL,
  rating_count bigint NOT NULL
);
CREATE UNIQUE INDEX idx_usage_daily_archive_key
  ON usage_daily_archive (day, coalesce(package_id, '00000000-0000-0000-0000-000000000000'::uuid), model,
                          coalesce(org_id, '00000000-0000-0000-0000-000000000000'::uuid));
