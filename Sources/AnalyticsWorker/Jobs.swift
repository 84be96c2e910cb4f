import Analytics
import AnalyticsCache
import Foundation
import Logging
import Postgres
import Redis

/// The three jobs. Each is idempotent and safe to re-run after a crash midway.
struct Jobs: Sendable {
    let deps: WorkerDependencies

    static let stream = RedisKeyspace.refreshStream
    static let group = RedisKeyspace.refreshGroup

    // MARK: trends

    /// Week-over-week per package: the last 7 complete UTC days against the 7 before,
    /// from the exact daily rollups. Stored in `package_trends`; the cached trending
    /// tables are replaced.
    ///
    /// Rows are upserted in package order (two runs cannot deadlock) and stamped with the
    /// database's clock, which also decides which rows are old: a worker's clock plays no part.
    func trends(now: Date = Date(), fence: JobFence? = nil) async throws -> Int {
        let today = Int((now.timeIntervalSince1970 / 86_400).rounded(.down))
        let rows = try await deps.postgres.query(
            """
            SELECT package_id,
                   coalesce(sum(runs) FILTER (WHERE day >= $2::date), 0) AS this_week,
                   coalesce(sum(runs) FILTER (WHERE day < $2::date), 0) AS last_week
            FROM package_daily_stats WHERE day >= $1::date AND day < $3::date GROUP BY package_id
            """, [DayFormat.string(today - 14), DayFormat.string(today - 7), DayFormat.string(today)])
        var ids: [UUID] = []
        var this: [Int] = []
        var last: [Int] = []
        var change: [Double?] = []
        var trend: [String] = []
        for row in rows {
            let thisWeek: Int = try row.decode("this_week")
            let lastWeek: Int = try row.decode("last_week")
            ids.append(try row.decode("package_id"))
            this.append(thisWeek)
            last.append(lastWeek)
            change.append(TrendRules.changePct(thisWeek: thisWeek, lastWeek: lastWeek))
            trend.append(TrendRules.trend(thisWeek: thisWeek, lastWeek: lastWeek))
        }
        let parameters: [any PostgresEncodable] = [
            PostgresArray(ids), PostgresArray(this), PostgresArray(last), PostgresArray(change.map { $0.map { String($0) } }),
            PostgresArray(trend),
        ]
        try await deps.postgres.fencedTransaction(fence) { c in
            try c.query(
                """
                INSERT INTO package_trends (package_id, this_week, last_week, change_pct, trend, computed_at)
                SELECT p, t, l, c, tr, now()
                FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::float8[], $5::text[]) AS x(p, t, l, c, tr)
                ORDER BY p
                ON CONFLICT (package_id) DO UPDATE SET this_week = excluded.this_week, last_week = excluded.last_week,
                  change_pct = excluded.change_pct, trend = excluded.trend, computed_at = excluded.computed_at
                """, parameters)
            // Packages with no use in either week have no trend any more (`now()` is the
            // transaction's start: every row written above carries it).
            try c.query("DELETE FROM package_trends WHERE computed_at < now()")
        }
        await deps.cache.recordTrendsComputed()
        return ids.count
    }

    // MARK: retention

    struct RetentionResult: Sendable, Equatable {
        var rowsArchived = 0
        var feedbackCleared = 0
        var usersAnonymized = 0
        var idempotencyKeysExpired = 0
    }

