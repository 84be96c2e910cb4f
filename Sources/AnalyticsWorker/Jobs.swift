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

    /// The steps of the retention job, in the order they run; the raw values are stable names
    /// for logs and metrics (`prpm_worker_job_failures_total{job="retention",step}`,
    /// `prpm_worker_retention_step_last_success_seconds{step}`).
    enum RetentionStep: String, Sendable, CaseIterable {
        // Privacy first: nothing else can keep them from running.
        case anonymizeUsers = "anonymize_users"
        case clearFeedbackText = "clear_feedback_text"
        // Maintenance.
        case partitions
        case archiveUsage = "archive_usage"
        case expireUserDays = "expire_user_days"
        case expireUserRollups = "expire_user_rollups"
        case idempotencyKeys = "idempotency_keys"

        var isPrivacy: Bool { self == .anonymizeUsers || self == .clearFeedbackText }
    }

    struct RetentionResult: Sendable, Equatable {
        var partitionsCreated = 0
        var partitionsRetired = 0
        var partitionsBusy = 0
        var rowsArchived = 0
        var rollupRowsExpired = 0
        var userDayRowsExpired = 0
        var feedbackCleared = 0
        var usersAnonymized = 0
        var idempotencyKeysExpired = 0
        /// The steps that completed, in the order they ran.
        var succeeded: [RetentionStep] = []
        /// The steps that failed, with their error, in the order they ran.
        var failed: [Failure] = []

        struct Failure: Sendable, Equatable {
            let step: RetentionStep
            let error: String
        }
    }

    /// The design's retention, each step on its own (`RetentionStep`): a step that fails is
    /// recorded in the result and the next one runs; only a lost lease (fenced out, cancelled)
    /// stops the job. Every transaction of a step runs with a `statement_timeout`
    /// (`retentionPrivacyTimeout` for the privacy steps, `retentionStatementTimeout` for the
    /// others), and each is short whatever the data's size (batches of `retentionBatchSize`):
    /// a crash loses nothing and counts nothing twice.
    ///
    /// - `anonymize_users`: users deleted more than 30 days ago;
    /// - `clear_feedback_text`: feedback text older than 6 months;
    /// - `partitions`: keeps the monthly partitions of `playground_usage` ready ahead and retires
    ///   whole expired months (see `retireExpiredMonths`);
    /// - `archive_usage`: folds the rest of the usage older than 12 months (the month that
    ///   straddles the cutoff, rows waiting in the default partition) into
    ///   `usage_daily_archive` and deletes it;
    /// - `expire_user_days`: who used a package on a day, the last day of each user with each
    ///   package, the user of old sessions (migration 19);
    /// - `expire_user_rollups`: the user rollup rows of those days and months (migration 16);
    /// - `idempotency_keys`: `Idempotency-Key`s older than 24 hours.
    func retention(fence: JobFence? = nil) async throws -> RetentionResult {
        var result = RetentionResult()
        for step in RetentionStep.allCases {
            let timeout = step.isPrivacy ? deps.config.retentionPrivacyTimeout : deps.config.retentionStatementTimeout
            let check = Self.writeGuard(statementTimeout: timeout, fence: fence)
            do {
                try await run(step, guard: check, into: &result)
                result.succeeded.append(step)
            } catch let error where error is JobFence.FencedOut || error is CancellationError || Task.isCancelled {
                throw error  // the lease is lost: another holder runs the job
            } catch {
                result.failed.append(.init(step: step, error: "\(error)"))
            }
        }
        return result
    }

    private func run(_ step: RetentionStep, guard check: @escaping WriteGuard, into result: inout RetentionResult) async throws {
        let queries = deps.queries
        let batch = deps.config.retentionBatchSize
        switch step {
        case .anonymizeUsers:
            result.usersAnonymized = try await queries.anonymizeDeletedUsers(guard: check)
        case .clearFeedbackText:
            result.feedbackCleared = try await batches { try await queries.clearOldFeedback(batch: batch, guard: check) }
        case .partitions:
            result.partitionsCreated = try await queries.maintainUsagePartitions(monthsAhead: deps.config.partitionMonthsAhead, guard: check)
            try await retireExpiredMonths(guard: check, into: &result)
        case .archiveUsage:
            result.rowsArchived += try await batches { try await queries.archiveOldUsage(batch: batch, guard: check) }
        case .expireUserDays:
            result.userDayRowsExpired = try await batches { try await queries.expireUserDays(batch: batch, guard: check) }
        case .expireUserRollups:
            result.rollupRowsExpired = try await queries.expireUserRollups(guard: check)
        case .idempotencyKeys:
            result.idempotencyKeysExpired = try await batches { try await queries.expireIdempotencyKeys(batch: batch, guard: check) }
        }
    }

    /// Retires the monthly partitions whose whole month is older than 12 months. A month of at
    /// most `partitionRetireMaxRows` rows is folded and truncated in one transaction, then its
    /// table dropped (`retireUsagePartition`: the fastest way). A larger month would not fold
    /// within the statement timeout in one transaction: it is folded `retentionBatchSize` rows
    /// per transaction first (`archiveUsagePartitionBatch`), so the job finishes whatever the
    /// month's size, also after a long absence of the worker; its empty table is then retired
    /// the same way. A busy month (its locks not granted within `partitionLockTimeout`) is left
    /// for the next run.
    private func retireExpiredMonths(guard check: @escaping WriteGuard, into result: inout RetentionResult) async throws {
        let queries = deps.queries
        let config = deps.config
        for partition in try await queries.expiredUsagePartitions() {
            if try await queries.usagePartition(partition, holdsMoreThan: config.partitionRetireMaxRows) {
                result.rowsArchived += try await batches {
                    try await queries.archiveUsagePartitionBatch(partition, batch: config.retentionBatchSize, guard: check)
                }
            }
            if let rows = try await queries.retireUsagePartition(partition, lockTimeout: config.partitionLockTimeout, guard: check) {
                result.rowsArchived += rows
                result.partitionsRetired += 1
            } else {
                result.partitionsBusy += 1
            }
        }
    }

    /// Runs `step` until it does less than a whole batch (`retentionBatchSize`); returns the total.
    private func batches(_ step: () async throws -> Int) async throws -> Int {
        var total = 0
        while true {
            let done = try await step()
            total += done
            if done < deps.config.retentionBatchSize { return total }
        }
    }

    /// The guard of a retention transaction: its `statement_timeout`, then the lease's fence.
    static func writeGuard(statementTimeout: Duration, fence: JobFence?) -> WriteGuard {
        let milliseconds = Lease.milliseconds(statementTimeout)
        return { connection in
            try connection.execute("SET LOCAL statement_timeout = \(milliseconds)")
            try fence?.check(connection)
        }
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
