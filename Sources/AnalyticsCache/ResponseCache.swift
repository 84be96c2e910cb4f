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

/// How long entries live. Physical expiry in the store is `ttl + staleGrace + outageRetention`:
/// the extra time keeps a copy to serve while Postgres is down.
public struct CachePolicy: Sendable {
    public var packageTTL: Int
    public var userTTL: Int
    public var organizationTTL: Int
    public var trendingTTL: Int
    public var staleGrace: Int
    public var outageRetention: Int
    /// `CACHE_PUBLIC_LAG_S`: how long a write may take to show in shared answers
    /// (package, badges, trending, org views). A user's own answer shows it at once.
    public var publicLag: Int = 10
    public var lockTTL: Duration
    public var lockWait: Duration
    /// In-process near cache lifetime (0 disables it); never longer than `publicLag`.
    public var nearTTL: Duration = .seconds(1)
    /// How far behind the primary the data of a public answer's computation may be (a hot
    /// standby's largest accepted lag): such answers are stored as computed that much earlier,
    /// so that a write the standby had not replayed yet still makes them stale on time.
    public var replicaLagAllowance: Duration = .zero

    /// The allowance for `endpoint`: public answers only (personal ones are read from the primary).
    func snapshotAllowanceMillis(_ endpoint: CachedEndpoint) -> Int64 {
        switch endpoint {
        case .package, .trending, .popular, .summary: Int64(replicaLagAllowance.milliseconds)
        case .user, .organization, .organizationReport: 0
        }
    }

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
        case .organization, .organizationReport: return organizationTTL
        case .trending, .popular, .summary: return trendingTTL
        }
    }

    /// How long a write may take to show: 0 for a user's own answer (read-your-writes).
    public func lag(_ endpoint: CachedEndpoint) -> Int { endpoint == .user ? 0 : publicLag }

    public func freshness(_ endpoint: CachedEndpoint) -> Freshness { Freshness(ttl: ttl(endpoint), lag: lag(endpoint), grace: staleGrace) }

    /// How long the store keeps an entry.
    public func expiry(_ endpoint: CachedEndpoint) -> Duration { .seconds(ttl(endpoint) + staleGrace + outageRetention) }

    /// Write marks outlive every entry they judge.
    public var markExpiry: Duration { CachedEndpoint.allCases.map(expiry).max() ?? .seconds(3600) }

    /// The near cache keeps an entry at most this long (it is never checked against marks).
    var nearLifetime: Duration { min(nearTTL, .seconds(publicLag)) }
}

/// A cached answer and how it was obtained.
public struct CachedResponse: Sendable {
    public let entry: CacheEntry
    public let status: CacheStatus
    public let ttl: Int
    /// Until when (ms since 1970) the answer is fresh; 0 when stale.
    public let freshUntil: Int64
    /// How long past its freshness a shared cache may serve it while it revalidates, or while
    /// the origin fails (the cache's own stale grace and outage retention).
    public var staleWhileRevalidate = 0
    public var staleIfError = 0

    public init(entry: CacheEntry, status: CacheStatus, ttl: Int, freshUntil: Int64) {
        self.entry = entry
        self.status = status
        self.ttl = ttl
        self.freshUntil = freshUntil
    }

    /// The same answer (status, freshness) with another body made from it (a prefix of a list).
    public func replacingEntry(_ entry: CacheEntry) -> CachedResponse {
        var response = CachedResponse(entry: entry, status: status, ttl: ttl, freshUntil: freshUntil)
        response.staleWhileRevalidate = staleWhileRevalidate
        response.staleIfError = staleIfError
        return response
    }

    /// Seconds a shared cache may keep it: what is left of its freshness (0 when stale).
    public func maxAge(now: Date = Date()) -> Int {
        max(0, min(ttl, Int((freshUntil - CacheClock.snapshot(now)) / 1000)))
    }

    /// Its freshness as HTTP states it: the lifetime counted from its computation and its age,
    /// so that any cache on the way (browser, CDN) keeps it exactly as long as this one does.
    /// (The age is rounded up, so that no cache keeps it longer than this one; a stale answer
    /// has a lifetime of 0.)
    public func httpFreshness(now: Date = Date()) -> HTTPFreshness {
        let age = Int((max(0, CacheClock.snapshot(now) - entry.snapshot) + 999) / 1000)
        let lifetime = freshUntil > entry.snapshot ? Int((freshUntil - entry.snapshot + 500) / 1000) : 0
        return HTTPFreshness(lifetime: lifetime, age: age, staleWhileRevalidate: staleWhileRevalidate, staleIfError: staleIfError)
    }
}

