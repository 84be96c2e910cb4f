/// The SQL of the migrations. Table and column names of the core tables are a contract.
enum SchemaSQL {
    static let coreTables = """
        CREATE TABLE users (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          username text UNIQUE NOT NULL,
          email text,
          created_at timestamptz DEFAULT now(),
          deleted_at timestamptz
        );
        CREATE TABLE organizations (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          name text NOT NULL,
          created_at timestamptz DEFAULT now()
        );
        CREATE TABLE organization_members (
          org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
          user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
          role text NOT NULL CHECK (role IN ('owner','admin','maintainer','member')),
          team text NULL,
          joined_at timestamptz DEFAULT now(),
          PRIMARY KEY (org_id, user_id)
        );
        CREATE INDEX idx_organization_members_user ON organization_members(user_id);
        CREATE TABLE packages (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          name text UNIQUE NOT NULL,
          created_at timestamptz DEFAULT now()
        );
        CREATE TABLE playground_sessions (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          user_id uuid REFERENCES users(id),
          package_id uuid REFERENCES packages(id),
          created_at timestamptz DEFAULT now()
        );
        CREATE TABLE playground_usage (
          id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
          user_id UUID REFERENCES users(id) NOT NULL,
          org_id UUID REFERENCES organizations(id),
          package_id UUID REFERENCES packages(id),
          package_version VARCHAR(50),
          session_id UUID REFERENCES playground_sessions(id),
          model VARCHAR(50) NOT NULL,
          tokens_used INTEGER NOT NULL,
          duration_ms INTEGER NOT NULL,
          credits_spent INTEGER NOT NULL DEFAULT 1,
          request_size_bytes INTEGER,
          response_size_bytes INTEGER,
          input_length INTEGER,
          output_length INTEGER,
          error_occurred BOOLEAN DEFAULT FALSE,
          error_message TEXT,
          user_rating INTEGER CHECK (user_rating >= 1 AND user_rating <= 5),
          was_helpful BOOLEAN,
          user_feedback TEXT,
          comparison_mode BOOLEAN DEFAULT FALSE,
          created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW()
        );
        -- The design's indexes.
        CREATE INDEX idx_playground_usage_user_time ON playground_usage(user_id, created_at DESC);
        CREATE INDEX idx_playground_usage_org_time ON playground_usage(org_id, created_at DESC) WHERE org_id IS NOT NULL;
        CREATE INDEX idx_playground_usage_package ON playground_usage(package_id) WHERE package_id IS NOT NULL;
        CREATE INDEX idx_playground_usage_model ON playground_usage(model, created_at DESC);
        CREATE INDEX idx_playground_usage_package_model ON playground_usage(package_id, model) WHERE package_id IS NOT NULL;
        CREATE INDEX idx_playground_usage_package_version ON playground_usage(package_id, package_version) WHERE package_id IS NOT NULL;
        CREATE INDEX idx_playground_usage_success ON playground_usage(error_occurred, created_at DESC);
        CREATE INDEX idx_playground_usage_rating ON playground_usage(user_rating) WHERE user_rating IS NOT NULL;
        -- Ours: the package window by time (rollup recomputation, trends) and retention's scan by age.
        CREATE INDEX idx_playground_usage_package_time ON playground_usage(package_id, created_at) WHERE package_id IS NOT NULL;
        CREATE INDEX idx_playground_usage_created ON playground_usage(created_at);

        -- The UTC calendar day of a timestamp (immutable: the zone is explicit).
        CREATE FUNCTION utc_day(ts timestamptz) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
          AS $$ SELECT (ts AT TIME ZONE 'UTC')::date $$;
        """

    /// Per-package daily rollups, kept exact by statement-level triggers on `playground_usage`:
    /// inserts are added incrementally from the statement's transition table (one upsert per
    /// package-day of the batch, not per row); updates and deletes recompute the package-days
    /// they touch from the raw rows. Retention's deletes (which set `prpm.retention = on`) leave
    /// the rollups alone: they are the aggregates kept forever.
    static let packageRollups = """
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
        \(rollupUpserts(from: "tmp_usage_batch"))
        END
        $fn$;

        -- Recomputes the rollups of the given package-days and package-users from the raw rows.
        \(rollupRecompute("CREATE", lastDays: lastDaysByJoin))

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
        \(touchedUsersOfUpdate)
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

        \(statementTriggers(
            "usage_rollup", on: "playground_usage",
            functions: ["usage_rollup_on_insert", "usage_rollup_on_update", "usage_rollup_on_delete"]))

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
        """

