import Analytics
import Foundation
import Redis
import TestSupport
import Testing

@testable import AnalyticsCache

/// What `ResponseCache` relies on from a store, checked on both stores: the Redis one (a real
/// server, its Lua scripts) and the in-memory one the policy tests use.
@Suite("Cache store contract", .serialized)
struct CacheStoreContractTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case redis, memory
        var testDescription: String { rawValue }
    }

    static func withStore(_ kind: Kind, _ body: (any CacheStore) async throws -> Void) async throws {
        switch kind {
        case .memory: try await body(InMemoryCacheStore())
        case .redis:
            let redis = try TestEnvironment.redis()
            try await withCleanup({ redis.shutdown() }) { try await body(RedisCacheStore(redis: redis)) }
        }
    }

    static func key() -> CacheKey { CacheKey(endpoint: .package, entityId: UUID(), days: 30) }

    @Test(arguments: Kind.allCases) func theLockHandsBackWhatIsStoredAndStoringReleasesIt(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let key = Self.key()
            try await store.markWritten([key.entity], at: 5_000, expiry: .seconds(60))
            #expect(try await store.store(key, CacheEntry(body: Array("first".utf8), snapshot: 1_000), expiry: .seconds(60), unlocking: nil))

            let taken = try #require(try await store.lock(key, token: "a", ttl: .seconds(5)))
            #expect(taken.entry?.body == Array("first".utf8))
            #expect(taken.entry?.snapshot == 1_000)
            #expect(taken.written == 5_000)
            #expect(try await store.lock(key, token: "b", ttl: .seconds(5)) == nil, "held by a")

            // Another token does not release a's lock.
            #expect(try await store.store(key, CacheEntry(body: Array("second".utf8), snapshot: 2_000), expiry: .seconds(60), unlocking: "b"))
            #expect(try await store.lock(key, token: "b", ttl: .seconds(5)) == nil)
            // a's store releases it, even when a newer snapshot is kept instead of a's entry.
            #expect(try await store.store(key, CacheEntry(body: Array("older".utf8), snapshot: 1_500), expiry: .seconds(60), unlocking: "a") == false)
            let again = try #require(try await store.lock(key, token: "b", ttl: .seconds(5)))
            #expect(again.entry?.body == Array("second".utf8))
            try await store.unlock(key, token: "b")
            #expect(try await store.lock(key, token: "c", ttl: .seconds(5)) != nil)
        }
    }

    @Test(arguments: Kind.allCases) func aLockOnAnEmptyKeyFindsNothing(kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            let found = try #require(try await store.lock(Self.key(), token: "a", ttl: .seconds(5)))
            #expect(found == StoredLookup(entry: nil, written: nil))
        }
    }
}
