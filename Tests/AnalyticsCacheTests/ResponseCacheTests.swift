import Analytics
import AnalyticsCache
import Foundation
import Logging
import Synchronization
import Testing

/// The cache policy against the in-memory store: no servers.
@Suite struct ResponseCacheTests {
    static func cache(
        _ store: InMemoryCacheStore, breakerOpen: Duration = .seconds(60), configure: (inout CachePolicy) -> Void = { _ in }
    ) -> ResponseCache {
        var policy = CachePolicy(lockWait: .milliseconds(200))
        policy.nearTTL = .zero
        configure(&policy)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return ResponseCache(
            store: store, breaker: CircuitBreaker(failureThreshold: 3, openDuration: breakerOpen), policy: policy, logger: logger)
    }

    static let package = UUID()
    static let user = UUID()
    static func packageKey(_ days: Int = 30) -> CacheKey { CacheKey(endpoint: .package, entityId: package, days: days) }
    static func userKey() -> CacheKey { CacheKey(endpoint: .user, entityId: user, days: 30) }

    static func body(_ text: String) -> @Sendable () async throws -> [UInt8] { { Array(text.utf8) } }

    static func written(packages: [UUID] = [], users: [UUID] = []) -> AffectedEntities {
        var affected = AffectedEntities()
        affected.packageIds = Set(packages)
        affected.userIds = Set(users)
        return affected
    }

    /// Waits (bounded) until `condition` holds.
    static func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func missThenHit() async throws {
        let store = InMemoryCacheStore()
        let cache = Self.cache(store)
        let first = try await cache.read(Self.packageKey(), compute: Self.body("a"))
        let second = try await cache.read(Self.packageKey(), compute: Self.body("b"))
        #expect(first.status == .miss)
        #expect(second.status == .hit)
        #expect(second.entry.body == Array("a".utf8))
        #expect(second.maxAge() > 290)
    }

