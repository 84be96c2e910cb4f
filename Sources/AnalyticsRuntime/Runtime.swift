import Analytics
import AnalyticsCache
import ConnectionPool
import Foundation
import Logging
import Metrics
import NIOPosix
import Postgres
import Redis
import ServiceLifecycle

/// The long-lived resources of every process (`serve`, `worker`, `migrate`, `seed`): thread
/// pools for the blocking C clients, the Postgres and Redis clients, the breaker, the cache.
/// Built once; shut down when the process stops (`shutdown()`, awaited: see `withShutdown`).
///
/// It starts nothing by itself: its background loops are `backgroundServices`, which `serve`
/// and `worker` run in their `ServiceGroup` (`migrate` and `seed` run none).
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
    public let cache: ResponseCache
    /// Redis' evictions as the cache sees them (see `EvictionWatch`; watched while
    /// `backgroundServices` run).
    public let evictions: EvictionWatch
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
            // Data up to the allowed lag (and one check interval) behind the primary.
            policy.replicaLagAllowance = config.standbyMaxLag + StandbyMonitor.interval
        } else {
            standby = nil
            standbyGate = nil
            reading = queries
        }
        let evictions = EvictionWatch()
        self.evictions = evictions
        cache = ResponseCache(store: RedisCacheStore(redis: redis, evictions: evictions), breaker: breaker, policy: policy, logger: logger)
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

    /// The background loops of `serve` and `worker`, for their `ServiceGroup` (before the
    /// services that depend on them: a group shuts its services down in reverse order, so
    /// these stop last): the eviction watch, the standby's lag monitor (with
    /// `DATABASE_READ_URL`) and the fold of the rollup queue (unless `ROLLUP_FOLD_INTERVAL_MS`
    /// is 0; see `RollupFolding`). `migrate` and `seed` run none of them.
    public var backgroundServices: [any Service] {
        var services: [any Service] = [
            BackgroundLoop.evictionWatch(evictions, redis: redis, breaker: breaker, interval: config.evictionCheckInterval, logger: logger)
        ]
        if let standby, let standbyGate {
            services.append(BackgroundLoop.standbyMonitor(standby, gate: standbyGate, logger: logger))
        }
        if config.foldInterval > .zero {
            services.append(BackgroundLoop.rollupFold(queries, redis: redis, interval: config.foldInterval, logger: logger))
        }
        return services
    }

    /// Closes the clients and their thread pools. Call it once, after the process's
    /// `ServiceGroup` (if any) has finished: nothing may use the clients afterwards.
    public func shutdown() async {
        standby?.shutdown()
        postgres.shutdown()
        postgresWriter?.shutdown()
        redis.shutdown()
        try? await postgresThreads.shutdownGracefully()
        try? await postgresWriteThreads?.shutdownGracefully()
    }
}