/// How long browsers and shared caches (CDNs) may keep a public answer (RFC 9111, RFC 5861):
/// `Cache-Control: public, max-age, s-maxage, stale-while-revalidate, stale-if-error` and `Age`.
/// A cache computes what is left as `lifetime - age`.
public struct HTTPFreshness: Sendable, Equatable {
    /// Seconds the answer is fresh, counted from its computation (`max-age`, `s-maxage`).
    public var lifetime: Int
    /// Seconds since it was computed (`Age`).
    public var age: Int
    public var staleWhileRevalidate: Int
    public var staleIfError: Int

    public init(lifetime: Int, age: Int = 0, staleWhileRevalidate: Int = 0, staleIfError: Int = 0) {
        self.lifetime = lifetime
        self.age = age
        self.staleWhileRevalidate = staleWhileRevalidate
        self.staleIfError = staleIfError
    }

    /// Seconds left: what a cache that receives it now keeps it for.
    public var remaining: Int { max(0, lifetime - age) }

    public var cacheControl: String {
        "public, max-age=\(lifetime), s-maxage=\(lifetime), stale-while-revalidate=\(staleWhileRevalidate), stale-if-error=\(staleIfError)"
    }

    /// For a response made of several answers (a page): the one with the least time left.
    public static func least(_ all: [HTTPFreshness]) -> HTTPFreshness {
        all.min { ($0.remaining, $0.age) < ($1.remaining, $1.age) } ?? HTTPFreshness(lifetime: 0)
    }
}

/// The cache in front of the queries: one store lookup on a hit; single-flight computation
/// (in-process, and across replicas through a store lock); the freshness rule of
/// `Freshness` (writes mark entities instead of deleting entries; a store never replaces a
/// newer snapshot); stale-while-revalidate and probabilistic early refresh; stale copies
/// served while Postgres is down; a circuit breaker that answers from Postgres (`BYPASS`)
/// while the store is down or slow.
public final class ResponseCache: Sendable, SizedStructure {
    public let store: any CacheStore
    public let breaker: CircuitBreaker
    public let policy: CachePolicy
    public let near: NearCache
    private let flights = SingleFlight<CacheKey, CacheEntry>()
    /// Background refreshes (stale, pending write, early expiry, the worker) fly apart from
    /// reads: a reader never waits on a refresh that may step aside for another replica.
    private let refreshes = SingleFlight<CacheKey, CacheEntry?>()
    private let logger: Logger
    private let results: [String: Counter]
    private let computations: Counter
    private let singleFlightWaits: Counter
    private let storeErrors: Counter
    private let marksReplayed: Counter
    private let computed = Atomic<Int>(0)
    /// Write marks the store did not take (unreachable, or the breaker open), by entity: kept
    /// here and recorded before the next lookup once the store answers, so an entry stored
    /// before an outage is not served as fresh after it as if the outage's writes never happened.
    private let lostMarks = Mutex<[String: Int64]>([:])
    private let hasLostMarks = Atomic<Bool>(false)
    /// At most this many entities are remembered (beyond it, marks are dropped and logged).
    static let lostMarkCapacity = 100_000

    /// How many times this process computed an entry from Postgres (for single-flight checks).
    public var computationCount: Int { computed.load(ordering: .relaxed) }

    public init(store: any CacheStore, breaker: CircuitBreaker, policy: CachePolicy, logger: Logger) {
        self.store = store
        self.breaker = breaker
        self.policy = policy
        self.logger = logger
        self.near = NearCache(ttl: policy.nearLifetime)
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
        self.storeErrors = Counter(label: "prpm_redis_errors_total")
        self.marksReplayed = Counter(label: "prpm_cache_write_marks_replayed_total")
        InProcessSizes.shared.register("single_flight_reads", flights)
        InProcessSizes.shared.register("single_flight_refreshes", refreshes)
        InProcessSizes.shared.register("lost_write_marks", self)
    }

