import Analytics
import AnalyticsCache
import Foundation
import Logging
import Postgres
import Redis
import Settings

/// The worker's jobs; the names are used by `worker --once`, logs and metrics.
public enum WorkerJob: String, Sendable, CaseIterable {
    case refresh
    case trends
    case retention
}

/// Worker settings from the environment (names fixed by the contract).
public struct WorkerConfig: Sendable {
    public var refreshInterval: Duration = .seconds(60)
    public var trendsInterval: Duration = .seconds(600)
    public var retentionInterval: Duration = .seconds(3600)
    public var leaseTTL: Duration = .seconds(30)
    public var hotPackages = 1000
    public var refreshWindows = [7, 30, 90]
    public var retentionBatchSize = 5000
    /// Monthly partitions of `playground_usage` kept ready after the current month.
    public var partitionMonthsAhead = 3
    /// How long retiring a partition may wait for its locks (readers queue behind a waiting
    /// lock); on timeout the partition is left as it was and the next retention run retries.
    public var partitionLockTimeout: Duration = .seconds(1)
    /// An expired month with more rows than this is folded `retentionBatchSize` rows per
    /// transaction before its table is dropped; a smaller one is folded and truncated in one
    /// transaction (faster). About 150,000 rows fold per second (docs/performance.md: 18.6 M rows
    /// of 47 months in 128 s), so 100,000 stay well within `retentionStatementTimeout`.
    public var partitionRetireMaxRows = 100_000
    /// `statement_timeout` of each transaction of the privacy steps of retention (anonymizing
    /// deleted users, clearing old feedback text): they run first, each on its own.
    public var retentionPrivacyTimeout: Duration = .seconds(30)
    /// `statement_timeout` of each transaction of the maintenance steps of retention (partitions,
    /// archive, expiries); their work is batched to fit it.
    public var retentionStatementTimeout: Duration = .seconds(10)
    /// The jobs this worker schedules (`WORKER_JOBS`, comma-separated; all by default).
    public var jobs = Set(WorkerJob.allCases)
    /// Consumer name in the stream group (unique per process).
    public var consumerName = "worker-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"

    public init() {}

    /// Reads the worker's variables; an invalid one stops the process (see `EnvironmentReader`).
    public init(environment: [String: String]) throws(SettingsError) {
        var env = EnvironmentReader(environment)
        if let value = env.seconds("WORKER_REFRESH_INTERVAL_S", minimum: 0.1) { refreshInterval = value }
        if let value = env.seconds("WORKER_TRENDS_INTERVAL_S", minimum: 0.1) { trendsInterval = value }
        if let value = env.seconds("WORKER_RETENTION_INTERVAL_S", minimum: 0.1) { retentionInterval = value }
        if let value = env.seconds("WORKER_LEASE_TTL_S", minimum: 0.1) { leaseTTL = value }
        if let value = env.int("WORKER_HOT_PACKAGES", in: 0...Int.max) { hotPackages = value }
        if let value = env.int("WORKER_RETENTION_BATCH", in: 1...Int.max) { retentionBatchSize = value }
        if let value = env.int("WORKER_PARTITION_RETIRE_MAX_ROWS", in: 0...Int.max) { partitionRetireMaxRows = value }
        if let value = env.seconds("WORKER_RETENTION_PRIVACY_TIMEOUT_S", minimum: 0.1) { retentionPrivacyTimeout = value }
        if let value = env.seconds("WORKER_RETENTION_STATEMENT_TIMEOUT_S", minimum: 0.1) { retentionStatementTimeout = value }
        if let value = env.string("WORKER_CONSUMER_NAME") {
            if value.isEmpty { env.problem("WORKER_CONSUMER_NAME is empty") } else { consumerName = value }
        }
        if let value = env.list("WORKER_JOBS", of: WorkerJob.allCases.map(\.rawValue)) {
            jobs = Set(value.compactMap(WorkerJob.init(rawValue:)))
        }
        try env.validate()
    }

    /// Refresh tasks of one cycle are spread over this much of it: half the interval, at most
    /// 30 s (a consumer holds the 10 tasks it took while they wait to be due, and tasks idle
    /// longer than two lease TTLs are claimed by another consumer).
    public var refreshSpread: Duration { min(refreshInterval / 2, .seconds(30)) }

    /// How far ahead refresh-ahead looks: the longest a key can wait for the next cycle's
    /// visit (one interval plus the spread), with time to spare.
    public var refreshHorizon: Duration { refreshInterval * 2 }

    public func interval(of job: WorkerJob) -> Duration {
        switch job {
        case .refresh: refreshInterval
        case .trends: trendsInterval
        case .retention: retentionInterval
        }
    }
}

/// What the worker talks to.
public struct WorkerDependencies: Sendable {
    public let postgres: PostgresClient
    public let redis: RedisClient
    public let queries: AnalyticsQueries
    public let cache: ResponseCache
    /// The package answers through the cache (refresh-ahead), computed by `reading` (the
    /// runtime's: public answers from a hot standby when there is one) or else `queries`.
    public let analytics: CachedAnalytics
    public let config: WorkerConfig
    public let logger: Logger
    /// Called after each successful job run (observability hooks and tests).
    public let onJobFinished: (@Sendable (WorkerJob) -> Void)?

    public init(
        postgres: PostgresClient, redis: RedisClient, queries: AnalyticsQueries, cache: ResponseCache, config: WorkerConfig, logger: Logger,
        reading: (any AnalyticsReading)? = nil, onJobFinished: (@Sendable (WorkerJob) -> Void)? = nil
    ) {
        self.onJobFinished = onJobFinished
        self.postgres = postgres
        self.redis = redis
        self.queries = queries
        self.cache = cache
        self.analytics = CachedAnalytics(source: reading ?? queries, cache: cache)
        self.config = config
        self.logger = logger
    }
}
