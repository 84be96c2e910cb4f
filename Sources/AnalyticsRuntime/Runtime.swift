import Analytics
import AnalyticsCache
import ConnectionPool
import Foundation
import Logging
import Metrics
import NIOPosix
import Postgres
import Redis

/// The long-lived resources of every process (`serve`, `worker`, `migrate`, `seed`): thread
/// pools for the blocking C clients, the Postgres and Redis clients, the breaker, the cache.
/// Built once; shut down when the process stops.
public final class Runtime: Sendable {
    public let config: RuntimeConfig
    public let logger: Logger
    public let postgres: PostgresClient
    public let redis: RedisClient
    public let queries: AnalyticsQueries
    public let cache: ResponseCache
    public let hotReads: HotReadRecorder
    public let breaker: CircuitBreaker
    private let postgresThreads: NIOThreadPool
    private let redisThreads: NIOThreadPool

    public init(config: RuntimeConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        // Before any metric is made: metrics made earlier would stay no-ops.
        Observability.bootstrapMetrics()
        // Blocking libpq and hiredis calls run on their own small thread pools, never on
        // the event loops or the cooperative pool. Separate pools: a hung Redis cannot
        // starve Postgres calls.
        postgresThreads = NIOThreadPool(numberOfThreads: config.postgresThreads)
        postgresThreads.start()
        redisThreads = NIOThreadPool(numberOfThreads: config.redisThreads)
        redisThreads.start()
        postgres = PostgresClient(
            configuration: PostgresConfiguration(url: config.databaseURL, statementTimeoutMs: config.postgresStatementTimeoutMs),
            pool: .init(
                maxConnections: config.postgresPoolSize, acquireTimeout: .seconds(5), maxWaiters: config.postgresMaxWaiters,
                maxQueueDelay: config.postgresMaxQueueMs > 0 ? .milliseconds(config.postgresMaxQueueMs) : nil),
            threadPool: postgresThreads)
        let timeout = Duration.milliseconds(config.redisTimeoutMs)
        redis = RedisClient(
            configuration: try RedisConfiguration(url: config.redisURL, connectTimeout: timeout, commandTimeout: timeout),
            pool: .init(maxConnections: config.redisPoolSize, acquireTimeout: timeout), threadPool: redisThreads)
        let state = Gauge(label: "prpm_redis_circuit_state")
        breaker = CircuitBreaker(failureThreshold: config.breakerFailureThreshold, openDuration: .milliseconds(config.breakerOpenMs)) {
            newState in
            state.record(newState == .closed ? 0 : newState == .halfOpen ? 1 : 2)
            logger.warning("redis circuit breaker changed state", metadata: ["state": "\(newState.rawValue)"])
        }
        queries = AnalyticsQueries(postgres: postgres)
        cache = ResponseCache(store: RedisCacheStore(redis: redis), breaker: breaker, policy: config.cache, logger: logger)
        hotReads = HotReadRecorder(redis: redis, breaker: breaker, logger: logger)
    }

    public func shutdown() async {
        postgres.shutdown()
        redis.shutdown()
        try? await postgresThreads.shutdownGracefully()
        try? await redisThreads.shutdownGracefully()
    }
}
