/// Every statement the answers and the ingestion run, in one place: the query code uses
/// these constants, and `prpm-analytics sql NAME` prints them for benchmarks (pgbench), so no
/// copy of them lives anywhere else. Parameters are `$1`, `$2`, … as the query code binds them.
public enum AnalyticsSQL {
    /// Package answer ($1 package id, $2 first day): seven statements in one snapshot. Each adds
    /// the package's inserts still waiting in the fold queue (migration 17, `queued`) to the
    /// rollups: one snapshot sees a row either in the queue or in the rollups, never both or
    /// neither, so the answer is exact without folding and without waiting for a folder. A
    /// queued row carries its values as inserted; later changes of its rating, helpfulness or
    /// credits are deltas in the rollups already. Distinct users count a queued row's user only
    /// when the rollups do not have them yet (for the window, for the day).
    public enum Package {
        static let queued = """
            WITH q AS MATERIALIZED (
              SELECT (x.r).* FROM usage_fold_queue x WHERE x.package_id = $1 AND utc_day((x.r).created_at) >= $2::date)
            """
        public static let totals = """
            \(queued)
            SELECT coalesce(sum(runs), 0) AS runs, coalesce(sum(successes), 0) AS successes,
                   coalesce(sum(duration_sum), 0) AS duration_sum, coalesce(sum(tokens_sum), 0) AS tokens_sum,
                   coalesce(sum(rating_sum), 0) AS rating_sum, coalesce(sum(rating_count), 0) AS rating_count
            FROM (SELECT runs, successes, duration_sum, tokens_sum, rating_sum, rating_count
                  FROM package_daily_stats WHERE package_id = $1 AND day >= $2::date
                  UNION ALL
                  SELECT 1, (error_occurred IS NOT TRUE)::int, duration_ms, tokens_used, coalesce(user_rating, 0),
                         (user_rating IS NOT NULL)::int
                  FROM q) t
            """
        public static let uniqueUsers = """
            \(queued)
            SELECT ((SELECT coalesce(sum(users), 0) FROM package_last_day_counts WHERE package_id = $1 AND day >= $2::date)
                    + (SELECT count(DISTINCT q.user_id) FROM q
                       WHERE NOT EXISTS (SELECT 1 FROM package_user_last_day l
                                         WHERE l.package_id = $1 AND l.user_id = q.user_id AND l.last_day >= $2::date)))::bigint AS n
            """
        public static let models = """
            \(queued)
            SELECT model, sum(runs) AS runs, sum(successes) AS successes, sum(duration_sum) AS duration_sum
            FROM (SELECT model, runs, successes, duration_sum FROM package_daily_model_stats WHERE package_id = $1 AND day >= $2::date
                  UNION ALL
                  SELECT model, 1, (error_occurred IS NOT TRUE)::int, duration_ms FROM q) m
            GROUP BY model
            """
        public static let versions = """
            \(queued)
            SELECT package_version, sum(runs) AS runs, sum(rating_sum) AS rating_sum, sum(rating_count) AS rating_count
            FROM (SELECT package_version, runs, rating_sum, rating_count
                  FROM package_daily_version_stats WHERE package_id = $1 AND day >= $2::date
                  UNION ALL
                  SELECT package_version, 1, coalesce(user_rating, 0), (user_rating IS NOT NULL)::int FROM q
                  WHERE package_version IS NOT NULL) v
            GROUP BY package_version
            """
        public static let daily = """
            \(queued)
            SELECT day::text AS day, sum(runs)::bigint AS runs, sum(unique_users)::bigint AS unique_users
            FROM (SELECT day, runs, unique_users FROM package_daily_stats WHERE package_id = $1 AND day >= $2::date
                  UNION ALL
                  SELECT day, count(*), count(DISTINCT user_id) FILTER (WHERE unseen)
                  FROM (SELECT utc_day(q.created_at) AS day, q.user_id,
                               NOT EXISTS (SELECT 1 FROM package_daily_users u
                                           WHERE u.package_id = $1 AND u.day = utc_day(q.created_at) AND u.user_id = q.user_id) AS unseen
                        FROM q) qd
                  GROUP BY day) d
            GROUP BY day
            """
        /// ($1 package id, $2 the age in seconds beyond which a trend is not shown: not "this week".)
        public static let trend = """
            SELECT this_week, last_week, change_pct, trend, computed_at FROM package_trends
            WHERE package_id = $1 AND computed_at >= now() - $2::integer * interval '1 second'
            """
        public static let extras = """
            \(queued)
            SELECT coalesce(sum(credits_sum), 0) AS credits_sum, coalesce(sum(helpful_yes), 0) AS helpful_yes,
                   coalesce(sum(helpful_answered), 0) AS helpful_answered
            FROM (SELECT credits_sum, helpful_yes, helpful_answered FROM package_daily_extras WHERE package_id = $1 AND day >= $2::date
                  UNION ALL
                  SELECT credits_spent, (was_helpful IS TRUE)::int, (was_helpful IS NOT NULL)::int FROM q) e
            """
        /// In the order the answer runs them.
        public static let all = [totals, uniqueUsers, models, versions, daily, trend, extras]
    }
    /// User answer ($1 user id, $2 window start): one statement, from the user rollups
    /// (migration 16). Totals and days from `user_daily_stats`; models and packages from the
    /// monthly rollups for the window's whole months, plus the raw rows of the days before the
    /// first whole month (at most 30, through the covering index). Rows by `kind`: `t` totals,
    /// `m` models, `p` top packages (names joined for the ten most run and their ties only),
    /// `d` days. The user's inserts still waiting in the fold queue (migration 17) are added to
    /// the rollups' part: one snapshot sees a row either in the queue or in the rollups, never
    /// both or neither, so the answer is exact without folding (and without waiting for a
    /// folder). A queued row carries its values as inserted; later changes of its rating or
    /// credits are deltas in the rollups already, and a delete of it either folded it first
    /// (rows of a package) or subtracted it from the rollups.
    public enum User {
        public static let answer = """
            WITH b AS MATERIALIZED (
              SELECT utc_day($2::timestamptz) AS first_day,
                     CASE WHEN utc_day($2::timestamptz) = utc_month($2::timestamptz) THEN utc_month($2::timestamptz)
                          ELSE (utc_month($2::timestamptz) + interval '1 month')::date END AS first_month),
            part AS MATERIALIZED (
              SELECT u.model, u.credits_spent, u.duration_ms, u.package_id, u.user_rating FROM playground_usage u, b
              WHERE u.user_id = $1 AND u.created_at >= $2::timestamptz AND u.created_at < b.first_month::timestamp AT TIME ZONE 'UTC'),
            queued AS MATERIALIZED (
              SELECT (q.r).* FROM usage_fold_queue q, b WHERE q.user_id = $1 AND utc_day((q.r).created_at) >= b.first_day),
            queued_months AS (
              SELECT x.* FROM queued x, b WHERE x.created_at >= b.first_month::timestamp AT TIME ZONE 'UTC'),
            days AS MATERIALIZED (
              SELECT day, sum(runs) AS runs, sum(credits_sum) AS credits_sum, sum(tokens_sum) AS tokens_sum,
                     sum(duration_sum) AS duration_sum
              FROM (SELECT s.day, s.runs, s.credits_sum, s.tokens_sum, s.duration_sum FROM user_daily_stats s, b
                    WHERE s.user_id = $1 AND s.day >= b.first_day
                    UNION ALL
                    SELECT utc_day(created_at), 1, credits_spent, tokens_used, duration_ms FROM queued) d
              GROUP BY day)
            SELECT 't' AS kind, NULL::text AS key, NULL::text AS name, coalesce(sum(runs), 0)::bigint AS runs,
                   coalesce(sum(credits_sum), 0)::bigint AS credits, coalesce(sum(tokens_sum), 0)::bigint AS tokens,
                   coalesce(sum(duration_sum), 0)::bigint AS duration_sum, 0::bigint AS rating_sum, 0::bigint AS rating_count
            FROM days
            UNION ALL
            SELECT 'm', model, NULL, sum(runs)::bigint, sum(credits)::bigint, 0, sum(duration)::bigint, 0, 0
            FROM (SELECT s.model, s.runs, s.credits_sum AS credits, s.duration_sum AS duration FROM user_monthly_model_stats s, b
                  WHERE s.user_id = $1 AND s.month >= b.first_month
                  UNION ALL
                  SELECT model, 1, credits_spent, duration_ms FROM part
                  UNION ALL
                  SELECT model, 1, credits_spent, duration_ms FROM queued_months) x
            GROUP BY model HAVING sum(runs) > 0
            UNION ALL
            (SELECT 'p', x.package_id::text, p.name, x.runs, x.credits, 0, 0, x.rating_sum, x.rating_count
             FROM (SELECT package_id, sum(runs)::bigint AS runs, sum(credits)::bigint AS credits, sum(rating_sum)::bigint AS rating_sum,
                          sum(rating_count)::bigint AS rating_count
                   FROM (SELECT s.package_id, s.runs, s.credits_sum AS credits, s.rating_sum, s.rating_count
                         FROM user_monthly_package_stats s, b WHERE s.user_id = $1 AND s.month >= b.first_month
                         UNION ALL
                         SELECT package_id, 1, credits_spent, coalesce(user_rating, 0), (user_rating IS NOT NULL)::int
                         FROM part WHERE package_id IS NOT NULL
                         UNION ALL
                         SELECT package_id, 1, credits_spent, coalesce(user_rating, 0), (user_rating IS NOT NULL)::int
                         FROM queued_months WHERE package_id IS NOT NULL) y
                   GROUP BY package_id HAVING sum(runs) > 0
                   ORDER BY 2 DESC FETCH FIRST 10 ROWS WITH TIES) x
             JOIN packages p ON p.id = x.package_id
             ORDER BY x.runs DESC, p.name ASC LIMIT 10)
            UNION ALL
            SELECT 'd', day::text, NULL, runs::bigint, credits_sum::bigint, 0, 0, 0, 0 FROM days
            """
        /// The cost advice's figures ($1 user id, $2 window start), in the answer's snapshot: the
        /// user's runs, successes and credits per model and package in the window, from the raw
        /// rows (the user's covering index, plus the rows' success flag).
        public static let costCells = """
            SELECT model, package_id, count(*) AS runs, count(*) FILTER (WHERE error_occurred IS NOT TRUE) AS successes,
                   coalesce(sum(credits_spent), 0)::bigint AS credits
            FROM playground_usage WHERE user_id = $1 AND created_at >= $2::timestamptz AND package_id IS NOT NULL
            GROUP BY model, package_id
            """
        /// In the order the answer runs them.
        public static let all = [answer, costCells]
    }
    /// Organization answer ($1 org id, $2 window start): one statement, one scan of the org's
    /// rows in the window (five statements, each scanning them again, cost 25–30 % more on the
    /// 5M-row seed). Rows by `kind`: `t` totals (with `billed`: the members among the active
    /// users), `m` members (with their `team`), `p` top packages, `d` days, `g` teams (from the
    /// members' sums: one join per member, not per row), each kind in its `ord` order.
    public enum Organization {
        public static let answer = """
            WITH u AS MATERIALIZED (
              SELECT user_id, package_id, credits_spent, tokens_used, duration_ms, user_rating, created_at
              FROM playground_usage WHERE org_id = $1 AND created_at >= $2::timestamptz),
            m AS MATERIALIZED (
              SELECT m.user_id, m.runs, m.credits, m.last_active, t.user_id IS NOT NULL AS member, coalesce(t.team, 'unassigned') AS team
              FROM (SELECT user_id, count(*) AS runs, sum(credits_spent) AS credits, max(created_at) AS last_active FROM u GROUP BY user_id) m
              LEFT JOIN organization_members t ON t.org_id = $1 AND t.user_id = m.user_id)
            SELECT 't' AS kind, NULL::text AS key, NULL::text AS name, count(*) AS runs, (SELECT count(*) FROM m) AS users,
                   coalesce(sum(credits_spent), 0) AS credits, coalesce(sum(tokens_used), 0) AS tokens,
                   coalesce(sum(duration_ms), 0) AS duration_sum, 0::bigint AS rating_sum, 0::bigint AS rating_count,
                   (SELECT count(*) FROM organization_members WHERE org_id = $1) AS total_members, NULL::timestamptz AS at,
                   0::bigint AS ord, NULL::text AS team, (SELECT count(*) FROM m WHERE member) AS billed
            FROM u
            UNION ALL
            SELECT 'm', m.user_id::text, x.username, m.runs, 0, m.credits, 0, 0, 0, 0, 0, m.last_active,
                   row_number() OVER (ORDER BY m.runs DESC, x.username ASC), m.team, 0
            FROM m JOIN users x ON x.id = m.user_id
            UNION ALL
            (SELECT 'p', a.package_id::text, p.name, a.runs, a.users, 0, 0, 0, a.rating_sum, a.rating_count, 0, NULL,
                    row_number() OVER (ORDER BY a.runs DESC, p.name ASC), NULL, 0
             FROM (SELECT package_id, count(*) AS runs, count(DISTINCT user_id) AS users, coalesce(sum(user_rating), 0) AS rating_sum,
                          count(user_rating) AS rating_count
                   FROM u WHERE package_id IS NOT NULL GROUP BY package_id) a
             JOIN packages p ON p.id = a.package_id
             ORDER BY a.runs DESC, p.name ASC LIMIT 10)
            UNION ALL
            SELECT 'd', utc_day(created_at)::text, NULL, count(*), count(DISTINCT user_id), sum(credits_spent), 0, 0, 0, 0, 0, NULL, 0,
                   NULL, 0
            FROM u GROUP BY 2
            UNION ALL
            SELECT 'g', m.team, NULL, sum(m.runs), 0, sum(m.credits), 0, 0, 0, 0, 0, NULL,
                   row_number() OVER (ORDER BY sum(m.credits) DESC, m.team ASC), NULL, 0
            FROM m GROUP BY 2
            ORDER BY kind, ord
            """
        /// In the order the answer runs them.
        public static let all = [answer]
    }
    /// Monthly report of an organization ($1 org id, $2 first instant of the month, $3 of the
    /// next month, $4 of the month before): one statement, one scan of the org's rows of the
    /// two months. Rows by `kind`: `t` totals (`runs` of the month, `previous_runs`, `members`:
    /// memberships, `active`: members with a row in the month), `m` every user with rows (their
    /// team; non-members under `unassigned`), `p` the ten packages with most runs (`users`
    /// distinct), `g` teams by credits; each kind in its `ord` order.
    public enum OrganizationReport {
        public static let answer = """
            WITH u AS MATERIALIZED (
              SELECT user_id, package_id, credits_spent, created_at
              FROM playground_usage WHERE org_id = $1 AND created_at >= $2::timestamptz AND created_at < $3::timestamptz),
            m AS MATERIALIZED (
              SELECT m.user_id, m.runs, m.credits, m.last_active, t.user_id IS NOT NULL AS member, coalesce(t.team, 'unassigned') AS team
              FROM (SELECT user_id, count(*) AS runs, sum(credits_spent) AS credits, max(created_at) AS last_active FROM u GROUP BY user_id) m
              LEFT JOIN organization_members t ON t.org_id = $1 AND t.user_id = m.user_id)
            SELECT 't' AS kind, NULL::text AS key, NULL::text AS name, NULL::text AS team, (SELECT count(*) FROM u) AS runs,
                   (SELECT count(*) FROM m WHERE member) AS users, (SELECT coalesce(sum(credits_spent), 0) FROM u) AS credits,
                   NULL::timestamptz AS at, 0::bigint AS ord,
                   (SELECT count(*) FROM organization_members WHERE org_id = $1) AS members,
                   (SELECT count(*) FROM playground_usage
                    WHERE org_id = $1 AND created_at >= $4::timestamptz AND created_at < $2::timestamptz) AS previous_runs
            UNION ALL
            SELECT 'm', m.user_id::text, x.username, m.team, m.runs, 0, m.credits, m.last_active,
                   row_number() OVER (ORDER BY m.runs DESC, x.username ASC), 0, 0
            FROM m JOIN users x ON x.id = m.user_id
            UNION ALL
            (SELECT 'p', a.package_id::text, p.name, NULL, a.runs, a.users, 0, NULL, row_number() OVER (ORDER BY a.runs DESC, p.name ASC), 0, 0
             FROM (SELECT package_id, count(*) AS runs, count(DISTINCT user_id) AS users FROM u WHERE package_id IS NOT NULL GROUP BY package_id) a
             JOIN packages p ON p.id = a.package_id
             ORDER BY a.runs DESC, p.name ASC LIMIT 10)
            UNION ALL
            SELECT 'g', m.team, NULL, m.team, sum(m.runs), 0, sum(m.credits), NULL,
                   row_number() OVER (ORDER BY sum(m.credits) DESC, m.team ASC), 0, 0
            FROM m GROUP BY m.team
            ORDER BY kind, ord
            """
        /// In the order the report runs them.
        public static let all = [answer]
    }
    /// A batch of usage rows ($1 … $21: one array per column, see `AnalyticsQueries.ingest`).
    public static let ingest = """
        INSERT INTO playground_usage (id, user_id, org_id, package_id, package_version, session_id, model, tokens_used,
          duration_ms, credits_spent, request_size_bytes, response_size_bytes, input_length, output_length, error_occurred,
          error_message, user_rating, was_helpful, user_feedback, comparison_mode, created_at)
        SELECT id, user_id, org_id, package_id, package_version, session_id, model, tokens_used, duration_ms, credits_spent,
          request_size_bytes, response_size_bytes, input_length, output_length, error_occurred, error_message, user_rating,
          was_helpful, user_feedback, comparison_mode, coalesce(created_at, now())
        FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::uuid[], $7::text[], $8::integer[],
          $9::integer[], $10::integer[], $11::integer[], $12::integer[], $13::integer[], $14::integer[], $15::boolean[],
          $16::text[], $17::integer[], $18::boolean[], $19::text[], $20::boolean[], $21::timestamptz[])
          AS t(id, user_id, org_id, package_id, package_version, session_id, model, tokens_used, duration_ms, credits_spent,
               request_size_bytes, response_size_bytes, input_length, output_length, error_occurred, error_message,
               user_rating, was_helpful, user_feedback, comparison_mode, created_at)
        """
    /// Feedback on one usage row of its owner ($1 usage id, $2 owner, $3 rating, $4 helpful,
    /// $5 text; a NULL leaves that field as it is). Text on a row older than the feedback text's
    /// retention changes nothing and returns no row (`usageOwned` then tells why).
    public static let feedback = """
        UPDATE playground_usage SET
          user_rating = coalesce($3::integer, user_rating),
          was_helpful = coalesce($4::boolean, was_helpful),
          user_feedback = coalesce($5::text, user_feedback)
        WHERE id = $1 AND user_id = $2 AND ($5::text IS NULL OR created_at >= \(RetentionRules.feedbackTextCutoffSQL))
        RETURNING id, user_rating, was_helpful, user_feedback, package_id, org_id, user_id
        """
    /// Whether usage row $1 exists and belongs to $2.
    public static let usageOwned = """
        SELECT EXISTS (SELECT 1 FROM playground_usage WHERE id = $1 AND user_id = $2) AS owned
        """
    /// Packages by runs since $1 (first day), at most $2, most first; equal runs share a rank.
    /// Like the package answer, it adds the inserts still waiting in the fold queue to the
    /// rollups in the same snapshot (a row is in one or the other), so it is exact without
    /// folding: a request never waits for the fold's lock.
    public static let popular = """
        WITH q AS MATERIALIZED (
          SELECT x.package_id, x.user_id FROM usage_fold_queue x
          WHERE x.package_id IS NOT NULL AND utc_day((x.r).created_at) >= $1::date),
        r AS (SELECT package_id, sum(runs) AS runs
              FROM (SELECT package_id, runs FROM package_daily_stats WHERE day >= $1::date UNION ALL SELECT package_id, 1 FROM q) t
              GROUP BY package_id HAVING sum(runs) > 0),
        top AS (SELECT r.package_id, p.name, r.runs, rank() OVER (ORDER BY r.runs DESC)::bigint AS rank
                FROM r JOIN packages p ON p.id = r.package_id ORDER BY r.runs DESC, p.name ASC LIMIT $2)
        SELECT top.package_id, top.name, top.runs, top.rank,
               ((SELECT coalesce(sum(c.users), 0) FROM package_last_day_counts c WHERE c.package_id = top.package_id AND c.day >= $1::date)
                + (SELECT count(DISTINCT q.user_id) FROM q
                   WHERE q.package_id = top.package_id
                     AND NOT EXISTS (SELECT 1 FROM package_user_last_day l
                                     WHERE l.package_id = q.package_id AND l.user_id = q.user_id AND l.last_day >= $1::date)))::bigint
                 AS unique_users
        FROM top ORDER BY top.runs DESC, top.name ASC
        """
    /// One usage row of its owner ($1 usage id, $2 owner): the feedback widget.
    public static let usageRow = """
        SELECT u.id, p.name AS package_name, u.package_version, u.model, u.created_at, u.user_rating, u.was_helpful, u.user_feedback
        FROM playground_usage u LEFT JOIN packages p ON p.id = u.package_id
        WHERE u.id = $1 AND u.user_id = $2
        """
    /// Site-wide totals, all time: the usage rows and the runs retention folded into the
    /// archive; the users with usage rows (retention keeps no per-user history: users of the
    /// last 12 months); the packages with runs in their daily rollups (kept by retention) or
    /// in the fold queue (no fold, as `popular`).
    public static let summary = """
        SELECT (SELECT count(*) FROM playground_usage) + (SELECT coalesce(sum(runs), 0) FROM usage_daily_archive) AS total_runs,
               (SELECT count(*) FROM users u WHERE EXISTS (SELECT 1 FROM playground_usage x WHERE x.user_id = u.id)) AS unique_users,
               (SELECT count(*) FROM (SELECT package_id FROM package_daily_stats GROUP BY package_id HAVING sum(runs) > 0
                                      UNION SELECT package_id FROM usage_fold_queue WHERE package_id IS NOT NULL) p)
                 AS packages_with_runs
        """
}
