import Analytics
import AnalyticsCache
import Foundation
import Logging
import Postgres
import Redis

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
    /// The jobs this worker schedules (`WORKER_JOBS`, comma-separated; all by default).
    public var jobs = Set(WorkerJob.allCases)
    /// Consumer name in the stream group (unique per process).
    public var consumerName = "worker-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"

    public init() {}

    public init(environment: [String: String]) {
        func seconds(_ name: String) -> Duration? { environment[name].flatMap(Double.init).map { .milliseconds(Int($0 * 1000)) } }
        if let value = seconds("WORKER_REFRESH_INTERVAL_S") { refreshInterval = value }
        if let value = seconds("WORKER_TRENDS_INTERVAL_S") { trendsInterval = value }
        if let value = seconds("WORKER_RETENTION_INTERVAL_S") { retentionInterval = value }
        if let value = seconds("WORKER_LEASE_TTL_S") { leaseTTL = value }
        if let value = environment["WORKER_HOT_PACKAGES"].flatMap(Int.init) { hotPackages = value }
        if let value = environment["WORKER_RETENTION_BATCH"].flatMap(Int.init) { retentionBatchSize = value }
        if let value = environment["WORKER_CONSUMER_NAME"] { consumerName = value }
        if let value = environment["WORKER_JOBS"] {
            jobs = Set(value.split(separator: ",").compactMap { WorkerJob(rawValue: $0.trimmingCharacters(in: .whitespaces)) })
        }
    }

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
    /// The package answers through the cache (refresh-ahead), computed by `queries`.
    public let analytics: CachedAnalytics
    public let config: WorkerConfig
    public let logger: Logger
    /// Called after each successful job run (observability hooks and tests).
    public let onJobFinished: (@Sendable (WorkerJob) -> Void)?

    public init(
        postgres: PostgresClient, redis: RedisClient, queries: AnalyticsQueries, cache: ResponseCache, config: WorkerConfig, logger: Logger,
        onJobFinished: (@Sendable (WorkerJob) -> Void)? = nil
    ) {
        self.onJobFinished = onJobFinished
        self.postgres = postgres
        self.redis = redis
        self.queries = queries
        self.cache = cache
        self.analytics = CachedAnalytics(source: queries, cache: cache)
        self.config = config
        self.logger = logger
    }
}
