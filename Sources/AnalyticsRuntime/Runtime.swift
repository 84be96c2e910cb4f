import Analytics
import AnalyticsCache
import ConnectionPool
import Foundation
import Logging
import Metrics
import NIOPosix
import Postgres
import Redis
import Synchronization

/// The long-lived resources of every process (`serve`, `worker`, `migrate`, `seed`): thread
/// pools for the blocking C clients, the Postgres and Redis clients, the breaker, the cache.
/// Built once; shut down when the process stops.
public final class Runtime: Sendable {
    public let config: RuntimeConfig
    public let logger: Logger
    public let postgres: PostgresClient
    /// Ingestion and feedback (see `AnalyticsQueries.writer`); nil with `PG_WRITE_POOL_SIZE=0`.
    private let postgresWriter: PostgresClient?
    public let redis: RedisClient
    public let queries: AnalyticsQueries
    /// What cache misses are computed from: the primary's queries, or with `DATABASE_READ_URL`
    /// the public ones from the hot standby while it is close enough (`StandbyRoutedReading`).
    public let reading: any AnalyticsReading
    /// The standby's gate (nil without one).
    public let standbyGate: StandbyGate?
    private let standby: PostgresClient?
    private let standbyMonitor: Task<Void, Never>?
    private let folding = Mutex<Task<Void, Never>?>(nil)
    public let cache: ResponseCache
    /// Redis' evictions as the cache sees them (see `EvictionWatch`).
    public let evictions: EvictionWatch
    private let evictionMonitor: Task<Void, Never>
    public let hotReads: HotReadRecorder
    public let breaker: CircuitBreaker
    private let postgresThreads: NIOThreadPool
    private let postgresWriteThreads: NIOThreadPool?

    public init(config: RuntimeConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        // Before any metric is made: metrics made earlier would stay no-ops.
        Observability.bootstrapMetrics()
        // Blocking libpq calls run on their own small thread pools, never on the event loops
        // or the cooperative pool. Redis runs on the event loops (`RedisClient`).
        postgresThreads = NIOThreadPool(numberOfThreads: config.postgresThreads)
        postgresThreads.start()
        postgres = Self.primary(config, connections: config.postgresPoolSize, threads: postgresThreads, name: "postgres")
        let timeout = Duration.milliseconds(config.redisTimeoutMs)
        var redisConfiguration = try RedisConfiguration(url: config.redisURL, connectTimeout: timeout, commandTimeout: timeout)
        redisConfiguration.sentinels = config.redisSentinels
        redisConfiguration.sentinelMaster = config.redisSentinelMaster
        redis = RedisClient(configuration: redisConfiguration, connectionsPerLoop: config.redisConnectionsPerLoop)
        let state = Gauge(label: "prpm_redis_circuit_state")
        breaker = CircuitBreaker(failureThreshold: config.breakerFailureThreshold, openDuration: .milliseconds(config.breakerOpenMs)) {
            newState in
            state.record(newState == .closed ? 0 : newState == .halfOpen ? 1 : 2)
            logger.warning("redis circuit breaker changed state", metadata: ["state": "\(newState.rawValue)"])
        }
        if config.postgresWritePoolSize > 0 {
            let threads = NIOThreadPool(numberOfThreads: config.postgresWritePoolSize)
            threads.start()
            postgresWriteThreads = threads
            postgresWriter = Self.primary(config, connections: config.postgresWritePoolSize, threads: threads, name: "postgres-write")
        } else {
            postgresWriteThreads = nil
            postgresWriter = nil
        }
        queries = AnalyticsQueries(postgres: postgres, writer: postgresWriter, prices: config.prices, trendMaxAge: config.trendMaxAge)
        var policy = config.cache
        if let readURL = config.databaseReadURL {
            let standby = PostgresClient(
                configuration: PostgresConfiguration(url: readURL, statementTimeoutMs: config.postgresStatementTimeoutMs),
                pool: .init(maxConnections: config.postgresPoolSize, acquireTimeout: .seconds(2)), threadPool: postgresThreads)
            let gate = StandbyGate(maxLag: config.standbyMaxLag)
            self.standby = standby
            standbyGate = gate
            reading = StandbyRoutedReading(
                primary: queries,
                standby: AnalyticsQueries(postgres: standby, foldsQueue: false, prices: config.prices, trendMaxAge: config.trendMaxAge), gate: gate)
            standbyMonitor = Task { await StandbyMonitor.run(standby: standby, gate: gate, logger: logger) }
            // Data up to the allowed lag (and one check interval) behind the primary.
            policy.replicaLagAllowance = config.standbyMaxLag + StandbyMonitor.interval
        } else {
            standby = nil
            standbyGate = nil
            reading = queries
            standbyMonitor = nil
        }
        let evictions = EvictionWatch()
        self.evictions = evictions
        cache = ResponseCache(store: RedisCacheStore(redis: redis, evictions: evictions), breaker: breaker, policy: policy, logger: logger)
        evictionMonitor = Task { [redis, breaker, interval = config.evictionCheckInterval] in
            await evictions.run(redis: redis, breaker: breaker, interval: interval, logger: logger)
        }
        hotReads = HotReadRecorder(redis: redis, breaker: breaker, logger: logger)
    }

    /// A pool of connections to the primary with the overload bounds of the configuration.
    private static func primary(_ config: RuntimeConfig, connections: Int, threads: NIOThreadPool, name: String) -> PostgresClient {
        PostgresClient(
            configuration: PostgresConfiguration(url: config.databaseURL, statementTimeoutMs: config.postgresStatementTimeoutMs),
            pool: .init(
                maxConnections: connections, acquireTimeout: .seconds(5), maxWaiters: config.postgresMaxWaiters,
                maxQueueDelay: config.postgresMaxQueueMs > 0 ? .milliseconds(config.postgresMaxQueueMs) : nil),
            threadPool: threads, name: name)
    }

    /// Starts the background fold of the rollup queue (`serve` and `worker`; see
    /// `RollupFolding`), unless `ROLLUP_FOLD_INTERVAL_MS` is 0. Stopped by `shutdown()`.
    public func startFolding() {
        guard config.foldInterval > .zero else { return }
        let (queries, redis, interval, logger) = (queries, redis, config.foldInterval, logger)
        folding.withLock { task in
            guard task == nil else { return }
            task = Task { await RollupFolding.run(queries: queries, redis: redis, interval: interval, logger: logger) }
        }
    }

    public func shutdown() async {
        evictionMonitor.cancel()
        await evictionMonitor.value
        standbyMonitor?.cancel()
        await standbyMonitor?.value
        let fold = folding.withLock { task in
            defer { task = nil }; return task
        }
        fold?.cancel()
        await fold?.value
        standby?.shutdown()
        postgres.shutdown()
        postgresWriter?.shutdown()
        redis.shutdown()
        try? await postgresThreads.shutdownGracefully()
        try? await postgresWriteThreads?.shutdownGracefully()
    }
}
