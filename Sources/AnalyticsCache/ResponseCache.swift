import Analytics
import ConnectionPool
import Foundation
import Logging
import Metrics
import Postgres
import Redis
import Synchronization

/// Whether a read was served from Redis, computed, served stale, or answered without Redis.
public enum CacheStatus: String, Sendable, CaseIterable {
    case hit = "HIT"
    case miss = "MISS"
    case stale = "STALE"
    case bypass = "BYPASS"
}

/// How long entries live. Physical expiry in Redis is `ttl + staleGrace + outageRetention`:
/// the extra time keeps a copy to serve while Postgres is down.
public struct CachePolicy: Sendable {
    public var packageTTL: Int
    public var userTTL: Int
    public var organizationTTL: Int
    public var trendingTTL: Int
    public var staleGrace: Int
    public var outageRetention: Int
    public var lockTTL: Duration
    public var lockWait: Duration
    /// In-process near cache lifetime (0 disables it).
    public var nearTTL: Duration = .seconds(1)

    public init(
        packageTTL: Int = 300, userTTL: Int = 60, organizationTTL: Int = 120, trendingTTL: Int = 60, staleGrace: Int = 60,
        outageRetention: Int = 3600, lockTTL: Duration = .seconds(5), lockWait: Duration = .seconds(2)
    ) {
        self.packageTTL = packageTTL
        self.userTTL = userTTL
        self.organizationTTL = organizationTTL
        self.trendingTTL = trendingTTL
        self.staleGrace = staleGrace
        self.outageRetention = outageRetention
        self.lockTTL = lockTTL
        self.lockWait = lockWait
    }

    public func ttl(_ endpoint: CachedEndpoint) -> Int {
        switch endpoint {
        case .package: return packageTTL
        case .user: return userTTL
        case .organization: return organizationTTL
        case .trending: return trendingTTL
        }
    }
}

/// A cached answer and how it was obtained.
public struct CachedResponse: Sendable {
    public let entry: CacheEntry
    public let status: CacheStatus
    public let ttl: Int

    /// Seconds a shared cache may keep it: what is left of the TTL (0 when stale).
    public func maxAge(now: Date = Date()) -> Int {
        max(0, min(ttl, ttl - Int(entry.age(now: now).rounded(.up))))
    }
}

/// The Redis cache in front of the queries: one GET on a hit; single-flight computation
/// (in-process, and across replicas through a Redis lock with a token-checked release);
/// stale-while-revalidate; stale copies served while Postgres is down; a circuit breaker
/// that answers from Postgres (`BYPASS`) while Redis is down or slow.
public final class ResponseCache: Sendable {
    public let redis: RedisClient
    public let breaker: CircuitBreaker
    public let policy: CachePolicy
    public let near: NearCache
    private let flights = SingleFlight<CacheKey, CacheEntry>()
    private let logger: Logger
    private let results: [String: Counter]
    private let computations: Counter
    private let singleFlightWaits: Counter
    private let redisErrors: Counter
    private let computed = Atomic<Int>(0)

    /// How many times this process computed an entry from Postgres (for single-flight checks).
    public var computationCount: Int { computed.load(ordering: .relaxed) }

    public init(redis: RedisClient, breaker: CircuitBreaker, policy: CachePolicy, logger: Logger) {
        self.redis = redis
        self.breaker = breaker
        self.policy = policy
        self.logger = logger
        self.near = NearCache(ttl: policy.nearTTL)
        var results: [String: Counter] = [:]
        for endpoint in CachedEndpoint.allCases {
            for status in CacheStatus.allCases {
                results["\(endpoint.rawValue)|\(status.rawValue)"] = Counter(
                    label: "prpm_cache_requests_total", dimensions: [("endpoint", endpoint.rawValue), ("result", status.rawValue.lowercased())])
            }
        }
        self.results = results
        self.computations = Counter(label: "prpm_cache_computations_total")
        self.singleFlightWaits = Counter(label: "prpm_cache_single_flight_waits_total")
        self.redisErrors = Counter(label: "prpm_redis_errors_total")
    }