    /// The answer for `key`: from the store when fresh, else computed once by `compute`.
    public func read(_ key: CacheKey, compute: @escaping @Sendable () async throws -> [UInt8]) async throws -> CachedResponse {
        let ttl = policy.ttl(key.endpoint)
        let name = key.description
        if let kept = near.get(name) {
            return record(key, CachedResponse(entry: kept.entry, status: kept.bypassed ? .bypass : .hit, ttl: ttl, freshUntil: kept.freshUntil))
        }
        await replayLostMarks()
        let found = await guarded("get") { try await store.lookup(key) }
        if let found, let entry = found.entry {
            let now = CacheClock.snapshot()
            let early = Freshness.earlyRefreshMillis(computeMillis: entry.computeMillis)
            switch policy.freshness(key.endpoint).verdict(snapshot: entry.snapshot, written: found.written, now: now, earlyRefreshMillis: early) {
            case .fresh(let freshUntil, let refreshSoon):
                if refreshSoon {
                    refreshInBackground(key, compute: compute)
                } else if key.endpoint != .user {
                    near.put(name, entry, freshUntil: freshUntil, now: now)
                }
                return record(key, CachedResponse(entry: entry, status: .hit, ttl: ttl, freshUntil: freshUntil))
            case .stale:
                refreshInBackground(key, compute: compute)
                return record(key, CachedResponse(entry: entry, status: .stale, ttl: ttl, freshUntil: 0))
            case .unusable:
                break
            }
        }
        do {
            let flight: @Sendable () async throws -> CacheEntry = { [self] in
                try await computeAndStore(key, storeUp: found != nil, compute: compute)
            }
            var (entry, leader) = try await flights.run(key, flight)
            if !leader {
                singleFlightWaits.increment()
                // A flight that started before a write this reader knows of may miss it: such a
                // reader waits for a flight of its own (read-your-writes), which then starts after.
                let verdict = policy.freshness(key.endpoint).verdict(snapshot: entry.snapshot, written: found?.written, now: CacheClock.snapshot())
                if case .fresh = verdict {} else { entry = try await flights.run(key, flight).value }
            }
            let freshUntil = entry.snapshot + Int64(ttl) * 1000
            if found == nil, key.endpoint != .user {
                // The store is unreachable: without a near copy every request would compute.
                near.put(name, entry, freshUntil: freshUntil, bypassed: true)
            }
            return record(key, CachedResponse(entry: entry, status: found != nil ? .miss : .bypass, ttl: ttl, freshUntil: freshUntil))
        } catch  where Self.isDatabaseOutage(error) {
            if let entry = found?.entry {
                logger.warning("serving stale entry: database unavailable", metadata: ["key": "\(key)", "error": "\(error)"])
                return record(key, CachedResponse(entry: entry, status: .stale, ttl: ttl, freshUntil: 0))
            }
            if error is AnalyticsError || error as? PoolError == .overloaded { throw error }
            throw AnalyticsError.databaseUnavailable(String(describing: error))
        }
    }

    /// Records a write through the API to the entities its rows feed. Nothing is deleted:
    /// entries whose snapshot is older than the mark stop being fresh after the entity's lag
    /// (at once for the users' own answers). Best effort: when the store is down the
    /// entries expire by their TTL.
    public func recordWrite(_ affected: AffectedEntities) async {
        await markWritten(CacheKey.entities(affected))
    }

    /// The package a name or id resolved to, as remembered beside the entries (nil when
    /// unknown or the store is unreachable).
    public func knownPackage(_ idOrName: String) async -> PackageRef? {
        await guarded("package-ref") { try await store.packageRef(idOrName) } ?? nil
    }

    /// Remembers what `idOrName` resolved to, for a week (packages are never renamed or
    /// deleted here; a name that stops resolving would keep its old answer until then).
    public func rememberPackage(_ package: PackageRef, as idOrName: String) async {
        _ = await guarded("remember-package-ref") { try await store.rememberPackageRef(package, as: idOrName, expiry: .seconds(7 * 86_400)) }
    }

    /// The worker computed new trends: cached trending tables are refreshed within the lag.
    public func recordTrendsComputed() async {
        await markWritten([CacheKey(endpoint: .trending, entity: "all", days: 0).entity])
    }

    /// Computes the entry and stores it. A background refresh (`stepAside`) leaves the key to
    /// the replica that holds its lock (then nil); the worker's refresh-ahead computes anyway
    /// (the lock's holder may have died), and the store keeps whichever snapshot is newer.
    ///
    /// `unlessFreshFor`: refresh-ahead's visit. The entry is first looked up and left as it is
    /// (nil) when it shows every write and stays fresh that long (`Freshness.needsRefreshAhead`);
    /// with the store unreachable it is computed as before.
    @discardableResult
    public func refresh(
        _ key: CacheKey, stepAside: Bool = false, unlessFreshFor horizon: Duration? = nil,
        compute: @escaping @Sendable () async throws -> [UInt8]
    ) async throws -> CacheEntry? {
        await replayLostMarks()
        if let horizon, let found = await guarded("get", { try await store.lookup(key) }),
            !policy.freshness(key.endpoint).needsRefreshAhead(
                snapshot: found.entry?.snapshot, written: found.written, now: CacheClock.snapshot(), horizonMillis: horizon.milliseconds)
        {
            return nil
        }
        return try await refreshes.run(key) { [self] in
            let token = Self.lockToken()
            if case .some(.some) = await guarded("lock", { try await store.lock(key, token: token, ttl: policy.lockTTL) }) {
                return try await computeStoreAndUnlock(key, token: token, compute: compute)
            }
            return stepAside ? nil : try await computeAndStoreWithoutLock(key, compute: compute)
        }.value
    }

