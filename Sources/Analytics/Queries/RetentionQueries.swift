import Foundation
import Postgres

/// The retention rules of the design, each step one short transaction (a crash loses nothing
/// and counts nothing twice), after `guard` (the worker's lease fence).
extension AnalyticsQueries {
    /// Creates the monthly partitions of `playground_usage` for this UTC month and
    /// `monthsAhead` more, and gives rows waiting in the default partition a month of their own
    /// (unless retention removes them anyway). Returns the partitions created.
    public func maintainUsagePartitions(monthsAhead: Int, guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.query(
                "SELECT usage_partitions_maintain($1, now() - interval '12 months') AS n", [monthsAhead], prepare: false
            ).first!.decode("n", as: Int.self)
        }
    }

    /// The monthly partitions whose whole month is older than 12 months, oldest first.
    public func expiredUsagePartitions() async throws -> [String] {
        try await postgres.withConnection { c in
            try c.query("SELECT p::text AS name FROM usage_partitions_expired(now() - interval '12 months') p", prepare: false)
                .map { try $0.decode("name", as: String.self) }
        }
    }

    /// Retires a whole expired partition: folds its rows into `usage_daily_archive` and
    /// truncates it in one transaction (a crash folds nothing or everything), then drops the
    /// empty table. Both steps lock (the partition, then the parent table for the drop), and
    /// readers queue behind a waiting lock: each gives up after `lockTimeout`. Returns the rows
    /// folded, or nil when the partition was busy (nothing changed; the next run retries; an
    /// empty partition left by a busy drop is dropped then).
    public func retireUsagePartition(_ name: String, lockTimeout: Duration, guard: WriteGuard?) async throws -> Int? {
        let setTimeout = "SET LOCAL lock_timeout = \(Int((lockTimeout / .milliseconds(1)).rounded(.up)))"
        func unlessBusy<T>(_ step: () async throws -> T) async throws -> T? {
            do { return try await step() } catch let error as PostgresError where error.sqlState == "55P03" { return nil }
        }
        let rows = try await unlessBusy {
            try await guardedTransaction(`guard`) { c in
                try c.execute(setTimeout)
                return try c.query("SELECT usage_partition_retire($1::regclass) AS n", [name], prepare: false).first!.decode("n", as: Int.self)
            }
        }
        guard let rows else { return nil }
        _ = try await unlessBusy {
            try await guardedTransaction(`guard`) { c in
                try c.execute(setTimeout)
                return try c.query("SELECT usage_partition_drop_empty($1::regclass) AS dropped", [name], prepare: false)
                    .first!.decode("dropped", as: Bool.self)
            }
        }
        return rows
    }

    /// Folds up to `batch` usage rows older than 12 months into `usage_daily_archive` and
    /// deletes them; the per-package daily rollups are kept. Returns the rows moved. Whole
    /// older months are retired by `retireUsagePartition`: this takes only the rows of the
    /// month that straddles the cutoff and older rows that wait in the default partition
    /// (a month whose partition was busy waits for the next run).
    public func archiveOldUsage(batch: Int, guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.execute("SET LOCAL prpm.retention = 'on'")
            return try c.query(
                """
                WITH straddling AS (
                  SELECT id, created_at FROM playground_usage
                  WHERE created_at >= date_trunc('month', (now() - interval '12 months') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                    AND created_at < now() - interval '12 months'
                  ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED
                ), waiting AS (
                  SELECT id, created_at FROM playground_usage_default
                  WHERE created_at < date_trunc('month', (now() - interval '12 months') AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                  ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED
                ), doomed AS (
                  SELECT * FROM straddling UNION ALL SELECT * FROM waiting
                ), gone AS (
                  DELETE FROM playground_usage u USING doomed d WHERE u.id = d.id AND u.created_at = d.created_at RETURNING u.*
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
    }

    /// Removes the user rollup rows (migration 16) of the days and months older than 12 months:
    /// no window reaches them, and the raw rows they summed are gone. Returns the rows removed.
    public func expireUserRollups(guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.query("SELECT usage_user_rollups_expire(now() - interval '12 months') AS n", prepare: false).first!.decode("n", as: Int.self)
        }
    }

    /// Clears the feedback text of up to `batch` rows older than 6 months.
    public func clearOldFeedback(batch: Int, guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.query(
                """
                UPDATE playground_usage SET user_feedback = NULL WHERE id IN (
                  SELECT id FROM playground_usage WHERE user_feedback IS NOT NULL AND created_at < now() - interval '6 months'
                  LIMIT $1 FOR UPDATE SKIP LOCKED)
                """, [batch]
            ).affectedRows
        }
    }

    /// Anonymizes users deleted more than 30 days ago.
    public func anonymizeDeletedUsers(guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.query(
                """
                UPDATE users SET username = 'deleted-' || replace(id::text, '-', ''), email = NULL
                WHERE deleted_at < now() - interval '30 days'
                  AND (username IS DISTINCT FROM 'deleted-' || replace(id::text, '-', '') OR email IS NOT NULL)
                """
            ).affectedRows
        }
    }

    /// Forgets up to `batch` `Idempotency-Key`s older than 24 hours (they answer retries that long).
    public func expireIdempotencyKeys(batch: Int, guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.query(
                """
                DELETE FROM ingest_requests WHERE key IN (
                  SELECT key FROM ingest_requests WHERE created_at < now() - interval '24 hours' LIMIT $1 FOR UPDATE SKIP LOCKED)
                """, [batch]
            ).affectedRows
        }
    }
}
