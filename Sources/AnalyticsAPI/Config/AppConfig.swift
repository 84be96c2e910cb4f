import AnalyticsCache
import Foundation
import Settings

/// Settings of `serve` (and shared with `worker`), read from the environment; flags may override.
public struct AppConfig: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var databaseURL = "postgresql://prpm@127.0.0.1:5432/prpm"
    public var redisURL = "redis://127.0.0.1:6379/0"
    public var jwtSecret = ""
    public var ingestToken = ""
    public var cache = CachePolicy()
    /// Largest accepted request body (other than ingestion): 64 KiB.
    public var maxBodyBytes = 64 * 1024
    /// Largest ingestion body: a batch of 1000 events does not fit in 64 KiB.
    public var maxIngestBodyBytes = 1024 * 1024
    public var postgresPoolSize = 8
    public var postgresThreads = 4
    /// Callers allowed to wait for a Postgres connection; more get 503 `overloaded` at once.
    public var postgresMaxWaiters = 1000
    /// When the longest wait for a Postgres connection reaches this, newcomers get 503
    /// `overloaded` at once until the queue drains (0: no such bound).
    public var postgresMaxQueueMs = 500
    public var postgresStatementTimeoutMs = 5_000
    public var redisPoolSize = 32
    public var redisThreads = 8
    public var redisTimeoutMs = 50
    public var breakerFailureThreshold = 3
    public var breakerOpenMs = 2_000
    public var requestTimeoutMs = 10_000
    public var connections = ConnectionLimits()
    public var rateLimitPerSecond = 0.0
    public var rateLimitBurst = 0.0
    /// Seconds a resolved identity (user active, org role) is reused in-process.
    public var authCacheSeconds = 30
    public var logLevel = "info"

    public init() {}

    /// Reads the contract's variables (and ours) from `environment`. A variable that is set
    /// but invalid (`PORT=abc`, `CACHE_TTL_PACKAGE_S=-5`) stops the process with a message
    /// naming it, with every other bad variable.
    public init(environment: [String: String]) throws(SettingsError) {
        var env = EnvironmentReader(environment)
        if let value = env.string("HOST") { host = value }
        if let value = env.int("PORT", in: 0...65535) { port = value }
        if let value = env.string("DATABASE_URL") { databaseURL = value }
        if let value = env.string("REDIS_URL") { redisURL = value }
        if let value = env.string("JWT_SECRET") { jwtSecret = value }
        if let value = env.string("INGEST_TOKEN") { ingestToken = value }
        if let value = env.int("CACHE_TTL_PACKAGE_S", in: 1...Int.max) { cache.packageTTL = value }
        if let value = env.int("CACHE_TTL_USER_S", in: 1...Int.max) { cache.userTTL = value }
        if let value = env.int("CACHE_TTL_ORG_S", in: 1...Int.max) { cache.organizationTTL = value }
        if let value = env.int("CACHE_TTL_TRENDING_S", in: 1...Int.max) { cache.trendingTTL = value }
        if let value = env.int("CACHE_STALE_GRACE_S", in: 0...Int.max) { cache.staleGrace = value }
        if let value = env.int("CACHE_OUTAGE_RETENTION_S", in: 0...Int.max) { cache.outageRetention = value }
        if let value = env.int("CACHE_PUBLIC_LAG_S", in: 0...Int.max) { cache.publicLag = value }
        if let value = env.milliseconds("CACHE_NEAR_TTL_MS") { cache.nearTTL = .milliseconds(value) }
        if let value = env.int("MAX_BODY_BYTES", in: 1...Int.max) { maxBodyBytes = value }
        if let value = env.int("MAX_INGEST_BODY_BYTES", in: 1...Int.max) { maxIngestBodyBytes = value }
        if let value = env.int("PG_POOL_SIZE", in: 1...1000) { postgresPoolSize = value }
        if let value = env.int("PG_THREADS", in: 1...256) { postgresThreads = value }
        if let value = env.int("PG_POOL_MAX_WAITERS", in: 0...Int.max) { postgresMaxWaiters = value }
        if let value = env.milliseconds("PG_POOL_MAX_QUEUE_MS") { postgresMaxQueueMs = value }
        if let value = env.milliseconds("PG_STATEMENT_TIMEOUT_MS") { postgresStatementTimeoutMs = value }
        if let value = env.int("REDIS_POOL_SIZE", in: 1...1000) { redisPoolSize = value }
        if let value = env.int("REDIS_THREADS", in: 1...256) { redisThreads = value }
        if let value = env.milliseconds("REDIS_TIMEOUT_MS", minimum: 1) { redisTimeoutMs = value }
        if let value = env.int("REDIS_BREAKER_FAILURES", in: 1...Int.max) { breakerFailureThreshold = value }
        if let value = env.milliseconds("REDIS_BREAKER_OPEN_MS", minimum: 1) { breakerOpenMs = value }
        if let value = env.milliseconds("REQUEST_TIMEOUT_MS") { requestTimeoutMs = value }
        if let value = env.seconds("HTTP_IDLE_TIMEOUT_S", minimum: 0.001) { connections.idleTimeout = value }
        if let value = env.seconds("HTTP_BODY_TIMEOUT_S", minimum: 0.001) { connections.bodyTimeout = value }
        if let value = env.int("HTTP_MAX_CONNECTIONS", in: 1...Int.max) { connections.maxConnections = value }
        if let value = env.double("RATE_LIMIT_RPS", in: 0...Double.greatestFiniteMagnitude) { rateLimitPerSecond = value }
        if let value = env.double("RATE_LIMIT_BURST", in: 0...Double.greatestFiniteMagnitude) { rateLimitBurst = value }
        if let value = env.int("AUTH_CACHE_S", in: 0...Int.max) { authCacheSeconds = value }
        if let value = env.choice("LOG_LEVEL", ["trace", "debug", "info", "notice", "warning", "error", "critical"]) { logLevel = value }
        try env.validate()
    }
}
