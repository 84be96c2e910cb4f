import Analytics
import AnalyticsCache
import Foundation
import HTTPTypes
import HummingbirdTesting
import Redis
import TestSupport
import Testing

@testable import AnalyticsAPI

/// Issue 27 item 2: Redis runs with `maxmemory` and evicts only keys with a TTL; the cache stays
/// correct when what it evicts is a write mark.
@Suite("Redis memory and eviction", .serialized)
struct RedisMemoryTests {
    @Test func theWatchMovesTheFloorOnlyWhenRedisEvicts() {
        let watch = EvictionWatch()
        #expect(EvictionWatch.evictedKeys(inInfo: "# Stats\r\nexpired_keys:4\r\nevicted_keys:17\r\nevicted_clients:0\r\n") == 17)
        #expect(EvictionWatch.evictedKeys(inInfo: "# Stats\r\n") == nil)
        #expect(!watch.observe(evictedKeys: 0, now: 1_000))
        #expect(watch.floor == 0)
        #expect(!watch.observe(evictedKeys: 0, now: 2_000))
        #expect(watch.observe(evictedKeys: 3, now: 3_000))
        #expect(watch.floor == 3_000)
        #expect(!watch.observe(evictedKeys: 3, now: 4_000))
        // A restarted Redis counts from 0: not an eviction.
        #expect(!watch.observe(evictedKeys: 0, now: 5_000))
        #expect(watch.floor == 3_000)
        // A process that starts later takes the floor the others stored, not its start time.
        let late = EvictionWatch()
        #expect(!late.observe(evictedKeys: 9, stored: 3_000, now: 6_000))
        #expect(late.floor == 3_000)
        #expect(late.observe(evictedKeys: 10, stored: 3_000, now: 7_000))
        #expect(late.floor == 7_000)
    }

    @Test func setupBoundsRedisMemoryAndEvictsOnlyKeysWithATTL() async throws {
        let redis = try TestEnvironment.redis()
        defer { redis.shutdown() }
        let config = try await redis.command("CONFIG", "GET", "maxmemory*").array?.compactMap(\.string) ?? []
        let settings = Dictionary(uniqueKeysWithValues: stride(from: 0, to: config.count - 1, by: 2).map { (config[$0], config[$0 + 1]) })
        #expect(Int(settings["maxmemory"] ?? "0").map { $0 > 0 } == true)
        #expect(settings["maxmemory-policy"] == "volatile-lru")
    }

    /// A row written while its entity's write mark is lost (here: written straight to Postgres,
    /// as if its mark had been evicted). Before: the old answer stayed a fresh `HIT` for its TTL.
    /// After: once Redis reports an eviction, every answer computed before it is refreshed.
    @Test func anEvictedWriteMarkNeverLeavesAnOldAnswerFresh() async throws {
        let replica = try await makeReplica { config in
            config.cache.publicLag = 0
            config.cache.nearTTL = .zero
            config.evictionCheckInterval = .milliseconds(20)
        }
        try await withCleanup({ await replica.shutdown() }) {
            let f = Fixture(postgres: replica.postgres)
            let package = try await f.package("evicted-mark")
            let user = try await f.user("evicted-mark")
            try await f.usage([Fixture.Usage(user: user, package: package.id)])
            let stored = try await replica.redis.command("GET", RedisKeyspace.evictionFloor).string.flatMap { Int64($0) } ?? 0
            // The eviction watch runs while the runtime's background services run.
            try await withServices(replica.runtime.backgroundServices) {
                try await withFreshApp(replica) { client, deps in
                    let path = "/api/v1/analytics/package/\(package.id)"
                    _ = try await client.get(path)
                    let hit = try await client.get(path)
                    #expect(hit.cacheStatus == "HIT")
                    #expect(try hit.json(PackageStats.self).totalRuns == 1)
                    // The write whose mark is gone.
                    try await f.usage([Fixture.Usage(user: user, package: package.id)])
                    #expect(try await client.get(path).cacheStatus == "HIT")
                    try await Self.makeRedisEvict(deps.redis)
                    try await Task.sleep(for: .milliseconds(200))
                    // Not fresh any more: recomputed (MISS) or served while refreshed (STALE), and the
                    // next answers show the write.
                    let after = try await client.get(path)
                    #expect(after.cacheStatus != "HIT")
                    var runs = try after.json(PackageStats.self).totalRuns
                    for _ in 0..<20 where runs != 2 {
                        try await Task.sleep(for: .milliseconds(50))
                        runs = try await client.get(path).json(PackageStats.self).totalRuns
                    }
                    #expect(runs == 2)
                }
            }
            // Stored for the other processes, also those that start later.
            let floor = try await replica.redis.command("GET", RedisKeyspace.evictionFloor).string.flatMap { Int64($0) } ?? 0
            #expect(floor > stored)
            #expect(floor == replica.runtime.evictions.floor)
        }
    }

    /// Lowers `maxmemory` just under what Redis holds plus some junk keys with a TTL, until it
    /// evicts; then puts the limit back and removes the junk.
    static func makeRedisEvict(_ redis: RedisClient) async throws {
        let before = try await redis.command("CONFIG", "GET", "maxmemory").array?.last?.string ?? "0"
        let evictedBefore = EvictionWatch.evictedKeys(inInfo: try await redis.command("INFO", "stats").string ?? "") ?? 0
        let used = try await redis.command("INFO", "memory").string.flatMap { info in
            info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory:") }.flatMap { Int($0.dropFirst("used_memory:".count)) }
        }
        let limit = try #require(used) + 1_000_000
        _ = try await redis.command("CONFIG", "SET", "maxmemory", String(limit))
        let evicted = try await withCleanup({
            _ = try? await redis.command("CONFIG", "SET", "maxmemory", before)
            try? await redis.deleteKeys(matching: "analytics:v1:test-junk:*")
        }) {
            let junk = String(repeating: "x", count: 20_000)
            var evicted = evictedBefore
            for index in 0..<500 where evicted <= evictedBefore {
                _ = try? await redis.command("SET", "analytics:v1:test-junk:\(index)", junk, "PX", "60000")
                evicted = EvictionWatch.evictedKeys(inInfo: try await redis.command("INFO", "stats").string ?? "") ?? evicted
            }
            return evicted
        }
        #expect(evicted > evictedBefore)
    }
}