    /// The answer for `key`: from Redis when fresh, else computed once by `compute`.
    public func read(_ key: CacheKey, compute: @escaping @Sendable () async throws -> [UInt8]) async throws -> CachedResponse {
        let ttl = policy.ttl(key.endpoint)
        let name = key.description
        if let entry = near.get(name) { return record(key, CachedResponse(entry: entry, status: .hit, ttl: ttl)) }
        let stored = await redisGet(key)
        let redisUp = stored != nil
        let now = Date()
        if let entry = stored ?? nil {
            let age = entry.age(now: now)
            if age < Double(ttl) {
                near.put(name, entry, remaining: Double(ttl) - age)
                return record(key, CachedResponse(entry: entry, status: .hit, ttl: ttl))
            }
            if age < Double(ttl + policy.staleGrace) {
                refreshInBackground(key, compute: compute)
                return record(key, CachedResponse(entry: entry, status: .stale, ttl: ttl))
            }
        }
        do {
            let (entry, leader) = try await flights.run(key) { [self] in
                try await computeAndStore(key, ttl: ttl, useRedis: redisUp, waitForOtherReplica: true, compute: compute)
            }
            if !leader { singleFlightWaits.increment() }
            if redisUp { near.put(name, entry, remaining: Double(ttl) - entry.age(now: Date())) }
            return record(key, CachedResponse(entry: entry, status: redisUp ? .miss : .bypass, ttl: ttl))
        } catch  where Self.isDatabaseOutage(error) {
            if let entry = stored ?? nil {
                logger.warning("serving stale entry: database unavailable", metadata: ["key": "\(key)", "error": "\(error)"])
                return record(key, CachedResponse(entry: entry, status: .stale, ttl: ttl))
            }
            throw AnalyticsError.databaseUnavailable(String(describing: error))
        }
    }

    /// Deletes the entries fed by changed usage rows (every `days` variant). Best effort:
    /// when Redis is down the entries expire by their TTL.
    public func invalidate(_ affected: AffectedEntities) async {
        let entities = CacheKey.entities(affected)
        near.remove(entities: entities)
        guard !entities.isEmpty, breaker.allowRequest() else { return }
        do {
            // Delete the cached `days` variants of each entity (one script), and tell the other
            // replicas to drop their near copies.
            let variantSets = entities.map(CacheKey.variants(ofEntity:))
            let prefixes = entities.map(CacheKey.prefix(ofEntity:))
            _ = try await redis.pipeline([
                ["EVAL", RedisScripts.deleteVariants, String(variantSets.count)] + variantSets + prefixes,
                ["PUBLISH", NearCache.channel, entities.joined(separator: " ")],
            ])
            breaker.recordSuccess()
        } catch {
            redisFailed(error, "invalidate")
        }
    }

    /// Deletes the cached trending tables (after the worker computed new trends).
    public func invalidateTrending(limits: ClosedRange<Int> = 1...100) async {
        let keys = limits.map { CacheKey(endpoint: .trending, entity: "all", days: $0).description }
        near.remove(entities: ["trending:all"])
        guard breaker.allowRequest() else { return }
        do {
            _ = try await redis.pipeline([["DEL"] + keys, ["PUBLISH", NearCache.channel, "trending:all"]])
            breaker.recordSuccess()
        } catch {
            redisFailed(error, "invalidate")
        }
    }

    /// Computes the entry and stores it; used by the worker's refresh-ahead too.
    public func refresh(_ key: CacheKey, compute: @escaping @Sendable () async throws -> [UInt8]) async throws -> CacheEntry {
        try await flights.run(key) { [self] in
            try await computeAndStore(key, ttl: policy.ttl(key.endpoint), useRedis: true, waitForOtherReplica: false, compute: compute)
        }.value
    }

    // MARK: - Internals

    /// nil: Redis unusable (breaker open or error); .some(nil): no entry; .some(entry).
    private func redisGet(_ key: CacheKey) async -> CacheEntry?? {
        guard breaker.allowRequest() else { return nil }
        do {
            let reply = try await redis.command(bytes: [Array("GET".utf8), Array(key.description.utf8)])
            breaker.recordSuccess()
            guard let bytes = reply.bytes, !reply.isNull else { return .some(nil) }
            return .some(CacheEntry(serialized: bytes))
        } catch {
            redisFailed(error, "get")
            return nil
        }
    }

    private func refreshInBackground(_ key: CacheKey, compute: @escaping @Sendable () async throws -> [UInt8]) {
        guard !flights.isRunning(key) else { return }
        Task { [self] in
            do {
                _ = try await refresh(key, compute: compute)
            } catch {
                logger.warning("background refresh failed", metadata: ["key": "\(key)", "error": "\(error)"])
            }
        }
    }