    // MARK: - Internals

    private func markWritten(_ entities: [String]) async {
        guard !entities.isEmpty else { return }
        let at = CacheClock.mark()
        await replayLostMarks()
        if await guarded("mark", { try await store.markWritten(entities, at: at, expiry: policy.markExpiry) }) == nil {
            rememberLostMarks(entities.map { ($0, at) })
        }
    }

    /// The number of entities whose write marks wait for the store (for tests).
    public var lostMarkCount: Int { lostMarks.withLock { $0.count } }

    /// The lost write marks kept (`/metrics`).
    public var size: StructureSize { StructureSize(entries: lostMarkCount) }

    private func rememberLostMarks(_ marks: some Sequence<(String, Int64)>) {
        let dropped = lostMarks.withLock { lost -> Int in
            var dropped = 0
            for (entity, at) in marks {
                if lost[entity] == nil, lost.count >= Self.lostMarkCapacity {
                    dropped += 1
                } else {
                    lost[entity] = max(lost[entity] ?? 0, at)
                }
            }
            return dropped
        }
        hasLostMarks.store(true, ordering: .relaxed)
        if dropped > 0 { logger.error("write marks dropped while the cache store was unreachable", metadata: ["dropped": "\(dropped)"]) }
    }

    /// Records the marks lost while the store was unreachable, each entity at the newest lost
    /// time (a later mark than its write only costs a recomputation); nothing when none wait.
    private func replayLostMarks() async {
        // While the breaker refuses calls, leave the marks where they are (no copy per request).
        guard hasLostMarks.load(ordering: .relaxed), !breaker.refusesCalls else { return }
        let pending = lostMarks.withLock { lost -> [String: Int64] in
            defer { lost = [:] }
            return lost
        }
        hasLostMarks.store(false, ordering: .relaxed)
        guard let at = pending.values.max() else { return }
        let entities = Array(pending.keys)
        var recorded = 0
        for start in stride(from: 0, to: entities.count, by: 1000) {
            let chunk = Array(entities[start..<min(start + 1000, entities.count)])
            guard await guarded("mark-replay", { try await store.markWritten(chunk, at: at, expiry: policy.markExpiry) }) != nil else {
                rememberLostMarks(entities[start...].map { ($0, pending[$0]!) })
                return
            }
            recorded += chunk.count
        }
        marksReplayed.increment(by: recorded)
        logger.debug("recorded write marks lost while the cache store was unreachable", metadata: ["entities": "\(recorded)"])
    }

    private func refreshInBackground(_ key: CacheKey, compute: @escaping @Sendable () async throws -> [UInt8]) {
        guard !refreshes.isRunning(key) else { return }
        Task { [self] in
            do {
                try await refresh(key, stepAside: true, compute: compute)
            } catch {
                logger.warning("background refresh failed", metadata: ["key": "\(key)", "error": "\(error)"])
            }
        }
    }

    /// A miss: compute under the cross-replica lock, or wait briefly for the replica that holds it.
    private func computeAndStore(_ key: CacheKey, storeUp: Bool, compute: @escaping @Sendable () async throws -> [UInt8]) async throws
        -> CacheEntry
    {
        // Each store call asks the breaker itself (asking here too would take a half-open
        // breaker's one probe and never report on it).
        guard storeUp else { return try await computeEntry(key, compute) }
        // A user's own answer is read by one person: no stampede for the lock to prevent, and
        // under the mix nine in ten are invalidated by the user's own writes before they are
        // read again. Computed at once and stored (two round trips fewer per miss).
        if key.endpoint == .user { return try await computeAndStoreWithoutLock(key, compute: compute) }
        let token = Self.lockToken()
        // nil: the store failed; .some(nil): another replica holds the lock; else what is stored now.
        guard let acquired = await guarded("lock", { try await store.lock(key, token: token, ttl: policy.lockTTL) }) else {
            return try await computeEntry(key, compute)
        }
        if let current = acquired {
            // Another flight may have stored a usable entry between our lookup and our lock.
            if let entry = usable(key, current) {
                _ = await guarded("unlock") { try await store.unlock(key, token: token) }
                return entry
            }
            return try await computeStoreAndUnlock(key, token: token, compute: compute)
        }
        if let entry = await waitForOther(key) { return entry }
        return try await computeAndStoreWithoutLock(key, compute: compute)
    }