    /// Folds usage rows older than 12 months into `usage_daily_archive` and deletes them,
    /// batch by batch (each batch one short transaction: a crash loses nothing and counts
    /// nothing twice); clears feedback text older than 6 months; anonymizes users deleted
    /// more than 30 days ago; forgets `Idempotency-Key`s older than 24 hours.
    func retention(fence: JobFence? = nil) async throws -> RetentionResult {
        var result = RetentionResult()
        let batch = deps.config.retentionBatchSize
        while true {
            let moved = try await deps.postgres.fencedTransaction(fence) { c in
                try c.execute("SET LOCAL prpm.retention = 'on'")
                return try c.query(
                    """
                    WITH doomed AS (
                      SELECT id FROM playground_usage WHERE created_at < now() - interval '12 months'
                      ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED
                    ), gone AS (
                      DELETE FROM playground_usage u USING doomed d WHERE u.id = d.id RETURNING u.*
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
                    SELECT (SELECT count(*) FROM gone) AS n, (SELECT count(*) FROM folded) AS groups
                    """, [batch], prepare: false
                ).first!.decode("n", as: Int.self)
            }
            result.rowsArchived += moved
            if moved < batch { break }
        }
        while true {
            let cleared = try await deps.postgres.fencedTransaction(fence) { c in
                try c.query(
                    """
                    UPDATE playground_usage SET user_feedback = NULL WHERE id IN (
                      SELECT id FROM playground_usage WHERE user_feedback IS NOT NULL AND created_at < now() - interval '6 months'
                      LIMIT $1 FOR UPDATE SKIP LOCKED)
                    """, [batch]
                ).affectedRows
            }
            result.feedbackCleared += cleared
            if cleared < batch { break }
        }
        result.usersAnonymized = try await deps.postgres.fencedTransaction(fence) { c in
            try c.query(
                """
                UPDATE users SET username = 'deleted-' || replace(id::text, '-', ''), email = NULL
                WHERE deleted_at < now() - interval '30 days'
                  AND (username IS DISTINCT FROM 'deleted-' || replace(id::text, '-', '') OR email IS NOT NULL)
                """
            ).affectedRows
        }
        // `Idempotency-Key`s answer retries for 24 hours.
        while true {
            let expired = try await deps.postgres.fencedTransaction(fence) { c in
                try c.query(
                    """
                    DELETE FROM ingest_requests WHERE key IN (
                      SELECT key FROM ingest_requests WHERE created_at < now() - interval '24 hours' LIMIT $1 FOR UPDATE SKIP LOCKED)
                    """, [batch]
                ).affectedRows
            }
            result.idempotencyKeysExpired += expired
            if expired < batch { break }
        }
        return result
    }

    // MARK: refresh

    /// Leader part: decays the hot-set scores and puts one task per hot package × window
    /// on the stream. Returns the number of tasks enqueued.
    func enqueueRefresh() async throws -> Int {
        let top =
            try await deps.redis.command(
                "ZREVRANGE", RedisKeyspace.hotPackages, "0", String(deps.config.hotPackages - 1)
            ).array?.compactMap(\.string) ?? []
        // Exponential decay: every refresh cycle halves the weight of older reads.
        _ = try await deps.redis.pipeline([
            ["ZUNIONSTORE", RedisKeyspace.hotPackages, "1", RedisKeyspace.hotPackages, "WEIGHTS", "0.5"],
            ["ZREMRANGEBYSCORE", RedisKeyspace.hotPackages, "-inf", "0.01"],
        ])
        guard !top.isEmpty else { return 0 }
        var commands: [[String]] = []
        for package in top {
            for days in deps.config.refreshWindows {
                commands.append(["XADD", Self.stream, "MAXLEN", "~", "100000", "*", "package", package, "days", String(days)])
            }
        }
        _ = try await deps.redis.pipeline(commands)
        return commands.count
    }

    /// Recomputes one package window into the cache.
    func refresh(packageId: UUID, days: Int) async throws {
        try await deps.analytics.refreshPackage(packageId, days: days)
    }

    /// The age in seconds of the oldest cached entry among the hot packages' windows.
    func refreshLag() async throws -> Double {
        let top =
            try await deps.redis.command("ZREVRANGE", RedisKeyspace.hotPackages, "0", String(deps.config.hotPackages - 1)).array?
            .compactMap(\.string) ?? []
        guard !top.isEmpty else { return 0 }
        var commands: [[String]] = []
        for package in top {
            for days in deps.config.refreshWindows {
                commands.append(["GETRANGE", RedisKeyspace.entry(.package, entity: package, days: days), "0", "15"])
            }
        }
        let now = Date().timeIntervalSince1970
        var oldest = now
        for reply in try await deps.redis.pipeline(commands) {
            guard let text = reply.string, let millis = Double(text.split(separator: " ").first ?? "") else { continue }
            oldest = min(oldest, millis / 1000)
        }
        return now - oldest
    }
}
