import AnalyticsCache
import Foundation

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

    /// Reads the contract's variables (and ours) from `environment`.
    public init(environment: [String: String]) {
        func int(_ name: String) -> Int? { environment[name].flatMap { Int($0) } }
        func double(_ name: String) -> Double? { environment[name].flatMap { Double($0) } }
        if let value = environment["HOST"] { host = value }
        if let value = int("PORT") { port = value }
        if let value = environment["DATABASE_URL"] { databaseURL = value }
        if let value = environment["REDIS_URL"] { redisURL = value }
        if let value = environment["JWT_SECRET"] { jwtSecret = value }
        if let value = environment["INGEST_TOKEN"] { ingestToken = value }
        if let value = int("CACHE_TTL_PACKAGE_S") { cache.packageTTL = value }
        if let value = int("CACHE_TTL_USER_S") { cache.userTTL = value }
        if let value = int("CACHE_TTL_ORG_S") { cache.organizationTTL = value }
        if let value = int("CACHE_TTL_TRENDING_S") { cache.trendingTTL = value }
        if let value = int("CACHE_STALE_GRACE_S") { cache.staleGrace = value }
        if let value = int("CACHE_OUTAGE_RETENTION_S") { cache.outageRetention = value }
        if let value = int("CACHE_PUBLIC_LAG_S") { cache.publicLag = value }
        if let value = int("CACHE_NEAR_TTL_MS") { cache.nearTTL = .milliseconds(value) }
        if let value = int("MAX_BODY_BYTES") { maxBodyBytes = value }
        if let value = int("MAX_INGEST_BODY_BYTES") { maxIngestBodyBytes = value }
        if let value = int("PG_POOL_SIZE") { postgresPoolSize = value }
        if let value = int("PG_THREADS") { postgresThreads = value }
        if let value = int("PG_POOL_MAX_WAITERS") { postgresMaxWaiters = value }
        if let value = int("PG_POOL_MAX_QUEUE_MS") { postgresMaxQueueMs = value }
        if let value = int("PG_STATEMENT_TIMEOUT_MS") { postgresStatementTimeoutMs = value }
        if let value = int("REDIS_POOL_SIZE") { redisPoolSize = value }
        if let value = int("REDIS_THREADS") { redisThreads = value }
        if let value = int("REDIS_TIMEOUT_MS") { redisTimeoutMs = value }
        if let value = int("REDIS_BREAKER_FAILURES") { breakerFailureThreshold = value }
        if let value = int("REDIS_BREAKER_OPEN_MS") { breakerOpenMs = value }
        if let value = int("REQUEST_TIMEOUT_MS") { requestTimeoutMs = value }
        if let value = double("HTTP_IDLE_TIMEOUT_S") { connections.idleTimeout = .milliseconds(Int(value * 1000)) }
        if let value = double("HTTP_BODY_TIMEOUT_S") { connections.bodyTimeout = .milliseconds(Int(value * 1000)) }
        if let value = int("HTTP_MAX_CONNECTIONS") { connections.maxConnections = value }
        if let value = double("RATE_LIMIT_RPS") { rateLimitPerSecond = value }
        if let value = double("RATE_LIMIT_BURST") { rateLimitBurst = value }
        if let value = int("AUTH_CACHE_S") { authCacheSeconds = value }
        if let value = environment["LOG_LEVEL"] { logLevel = value }
    }
}