    private func computeAndStoreWithoutLock(_ key: CacheKey, compute: @escaping @Sendable () async throws -> [UInt8]) async throws -> CacheEntry {
        let entry = try await computeEntry(key, compute)
        _ = await guarded("set") { try await store.store(key, entry, expiry: policy.expiry(key.endpoint), unlocking: nil) }
        return entry
    }

    private func computeStoreAndUnlock(_ key: CacheKey, token: String, compute: @escaping @Sendable () async throws -> [UInt8]) async throws
        -> CacheEntry
    {
        let entry: CacheEntry
        do {
            entry = try await computeEntry(key, compute)
        } catch {
            _ = await guarded("unlock") { try await store.unlock(key, token: token) }
            throw error
        }
        // Stored and unlocked in one round trip (the lock expires by itself if this call fails).
        _ = await guarded("set") { try await store.store(key, entry, expiry: policy.expiry(key.endpoint), unlocking: token) }
        return entry
    }

    /// The stored entry when it may be served as fresh now: nil when the store is unusable,
    /// `.some(nil)` when it holds no such entry.
    private func usableEntry(_ key: CacheKey) async -> CacheEntry?? {
        guard let found = await guarded("get", { try await store.lookup(key) }) else { return nil }
        return .some(usable(key, found))
    }

    /// The entry of `found` when it may be served as fresh now.
    private func usable(_ key: CacheKey, _ found: StoredLookup) -> CacheEntry? {
        guard let entry = found.entry else { return nil }
        let verdict = policy.freshness(key.endpoint).verdict(snapshot: entry.snapshot, written: found.written, now: CacheClock.snapshot())
        if case .fresh = verdict { return entry }
        return nil
    }

    /// Another replica holds the lock: poll for its fresh entry for up to `lockWait`.
    private func waitForOther(_ key: CacheKey) async -> CacheEntry? {
        singleFlightWaits.increment()
        let deadline = ContinuousClock.now + policy.lockWait
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            guard let usable = await usableEntry(key) else { return nil }
            if let entry = usable { return entry }
        }
        return nil
    }

    /// The snapshot time is taken before the computation starts: every write acknowledged
    /// before it is in the answer (less the standby's lag allowance for public answers).
    private func computeEntry(_ key: CacheKey, _ compute: @Sendable () async throws -> [UInt8]) async throws -> CacheEntry {
        computations.increment()
        computed.add(1, ordering: .relaxed)
        let snapshot = CacheClock.snapshot() - policy.snapshotAllowanceMillis(key.endpoint)
        let started = ContinuousClock.now
        let body = try await compute()
        return CacheEntry(body: body, snapshot: snapshot, computeMillis: (ContinuousClock.now - started).milliseconds)
    }

    private static func lockToken() -> String { UUID().uuidString }

    private func record(_ key: CacheKey, _ response: CachedResponse) -> CachedResponse {
        results["\(key.endpoint.rawValue)|\(response.status.rawValue)"]?.increment()
        var response = response
        response.staleWhileRevalidate = policy.staleGrace
        response.staleIfError = policy.outageRetention
        return response
    }

    /// Runs one store call behind the circuit breaker; nil when the breaker is open or the call failed.
    private func guarded<T: Sendable>(_ operation: String, _ body: () async throws -> T) async -> T? {
        switch await breaker.call(body) {
        case .success(let value)?: return value
        case .failure(let error)?:
            storeErrors.increment()
            logger.debug("cache store call failed", metadata: ["operation": "\(operation)", "error": "\(error)"])
            return nil
        case nil: return nil
        }
    }

    /// Postgres unreachable, restarting, too slow or overloaded, or the request's deadline
    /// passed: what a stale copy can stand in for.
    public static func isDatabaseOutage(_ error: any Error) -> Bool {
        switch error {
        case let error as PostgresError: return error.isConnectionFailure || error.sqlState == PostgresError.queryCanceled
        case let error as PoolError: return error == .acquireTimeout || error == .overloaded
        case AnalyticsError.databaseUnavailable, AnalyticsError.timedOut: return true
        default: return false
        }
    }
}