    static let trendsAndArchive = """
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
        """

    /// Feedback changes `user_rating` (and fields the rollups do not read): such updates add
    /// the rating difference to the two rollups that hold ratings instead of recomputing the
    /// package-day from the raw rows. Other changes still recompute.
    static let ratingDeltas = """
        CREATE OR REPLACE FUNCTION usage_rollup_on_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
        DECLARE
          touched_days jsonb;
          touched_users jsonb;
        BEGIN
          CREATE TEMP TABLE IF NOT EXISTS tmp_rating_delta (package_id uuid, day date, package_version text, dsum int, dcount int)
            ON COMMIT DELETE ROWS;
          DELETE FROM tmp_rating_delta;
          INSERT INTO tmp_rating_delta
          SELECT n.package_id, utc_day(n.created_at), n.package_version,
                 coalesce(n.user_rating, 0) - coalesce(o.user_rating, 0),
                 (n.user_rating IS NOT NULL)::int - (o.user_rating IS NOT NULL)::int
          FROM old_rows o JOIN new_rows n ON n.id = o.id
          WHERE n.package_id IS NOT NULL AND o.user_rating IS DISTINCT FROM n.user_rating
            AND (o.package_id, o.user_id, o.created_at, o.model, o.package_version, o.error_occurred, o.duration_ms, o.tokens_used)
                IS NOT DISTINCT FROM (n.package_id, n.user_id, n.created_at, n.model, n.package_version, n.error_occurred,
                                      n.duration_ms, n.tokens_used);
          UPDATE package_daily_stats s SET rating_sum = s.rating_sum + d.dsum, rating_count = s.rating_count + d.dcount
          FROM (SELECT package_id, day, sum(dsum) AS dsum, sum(dcount) AS dcount FROM tmp_rating_delta GROUP BY 1, 2) d
          WHERE s.package_id = d.package_id AND s.day = d.day;
          UPDATE package_daily_version_stats s SET rating_sum = s.rating_sum + d.dsum, rating_count = s.rating_count + d.dcount
          FROM (SELECT package_id, day, package_version, sum(dsum) AS dsum, sum(dcount) AS dcount FROM tmp_rating_delta
                WHERE package_version IS NOT NULL GROUP BY 1, 2, 3) d
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
        \(touchedUsersOfUpdate)
          PERFORM usage_rollup_recompute(touched_days, touched_users);
          RETURN NULL;
        END
        $fn$;
        """

    /// User and org figures read the raw rows: these make their scans index-only
    /// (measured on 5M rows: heaviest user 365 days 266 → 34 ms, biggest org 30 days 592 → 45 ms).
    static let coveringIndexes = """
        CREATE INDEX idx_playground_usage_user_cover ON playground_usage (user_id, created_at)
          INCLUDE (model, credits_spent, tokens_used, duration_ms, package_id, user_rating);
        CREATE INDEX idx_playground_usage_org_cover ON playground_usage (org_id, created_at)
          INCLUDE (user_id, credits_spent, tokens_used, duration_ms, package_id, user_rating) WHERE org_id IS NOT NULL;
        """

    /// Distinct users of a window ending today = users whose last day with the package is in
    /// it. Counting those rows cost ≈ 1.2 ms per read of a hot package (the largest part of a
    /// package computation); a per-package histogram of last days, kept by statement triggers
    /// on `package_user_last_day`, makes it a sum over at most 365 rows. Also: the rebuild
    /// writes in index order and takes last days from `package_daily_users` (76 s → 41 s on
    /// 5M rows), and recomputed last days read the user's covering index instead of joining
    /// two large index scans.
    static let lastDayHistogram = """
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
        \(statementTriggers(
            "package_last_day_counts", on: "package_user_last_day", functions: Array(repeating: "package_last_day_counts_sync", count: 3)))

        \(rollupRecompute("CREATE OR REPLACE", lastDays: lastDaysFromUserIndex))

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
        """

