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
                "SELECT usage_partitions_maintain($1, \(RetentionRules.usageCutoffSQL)) AS n", [monthsAhead], prepare: false
            ).first!.decode("n", as: Int.self)
        }
    }

    /// The monthly partitions whose whole month is older than 12 months, oldest first.
    public func expiredUsagePartitions() async throws -> [String] {
        try await postgres.withConnection { c in
            try c.query("SELECT p::text AS name FROM usage_partitions_expired(\(RetentionRules.usageCutoffSQL)) p", prepare: false)
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
    /// deletes them (`usage_archive_batch`, migration 19); the per-package daily rollups are kept.
    /// Returns the rows moved. Whole older months are retired by `retireUsagePartition` or
    /// `archiveUsagePartitionBatch`: this takes only the rows of the month that straddles the
    /// cutoff and older rows that wait in the default partition (a month whose partition was
    /// busy waits for the next run).
    public func archiveOldUsage(batch: Int, guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.query(
                """
                WITH cutoff AS (
                  SELECT \(RetentionRules.usageCutoffSQL) AS t,
                         date_trunc('month', (\(RetentionRules.usageCutoffSQL)) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month)
                SELECT usage_archive_batch('playground_usage', month, t, $1) + usage_archive_batch('playground_usage_default', '-infinity', month, $1)
                  AS n FROM cutoff
                """, [batch], prepare: false
            ).first!.decode("n", as: Int.self)
        }
    }

    /// Whether the expired partition `name` holds more than `rows` rows (reads at most that many).
    public func usagePartition(_ name: String, holdsMoreThan rows: Int) async throws -> Bool {
        try await postgres.withConnection { c in
            try c.query("SELECT count(*) > $1 AS more FROM (SELECT 1 FROM \(name) LIMIT $1 + 1) r", [rows], prepare: false)
                .first!.decode("more", as: Bool.self)
        }
    }

    /// Folds up to `batch` rows of the expired partition `name` into `usage_daily_archive` and
    /// deletes them, in one short transaction (for a month too large to retire in one). Returns the
    /// rows moved.
    public func archiveUsagePartitionBatch(_ name: String, batch: Int, guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.query(
                "SELECT usage_archive_batch($1::regclass, '-infinity', \(RetentionRules.usageCutoffSQL), $2) AS n", [name, batch], prepare: false
            ).first!.decode("n", as: Int.self)
        }
    }

    /// Removes the user rollup rows (migration 16) of the days and months older than 12 months:
    /// no window reaches them, and the raw rows they summed are gone. Returns the rows removed.
    public func expireUserRollups(guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.query("SELECT usage_user_rollups_expire(\(RetentionRules.usageCutoffSQL)) AS n", prepare: false).first!.decode("n", as: Int.self)
        }
    }

    /// Expires up to `batch` rows of each per-user table that `expireUserRollups` leaves
    /// (migration 19: who used a package on a day, the last day of each user with each package,
    /// the user of old sessions) older than 12 months, after folding the queued inserts. Returns
    /// the largest count of the three (repeat while it is a whole batch).
    public func expireUserDays(batch: Int, guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.query("SELECT usage_user_days_expire_batch(\(RetentionRules.usageCutoffSQL), $1) AS n", [batch], prepare: false)
                .first!.decode("n", as: Int.self)
        }
    }

    /// Clears the feedback text of up to `batch` rows older than 6 months.
    public func clearOldFeedback(batch: Int, guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.query(
                """
                UPDATE playground_usage SET user_feedback = NULL WHERE id IN (
                  SELECT id FROM playground_usage WHERE user_feedback IS NOT NULL AND created_at < \(RetentionRules.feedbackTextCutoffSQL)
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
                WHERE deleted_at < \(RetentionRules.deletedUserCutoffSQL)
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