    private func computeAndStore(
        _ key: CacheKey, ttl: Int, useRedis: Bool, waitForOtherReplica: Bool, compute: @escaping @Sendable () async throws -> [UInt8]
    ) async throws -> CacheEntry {
        guard useRedis, breaker.allowRequest() else { return try await computeEntry(compute) }
        let token = UUID().uuidString
        let acquired: Bool
        do {
            let reply = try await redis.command(
                ["SET", key.lockKey, token, "NX", "PX", String(policy.lockTTL.components.seconds * 1000)])
            acquired = reply == .status("OK")
            breaker.recordSuccess()
        } catch {
            redisFailed(error, "lock")
            return try await computeEntry(compute)
        }
        if !acquired {
            if let entry = await waitForOther(key, ttl: ttl, enabled: waitForOtherReplica) { return entry }
        } else if waitForOtherReplica, let stored = await redisGet(key) ?? nil, stored.age(now: Date()) < Double(ttl) {
            // Another flight stored a fresh entry between our GET and our lock: use it.
            _ = try? await redis.command(bytes: RedisScripts.releaseLock(key: key.lockKey, token: token))
            return stored
        }
        let entry = try await computeEntry(compute)
        let expiry = (ttl + policy.staleGrace + policy.outageRetention) * 1000
        do {
            let variants = Array(CacheKey.variants(ofEntity: key.entity).utf8)
            _ = try await redis.pipeline(bytes: [
                [Array("SET".utf8), Array(key.description.utf8), entry.serialized, Array("PX".utf8), Array(String(expiry).utf8)],
                [Array("SADD".utf8), variants, Array(String(key.days).utf8)],
                [Array("PEXPIRE".utf8), variants, Array(String(expiry).utf8)],
                acquired ? RedisScripts.releaseLock(key: key.lockKey, token: token) : [Array("PING".utf8)],
            ])
            breaker.recordSuccess()
        } catch {
            redisFailed(error, "set")
        }
        return entry
    }

    /// Another replica holds the lock: poll for its fresh entry for up to `lockWait`.
    private func waitForOther(_ key: CacheKey, ttl: Int, enabled: Bool) async -> CacheEntry? {
        guard enabled else { return nil }
        singleFlightWaits.increment()
        let deadline = ContinuousClock.now + policy.lockWait
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            guard let stored = await redisGet(key) else { return nil }
            if let entry = stored, entry.age(now: Date()) < Double(ttl) { return entry }
        }
        return nil
    }

    private func computeEntry(_ compute: @Sendable () async throws -> [UInt8]) async throws -> CacheEntry {
        computations.increment()
        computed.add(1, ordering: .relaxed)
        return CacheEntry(body: try await compute(), computedAt: Date())
    }

    private func record(_ key: CacheKey, _ response: CachedResponse) -> CachedResponse {
        results["\(key.endpoint.rawValue)|\(response.status.rawValue)"]?.increment()
        return response
    }

    private func redisFailed(_ error: any Error, _ operation: String) {
        // Every pooled connection busy is local congestion, not a sick Redis: that request goes
        // without Redis, but the breaker does not open (it would send all reads to Postgres
        // exactly when the process is busiest).
        if let poolError = error as? PoolError, poolError == .acquireTimeout {
            breaker.releaseProbe()
        } else {
            breaker.recordFailure()
        }
        redisErrors.increment()
        logger.debug("redis call failed", metadata: ["operation": "\(operation)", "error": "\(error)"])
    }

    /// Postgres unreachable, restarting, or too slow: what a stale copy can stand in for.
    public static func isDatabaseOutage(_ error: any Error) -> Bool {
        switch error {
        case let error as PostgresError: return error.isConnectionFailure || error.sqlState == PostgresError.queryCanceled
        case let error as PoolError: return error == .acquireTimeout
        case AnalyticsError.databaseUnavailable: return true
        default: return false
        }
    }
}

/// Lua scripts run by EVAL.
public enum RedisScripts {
    /// Deletes a lock only when it still holds our token.
    public static let compareAndDelete = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
        """

    /// KEYS: variant sets; ARGV: the matching entry-key prefixes. Deletes every cached
    /// `days` variant listed in each set, then the set.
    public static let deleteVariants = """
        local n = 0
        for i, set in ipairs(KEYS) do
          for _, days in ipairs(redis.call('SMEMBERS', set)) do n = n + redis.call('DEL', ARGV[i] .. days) end
          redis.call('DEL', set)
        end
        return n
        """

    static func releaseLock(key: String, token: String) -> [[UInt8]] {
        [Array("EVAL".utf8), Array(compareAndDelete.utf8), Array("1".utf8), Array(key.utf8), Array(token.utf8)]
    }
}