    @Test func concurrentMissesComputeOnce() async throws {
        let store = InMemoryCacheStore()
        let cache = Self.cache(store)
        let computed = Count()
        let statuses = try await withThrowingTaskGroup(of: CacheStatus.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    try await cache.read(Self.packageKey()) {
                        computed.increment()
                        try await Task.sleep(for: .milliseconds(50))
                        return Array("x".utf8)
                    }.status
                }
            }
            var all: [CacheStatus] = []
            for try await status in group { all.append(status) }
            return all
        }
        #expect(computed.value == 1)
        #expect(Set(statuses).isSubset(of: [.miss, .hit]))
        #expect(statuses.count == 100)
    }

    @Test func sharedAnswersKeepServingAfterAWriteUntilTheLag() async throws {
        let store = InMemoryCacheStore()
        let cache = Self.cache(store) { $0.publicLag = 1 }
        _ = try await cache.read(Self.packageKey(), compute: Self.body("old"))
        await cache.recordWrite(Self.written(packages: [Self.package]))
        // Not deleted: still the old bytes inside the lag.
        let during = try await cache.read(Self.packageKey(), compute: Self.body("new"))
        #expect(during.status == .hit)
        #expect(during.entry.body == Array("old".utf8))
        try await Task.sleep(for: .milliseconds(1_050))
        // Past the lag the old bytes are never a HIT: served STALE while one refresh runs.
        let after = try await cache.read(Self.packageKey(), compute: Self.body("new"))
        #expect(after.status == .stale || (after.status == .hit && after.entry.body == Array("new".utf8)))
        try await Self.eventually { store.entry(Self.packageKey())?.body == Array("new".utf8) }
        let refreshed = try await cache.read(Self.packageKey(), compute: Self.body("newer"))
        #expect(refreshed.status == .hit)
        #expect(refreshed.entry.body == Array("new".utf8))
    }

    @Test func aUsersOwnAnswerShowsTheWriteOnTheNextRead() async throws {
        let store = InMemoryCacheStore()
        let cache = Self.cache(store) { $0.publicLag = 60 }
        _ = try await cache.read(Self.userKey(), compute: Self.body("old"))
        await cache.recordWrite(Self.written(users: [Self.user]))
        let next = try await cache.read(Self.userKey(), compute: Self.body("new"))
        #expect(next.status == .miss)
        #expect(next.entry.body == Array("new".utf8))
    }

    /// Issue 25 item 4: a user's own answer is computed and stored without the cross-replica
    /// lock (a shared answer still takes it).
    @Test func aUsersOwnAnswerIsComputedWithoutTheLock() async throws {
        let store = InMemoryCacheStore()
        let cache = Self.cache(store)
        let user = try await cache.read(Self.userKey(), compute: Self.body("mine"))
        #expect(user.status == .miss)
        #expect(store.entry(Self.userKey())?.body == Array("mine".utf8))
        #expect(store.lockCalls == 0)
        _ = try await cache.read(Self.packageKey(), compute: Self.body("shared"))
        #expect(store.lockCalls == 1)
    }

    /// A slow computation (`computation` is handed a body that takes 200 ms) in flight while
    /// `affected` is written; then the next read of `key`.
    static func writeDuringSlowComputation(
        _ cache: ResponseCache, key: CacheKey, affected: AffectedEntities,
        computation: @escaping @Sendable (@escaping @Sendable () async throws -> [UInt8]) async throws -> Void
    ) async throws -> CachedResponse {
        let slow = Task {
            try await computation {
                try await Task.sleep(for: .milliseconds(200))
                return Array("before the write".utf8)
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        await cache.recordWrite(affected)
        try await slow.value
        return try await cache.read(key, compute: body("after the write"))
    }

    /// Defect 2: a computation that started before a write and stores after it must not be
    /// served as fresh once the write is due.
    @Test func aSlowComputationDoesNotResurrectOldData() async throws {
        let cache = Self.cache(InMemoryCacheStore())
        let next = try await Self.writeDuringSlowComputation(cache, key: Self.userKey(), affected: Self.written(users: [Self.user])) {
            _ = try await cache.read(Self.userKey(), compute: $0)
        }
        #expect(next.status == .miss)
        #expect(next.entry.body == Array("after the write".utf8))
    }

    @Test func theWorkersRefreshDoesNotResurrectOldDataEither() async throws {
        let cache = Self.cache(InMemoryCacheStore()) { $0.publicLag = 0 }
        let next = try await Self.writeDuringSlowComputation(
            cache, key: Self.packageKey(), affected: Self.written(packages: [Self.package])
        ) {
            try await cache.refresh(Self.packageKey(), compute: $0)
        }
        #expect(next.status == .miss)
        #expect(next.entry.body == Array("after the write".utf8))
    }

    /// A reader who wrote must not join a computation that started before its write.
    @Test func aReaderAfterItsWriteDoesNotJoinAnOlderFlight() async throws {
        let cache = Self.cache(InMemoryCacheStore())
        let computations = Count()
        let compute: @Sendable () async throws -> [UInt8] = {
            computations.increment()
            let first = computations.value == 1
            try await Task.sleep(for: .milliseconds(first ? 300 : 10))
            return Array((first ? "before the write" : "after the write").utf8)
        }
        let early = Task { try await cache.read(Self.userKey(), compute: compute) }
        try await Task.sleep(for: .milliseconds(50))
        await cache.recordWrite(Self.written(users: [Self.user]))
        let mine = try await cache.read(Self.userKey(), compute: compute)
        #expect(mine.entry.body == Array("after the write".utf8))
        #expect(try await early.value.entry.body == Array("before the write".utf8))
    }

    @Test func anOlderSnapshotNeverReplacesANewerOne() async throws {
        let store = InMemoryCacheStore()
        let key = Self.packageKey()
        #expect(try await store.store(key, CacheEntry(body: Array("new".utf8), snapshot: 2_000), expiry: .seconds(60), unlocking: nil))
        #expect(try await store.store(key, CacheEntry(body: Array("old".utf8), snapshot: 1_000), expiry: .seconds(60), unlocking: nil) == false)
        #expect(store.entry(key)?.body == Array("new".utf8))
    }

    @Test func staleWhileRevalidateRefreshesOnce() async throws {
        let store = InMemoryCacheStore()
        let cache = Self.cache(store) {
            $0.packageTTL = 1
            $0.staleGrace = 60
        }
        _ = try await cache.read(Self.packageKey(), compute: Self.body("v1"))
        try await Task.sleep(for: .milliseconds(1_050))
        let computed = Count()
        for _ in 0..<20 {
            let response = try await cache.read(Self.packageKey()) {
                computed.increment()
                try await Task.sleep(for: .milliseconds(100))
                return Array("v2".utf8)
            }
            #expect(response.status == .stale)
            #expect(response.maxAge() == 0)
        }
        try await Self.eventually { store.entry(Self.packageKey())?.body == Array("v2".utf8) }
        #expect(computed.value == 1)
    }

    /// The worker's visit (`unlessFreshFor`) computes a missing entry, leaves one that stays
    /// fresh and shows every write, and computes again once a write is not in it.
    @Test func refreshAheadLeavesEntriesThatStayFreshAndShowEveryWrite() async throws {
        let store = InMemoryCacheStore()
        let cache = Self.cache(store)
        let computed = Count()
        let compute: @Sendable () async throws -> [UInt8] = {
            computed.increment()
            return Array("v\(computed.value)".utf8)
        }
        #expect(try await cache.refresh(Self.packageKey(), unlessFreshFor: .seconds(120), compute: compute)?.body == Array("v1".utf8))
        #expect(try await cache.refresh(Self.packageKey(), unlessFreshFor: .seconds(120), compute: compute) == nil)
        #expect(computed.value == 1)
        // Its TTL (300 s) ends within a horizon of 400 s: recomputed.
        #expect(try await cache.refresh(Self.packageKey(), unlessFreshFor: .seconds(400), compute: compute)?.body == Array("v2".utf8))
        await cache.recordWrite(Self.written(packages: [Self.package]))
        // (A snapshot in the write's own millisecond would still count it as missing.)
        try await Task.sleep(for: .milliseconds(5))
        #expect(try await cache.refresh(Self.packageKey(), unlessFreshFor: .seconds(120), compute: compute)?.body == Array("v3".utf8))
        #expect(store.entry(Self.packageKey())?.body == Array("v3".utf8))
        #expect(try await cache.refresh(Self.packageKey(), unlessFreshFor: .seconds(120), compute: compute) == nil)
        #expect(computed.value == 3)
    }

    @Test func aRefreshStepsAsideWhileAnotherReplicaHoldsTheLock() async throws {
        let store = InMemoryCacheStore()
        let cache = Self.cache(store)
        #expect(try await store.lock(Self.packageKey(), token: "other replica", ttl: .seconds(5)) != nil)
        let result = try await cache.refresh(Self.packageKey(), stepAside: true, compute: Self.body("x"))
        #expect(result == nil)
        #expect(store.entry(Self.packageKey()) == nil)
        // The worker's refresh-ahead computes anyway: the lock's holder may have died.
        #expect(try await cache.refresh(Self.packageKey(), compute: Self.body("y"))?.body == Array("y".utf8))
        #expect(store.entry(Self.packageKey())?.body == Array("y".utf8))
    }

    @Test func storeDownMeansBypass() async throws {
        let store = InMemoryCacheStore()
        store.failing = true
        let cache = Self.cache(store)
        let response = try await cache.read(Self.packageKey(), compute: Self.body("direct"))
        #expect(response.status == .bypass)
        #expect(response.entry.body == Array("direct".utf8))
        // A write while the store is down is not an error.
        await cache.recordWrite(Self.written(packages: [Self.package]))
    }

    /// Before: every read of a hot package computed while Redis was down (and each package
    /// computation recomputed the site-wide ranking behind its rank: 6.7 ms of Postgres per
    /// package read on the demo seed).
    @Test func storeDownComputesASharedKeyOncePerNearLifetime() async throws {
        let store = InMemoryCacheStore()
        store.failing = true
        let cache = Self.cache(store) { $0.nearTTL = .seconds(60) }
        let computed = Count()
        let compute: @Sendable () async throws -> [UInt8] = {
            computed.increment()
            return Array("shared".utf8)
        }
        for _ in 0..<5 {
            let response = try await cache.read(Self.packageKey(), compute: compute)
            #expect(response.status == .bypass)
            #expect(response.entry.body == Array("shared".utf8))
        }
        #expect(computed.value == 1)
        // A user's own answer is computed on every read (read-your-writes).
        let own = Count()
        for _ in 0..<3 {
            let response = try await cache.read(Self.userKey()) {
                own.increment()
                return Array("mine".utf8)
            }
            #expect(response.status == .bypass)
        }
        #expect(own.value == 3)
        // The kept copy ages out with the near cache: the next read computes again.
        cache.near.removeAll()
        #expect(try await cache.read(Self.packageKey(), compute: compute).status == .bypass)
        #expect(computed.value == 2)
    }

    /// Before: a write while the store was unreachable left no mark, so once the store was back
    /// the entries stored before the outage were served as fresh (`HIT`) for their whole TTL, a
    /// user's own answer included.
    @Test func writesWhileTheStoreIsDownAreMarkedOnceItIsBack() async throws {
        let store = InMemoryCacheStore()
        let cache = Self.cache(store, breakerOpen: .milliseconds(100)) { $0.publicLag = 0 }
        _ = try await cache.read(Self.packageKey(), compute: Self.body("old"))
        _ = try await cache.read(Self.userKey(), compute: Self.body("old"))
        store.failing = true
        await cache.recordWrite(Self.written(packages: [Self.package], users: [Self.user]))
        #expect(cache.lostMarkCount == 2)
        // Still down: the marks wait (a read answers from Postgres meanwhile).
        #expect(try await cache.read(Self.userKey(), compute: Self.body("during")).status == .bypass)
        #expect(cache.lostMarkCount == 2)
        store.failing = false
        try await Task.sleep(for: .milliseconds(150))  // the breaker opened; it probes again after 100 ms
        let mine = try await cache.read(Self.userKey(), compute: Self.body("new"))
        #expect(mine.status == .miss)
        #expect(mine.entry.body == Array("new".utf8))
        #expect(cache.lostMarkCount == 0)
        let shared = try await cache.read(Self.packageKey(), compute: Self.body("new"))
        // Not the old bytes as fresh: recomputed now, or served STALE while one refresh runs.
        #expect(shared.status == .miss || shared.status == .stale, "\(shared.status)")
        try await Self.eventually { store.entry(Self.packageKey())?.body == Array("new".utf8) }
    }

    @Test func databaseDownServesTheStaleCopy() async throws {
        let store = InMemoryCacheStore()
        let cache = Self.cache(store) { $0.packageTTL = 1 }
        _ = try await cache.read(Self.packageKey(), compute: Self.body("kept"))
        await cache.recordWrite(Self.written(packages: [Self.package]))
        try await Task.sleep(for: .milliseconds(1_050))
        let response = try await cache.read(Self.packageKey()) { throw AnalyticsError.databaseUnavailable("down") }
        #expect(response.status == .stale)
        #expect(response.entry.body == Array("kept".utf8))
    }

    @Test func nearCopiesNeverOutliveTheLag() async throws {
        let store = InMemoryCacheStore()
        let cache = Self.cache(store) {
            $0.nearTTL = .seconds(30)
            $0.publicLag = 1
        }
        #expect(cache.near.ttl == .seconds(1))
        _ = try await cache.read(Self.packageKey(), compute: Self.body("a"))
        _ = try await cache.read(Self.packageKey(), compute: Self.body("a"))
        // Kept with the answer's freshness: at most the lag while a write is pending.
        let kept = try #require(cache.near.get(Self.packageKey().description))
        #expect(kept.freshUntil == kept.entry.snapshot + 300_000)
        await cache.recordWrite(Self.written(packages: [Self.package]))
        cache.near.removeAll()
        let pending = try await cache.read(Self.packageKey(), compute: Self.body("a"))
        #expect(pending.freshUntil == pending.entry.snapshot + 1_000)
        #expect(pending.maxAge() <= 1)
        // A user's own answers are never kept in process.
        _ = try await cache.read(Self.userKey(), compute: Self.body("u"))
        _ = try await cache.read(Self.userKey(), compute: Self.body("u"))
        #expect(cache.near.get(Self.userKey().description) == nil)
    }
}

/// A counter closures can share.
final class Count: Sendable {
    private let storage = Atomic<Int>(0)
    func increment() { storage.add(1, ordering: .relaxed) }
    var value: Int { storage.load(ordering: .relaxed) }
}
