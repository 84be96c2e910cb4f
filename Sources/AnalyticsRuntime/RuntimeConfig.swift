import Analytics
import AnalyticsCache
import Foundation
import Redis
import Settings

/// What every process (`serve`, `worker`, `migrate`, `seed`) needs to reach and use Postgres
/// and Redis: addresses, pools, thread pools, timeouts, the breaker, the cache policy, logging.
/// Read from the environment; flags may override. HTTP settings live in the API's `AppConfig`.
public struct RuntimeConfig: Sendable {
    public var databaseURL = "postgresql://prpm@127.0.0.1:5432/prpm"
    /// A hot standby for the cache-miss computations of public answers (`DATABASE_READ_URL`).
    public var databaseReadURL: String?
    /// Past this replication lag the standby is not used (`DATABASE_READ_MAX_LAG_S`).
    public var standbyMaxLag: Duration = .seconds(1)
    public var redisURL = "redis://127.0.0.1:6379/0"
    /// Redis through Sentinel (`REDIS_SENTINELS=host:port,…`, `REDIS_SENTINEL_MASTER=name`): the
    /// primary is asked of the sentinels and followed across failovers; `REDIS_URL` still
    /// names the database number.
    public var redisSentinels: [RedisConfiguration.Endpoint] = []
    public var redisSentinelMaster: String?
    public var cache = CachePolicy()
    public var postgresPoolSize = 8
    public var postgresThreads = 4
    /// Connections (and threads) of the pool that ingestion and feedback use (`PG_WRITE_POOL_SIZE`;
    /// 0: they share the main pool).
    public var postgresWritePoolSize = 3
    /// Callers allowed to wait for a Postgres connection; more get 503 `overloaded` at once.
    public var postgresMaxWaiters = 1000
    /// When the longest wait for a Postgres connection reaches this, newcomers get 503
    /// `overloaded` at once until the queue drains (0: no such bound).
    public var postgresMaxQueueMs = 500
    public var postgresStatementTimeoutMs = 5_000
    /// Multiplexed Redis connections per event loop (concurrent commands pipeline on each).
    public var redisConnectionsPerLoop = 1
    public var redisTimeoutMs = 50
    /// How often `serve` and `worker` fold the rollup queue in the background
    /// (`ROLLUP_FOLD_INTERVAL_MS`; 0: never; answers stay exact, but the queue then grows).
    public var foldInterval: Duration = .milliseconds(1000)
    /// Seconds after which a trend is not shown as this week's: two trend intervals
    /// (`WORKER_TRENDS_INTERVAL_S`, read here too: the API judges the worker's table by it).
    public var trendMaxAge = 1200
    /// How often Redis' eviction counter is checked (`REDIS_EVICTION_CHECK_MS`; see `EvictionWatch`).
    public var evictionCheckInterval: Duration = .milliseconds(1000)
    public var breakerFailureThreshold = 3
    public var breakerOpenMs = 2_000
    public var logLevel = "info"
    /// The prices and assumptions of the money figures (`PRICE_*_USD`, `CREDIT_*_USD`,
    /// `HOURLY_VALUE_USD`, `MINUTES_SAVED_PER_TEST`).
    public var prices = Prices()

    public init() {}

    /// Reads the variables; an invalid one is recorded in `env` (see `EnvironmentReader`).
    public init(reading env: inout EnvironmentReader) {
        if let value = env.string("DATABASE_URL") { databaseURL = value }
        if let value = env.string("DATABASE_READ_URL"), !value.isEmpty { databaseReadURL = value }
        if let value = env.seconds("DATABASE_READ_MAX_LAG_S", minimum: 0) { standbyMaxLag = value }
        if let value = env.string("REDIS_URL") { redisURL = value }
        if let value = env.string("REDIS_SENTINELS"), !value.isEmpty {
            if let endpoints = RedisConfiguration.Endpoint.list(value) {
                redisSentinels = endpoints
            } else {
                env.problem("REDIS_SENTINELS must be host:port[,host:port…], not \(value)")
            }
        }
        if let value = env.string("REDIS_SENTINEL_MASTER"), !value.isEmpty { redisSentinelMaster = value }
        if !redisSentinels.isEmpty, redisSentinelMaster == nil { env.problem("REDIS_SENTINELS needs REDIS_SENTINEL_MASTER (the primary's name)") }
        if let value = env.int("CACHE_TTL_PACKAGE_S", in: 1...Int.max) { cache.packageTTL = value }
        if let value = env.int("CACHE_TTL_USER_S", in: 1...Int.max) { cache.userTTL = value }
        if let value = env.int("CACHE_TTL_ORG_S", in: 1...Int.max) { cache.organizationTTL = value }
        if let value = env.int("CACHE_TTL_TRENDING_S", in: 1...Int.max) { cache.trendingTTL = value }
        if let value = env.int("CACHE_STALE_GRACE_S", in: 0...Int.max) { cache.staleGrace = value }
        if let value = env.int("CACHE_OUTAGE_RETENTION_S", in: 0...Int.max) { cache.outageRetention = value }
        if let value = env.int("CACHE_PUBLIC_LAG_S", in: 0...Int.max) { cache.publicLag = value }
        if let value = env.milliseconds("CACHE_NEAR_TTL_MS") { cache.nearTTL = .milliseconds(value) }
        if let value = env.int("PG_POOL_SIZE", in: 1...1000) { postgresPoolSize = value }
        if let value = env.int("PG_WRITE_POOL_SIZE", in: 0...1000) { postgresWritePoolSize = value }
        if let value = env.int("ROLLUP_FOLD_INTERVAL_MS", in: 0...3_600_000) { foldInterval = .milliseconds(value) }
        if let value = env.seconds("WORKER_TRENDS_INTERVAL_S", minimum: 0.1) {
            trendMaxAge = max(1, Int(min((value * 2) / .seconds(1), Double(Int32.max)).rounded(.up)))
        }
        if let value = env.int("REDIS_EVICTION_CHECK_MS", in: 10...60_000) { evictionCheckInterval = .milliseconds(value) }
        if let value = env.int("PG_THREADS", in: 1...256) { postgresThreads = value }
        if let value = env.int("PG_POOL_MAX_WAITERS", in: 0...Int.max) { postgresMaxWaiters = value }
        if let value = env.milliseconds("PG_POOL_MAX_QUEUE_MS") { postgresMaxQueueMs = value }
        if let value = env.milliseconds("PG_STATEMENT_TIMEOUT_MS") { postgresStatementTimeoutMs = value }
        if let value = env.int("REDIS_CONNECTIONS_PER_LOOP", in: 1...16) { redisConnectionsPerLoop = value }
        if let value = env.milliseconds("REDIS_TIMEOUT_MS", minimum: 1) { redisTimeoutMs = value }
        if let value = env.int("REDIS_BREAKER_FAILURES", in: 1...Int.max) { breakerFailureThreshold = value }
        if let value = env.milliseconds("REDIS_BREAKER_OPEN_MS", minimum: 1) { breakerOpenMs = value }
        for setting in Prices.settings {
            if let value = env.decimal(setting.name, in: 0...setting.maximum) { prices[keyPath: setting.keyPath] = value }
        }
        if let value = env.choice("LOG_LEVEL", ["trace", "debug", "info", "notice", "warning", "error", "critical"]) { logLevel = value }
    }

    /// Reads the variables; any invalid one stops with a message naming them all.
    public init(environment: [String: String]) throws(SettingsError) {
        var env = EnvironmentReader(environment)
        self.init(reading: &env)
        try env.validate()
    }
}
