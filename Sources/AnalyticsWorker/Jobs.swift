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
        let trends = try await deps.queries.weekOverWeek(today: today).map { counts in
            AnalyticsQueries.PackageTrend(
                packageId: counts.packageId, thisWeek: counts.thisWeek, lastWeek: counts.lastWeek,
                changePct: TrendRules.changePct(thisWeek: counts.thisWeek, lastWeek: counts.lastWeek),
                trend: TrendRules.trend(thisWeek: counts.thisWeek, lastWeek: counts.lastWeek))
        }
        try await deps.queries.replaceTrends(trends, guard: fence?.check)
        await deps.cache.recordTrendsComputed()
        return trends.count
    }

    // MARK: retention

    struct RetentionResult: Sendable, Equatable {
        var partitionsCreated = 0
        var partitionsRetired = 0
        var partitionsBusy = 0
        var rowsArchived = 0
        var rollupRowsExpired = 0
        var feedbackCleared = 0
        var usersAnonymized = 0
        var idempotencyKeysExpired = 0
    }

    /// Keeps the monthly partitions of `playground_usage` ready ahead; folds usage rows older
    /// than 12 months into `usage_daily_archive` and removes them, whole months at once
    /// (fold and truncate a partition, then drop it) and the rest batch by batch (each step
    /// one short transaction: a crash loses nothing and counts nothing twice), and the user
    /// rollup rows of those days and months; clears feedback
    /// text older than 6 months; anonymizes users deleted more than 30 days ago; forgets
    /// `Idempotency-Key`s older than 24 hours.
    func retention(fence: JobFence? = nil) async throws -> RetentionResult {
        var result = RetentionResult()
        let batch = deps.config.retentionBatchSize
        let queries = deps.queries
        /// Runs `step` until it does less than a whole batch; returns the total.
        func batches(_ step: () async throws -> Int) async throws -> Int {
            var total = 0
            while true {
                let done = try await step()
                total += done
                if done < batch { return total }
            }
        }
        let config = deps.config
        result.partitionsCreated = try await queries.maintainUsagePartitions(monthsAhead: config.partitionMonthsAhead, guard: fence?.check)
        for partition in try await queries.expiredUsagePartitions() {
            if let rows = try await queries.retireUsagePartition(partition, lockTimeout: config.partitionLockTimeout, guard: fence?.check) {
                result.rowsArchived += rows
                result.partitionsRetired += 1
            } else {
                result.partitionsBusy += 1
            }
        }
        result.rowsArchived += try await batches { try await queries.archiveOldUsage(batch: batch, guard: fence?.check) }
        result.rollupRowsExpired = try await queries.expireUserRollups(guard: fence?.check)
        result.feedbackCleared = try await batches { try await queries.clearOldFeedback(batch: batch, guard: fence?.check) }
        result.usersAnonymized = try await queries.anonymizeDeletedUsers(guard: fence?.check)
        result.idempotencyKeysExpired = try await batches { try await queries.expireIdempotencyKeys(batch: batch, guard: fence?.check) }
        return result
    }

    // MARK: refresh

    /// Leader part: decays the hot-set scores and puts one task per hot package × window
    /// on the stream, hottest first, each with the time it is due (`due`, ms since 1970): the
    /// cycle's tasks are spread over the first half of the refresh interval, so that the
    /// recomputations do not all land on the database (and the cores the API shares with it)
    /// at once. Returns the number of tasks enqueued.
    func enqueueRefresh(now: Date = Date()) async throws -> Int {
        let tasks = try await hotWindows()
        // Exponential decay: every refresh cycle halves the weight of older reads.
        _ = try await deps.redis.pipeline([
            ["ZUNIONSTORE", RedisKeyspace.hotPackages, "1", RedisKeyspace.hotPackages, "WEIGHTS", "0.5"],
            ["ZREMRANGEBYSCORE", RedisKeyspace.hotPackages, "-inf", "0.01"],
        ])
        guard !tasks.isEmpty else { return 0 }
        let start = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        let spread = Int64(Lease.milliseconds(deps.config.refreshSpread))
        let commands = tasks.enumerated().map { index, task in
            let due = start + spread * Int64(index) / Int64(tasks.count)
            return ["XADD", Self.stream, "MAXLEN", "~", "100000", "*", "package", task.package, "days", String(task.days), "due", String(due)]
        }
        _ = try await deps.redis.pipeline(commands)
        return commands.count
    }

    /// Recomputes one package window into the cache, unless it shows every write and stays
    /// fresh until the next cycle can come back to it (`WorkerConfig.refreshHorizon`).
    /// Returns whether it was computed.
    @discardableResult
    func refresh(packageId: UUID, days: Int) async throws -> Bool {
        try await deps.analytics.refreshPackage(packageId, days: days, unlessFreshFor: deps.config.refreshHorizon)
    }

    /// The top `hotPackages` packages of the hot set, hottest first, each × `refreshWindows`.
    private func hotWindows() async throws -> [(package: String, days: Int)] {
        let top =
            try await deps.redis.command("ZREVRANGE", RedisKeyspace.hotPackages, "0", String(deps.config.hotPackages - 1)).array?
            .compactMap(\.string) ?? []
        return top.flatMap { package in deps.config.refreshWindows.map { (package: package, days: $0) } }
    }

    /// The age in seconds of the oldest cached entry among the hot packages' windows.
    func refreshLag() async throws -> Double {
        let windows = try await hotWindows()
        guard !windows.isEmpty else { return 0 }
        let commands = windows.map { ["GETRANGE", RedisKeyspace.entry(.package, entity: $0.package, days: $0.days), "0", "15"] }
        let now = Date().timeIntervalSince1970
        var oldest = now
        for reply in try await deps.redis.pipeline(commands) {
            guard let text = reply.string, let millis = Double(text.split(separator: " ").first ?? "") else { continue }
            oldest = min(oldest, millis / 1000)
        }
        return now - oldest
    }
}