    /// The upserts that add a batch of new usage rows (`source`: a table or transition table
    /// with `playground_usage`'s columns) to the package rollups. Used by the insert trigger
    /// on its transition table, and by the recompute path on a temp table.
    static func rollupUpserts(from source: String) -> String {
        """
          WITH fresh AS (
            INSERT INTO package_daily_users (package_id, day, user_id)
            SELECT DISTINCT package_id, utc_day(created_at), user_id FROM \(source)
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
            FROM \(source) WHERE package_id IS NOT NULL GROUP BY 1, 2
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
          FROM \(source) WHERE package_id IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
          ON CONFLICT (package_id, day, model) DO UPDATE SET
            runs = s.runs + excluded.runs, successes = s.successes + excluded.successes,
            duration_sum = s.duration_sum + excluded.duration_sum;

          INSERT INTO package_daily_version_stats AS s
          SELECT package_id, utc_day(created_at), package_version, count(*), coalesce(sum(user_rating), 0), count(user_rating)
          FROM \(source) WHERE package_id IS NOT NULL AND package_version IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
          ON CONFLICT (package_id, day, package_version) DO UPDATE SET
            runs = s.runs + excluded.runs, rating_sum = s.rating_sum + excluded.rating_sum,
            rating_count = s.rating_count + excluded.rating_count;

          INSERT INTO package_user_last_day AS s
          SELECT package_id, user_id, max(utc_day(created_at))
          FROM \(source) WHERE package_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
          ON CONFLICT (package_id, user_id) DO UPDATE SET last_day = greatest(s.last_day, excluded.last_day);
        """
    }

    /// The insert trigger reads its transition table directly: copying it into a temp table
    /// first (and the temp table's truncation at every commit) took a third of an ingestion
    /// batch (pgbench, 10-row batches on the demo seed: 913 → 1406 batches/s).
    static let insertTriggerReadsTransitionTable = """
        CREATE OR REPLACE FUNCTION usage_rollup_on_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
        \(rollupUpserts(from: "new_rows"))
          RETURN NULL;
        END
        $fn$;
        """

    /// `usage_rollup_recompute(days_touched, users_touched)`: recomputes the rollups of the
    /// touched package-days from the raw rows, then the touched (package, user) pairs' last days
    /// with `lastDays` (an insert into `package_user_last_day`).
    static func rollupRecompute(_ create: String, lastDays: String) -> String {
        """
        \(create) FUNCTION usage_rollup_recompute(days_touched jsonb, users_touched jsonb) RETURNS void LANGUAGE plpgsql AS $fn$
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
        \(lastDays)
          DELETE FROM tmp_usage_batch;
        END
        $fn$;
        """
    }

    /// Last days of the touched pairs by a join of the pairs with the raw rows (migration 2).
    static let lastDaysByJoin = """
          INSERT INTO package_user_last_day
          SELECT u.package_id, u.user_id, max(utc_day(u.created_at))
          FROM (SELECT DISTINCT (e->>'p')::uuid AS package_id, (e->>'u')::uuid AS user_id FROM jsonb_array_elements(users_touched) e) t
          JOIN playground_usage u ON u.package_id = t.package_id AND u.user_id = t.user_id
          GROUP BY 1, 2
          ON CONFLICT (package_id, user_id) DO UPDATE SET last_day = excluded.last_day;
        """

    /// Last days of the touched pairs, each from the user's covering index (migration 6).
    static let lastDaysFromUserIndex = """
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
        """

    /// `{name}_insert`, `_update` and `_delete`: statement-level AFTER triggers on `table` with
    /// their transition tables (`new_rows`, `old_rows`), calling `functions` in that order.
    static func statementTriggers(_ name: String, on table: String, functions: [String]) -> String {
        """
        CREATE TRIGGER \(name)_insert AFTER INSERT ON \(table)
          REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION \(functions[0])();
        CREATE TRIGGER \(name)_update AFTER UPDATE ON \(table)
          REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION \(functions[1])();
        CREATE TRIGGER \(name)_delete AFTER DELETE ON \(table)
          REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION \(functions[2])();
        """
    }

    /// In an update trigger: the (package, user) pairs, before and after, of the rows whose
    /// package, user or day changed, as `touched_users` (migrations 2 and 4).
    static let touchedUsersOfUpdate = """
          SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object('p', package_id, 'u', user_id)), '[]'::jsonb)
            INTO touched_users
            FROM (SELECT o.package_id, o.user_id FROM old_rows o JOIN new_rows n ON n.id = o.id
                  WHERE (o.package_id, o.user_id, utc_day(o.created_at)) IS DISTINCT FROM (n.package_id, n.user_id, utc_day(n.created_at))
                  UNION ALL
                  SELECT n.package_id, n.user_id FROM old_rows o JOIN new_rows n ON n.id = o.id
                  WHERE (o.package_id, o.user_id, utc_day(o.created_at)) IS DISTINCT FROM (n.package_id, n.user_id, utc_day(n.created_at))) r
           WHERE package_id IS NOT NULL;
        """
}
