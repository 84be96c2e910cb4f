import Analytics
import AnalyticsAPI
import AnalyticsCache
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

@Suite("Near cache and the public lag across replicas", .serialized)
struct NearCacheTests {
    /// A write through one replica shows in the other's shared answers within
    /// `CACHE_PUBLIC_LAG_S`, even with a 30 s near cache setting (near copies never outlive the lag).
    @Test func writesThroughOneReplicaShowInTheOthersWithinTheLag() async throws {
        let configure: (inout AppConfig) -> Void = {
            $0.cache.nearTTL = .seconds(30)
            $0.cache.publicLag = 1
        }
        let replicaA = try await makeReplica(configure)
        let replicaB = try await makeReplica(configure)
        try await withCleanup({
            await replicaA.shutdown(); await replicaB.shutdown()
        }) {
            let f = Fixture(postgres: replicaA.postgres)
            let package = try await f.package("near")
            let user = try await f.user("near")
            let uri = "/api/v1/analytics/package/\(package.id)?days=3"
            try await withFreshApp(replicaB) { client, _ in
                let first = try await client.get(uri)
                let second = try await client.get(uri)
                #expect(first.cacheStatus == "MISS")
                #expect(second.cacheStatus == "HIT")
                #expect(replicaB.cache.near.get(CacheKey(endpoint: .package, entityId: package.id, days: 3).description) != nil)
            }
            try await withFreshApp(replicaA) { client, _ in
                let event = #"{"userId":"\#(user)","packageId":"\#(package.id)","model":"gpt-4o","tokensUsed":1,"durationMs":1}"#
                let created = try await client.post("/api/v1/analytics/usage", json: event, headers: Tokens.bearer(TestEnvironment.ingestToken))
                #expect(created.status == .created)
            }
            // The write was acknowledged before this instant.
            let due = ContinuousClock.now + .seconds(1)
            try await withFreshApp(replicaB) { client, _ in
                var runs = 0
                for _ in 0..<150 where runs == 0 {
                    let response = try await client.get(uri)
                    runs = try response.json(PackageStats.self).totalRuns
                    // Once the write is due, the old answer is never served as fresh.
                    if ContinuousClock.now > due + .milliseconds(5) && runs == 0 { #expect(response.cacheStatus == "STALE") }
                    if runs == 0 { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(runs == 1, "replica B must show the write within the lag, long before its 30 s near setting")
            }
        }
    }

    @Test func nearEntriesNeverOutliveTheirTTL() async throws {
        try await checkExpiry()
    }

    func checkExpiry() async throws {
        let near = NearCache(ttl: .seconds(10))
        let entry = CacheEntry(body: Array("{}".utf8), computedAt: Date())
        let now = CacheClock.snapshot()
        near.put("k", entry, freshUntil: now + 50, now: now)
        #expect(near.get("k") == NearCache.Hit(entry: entry, freshUntil: now + 50))
        try await Task.sleep(for: .milliseconds(80))
        #expect(near.get("k") == nil)
        near.put("gone", entry, freshUntil: now, now: now)
        #expect(near.get("gone") == nil)
        #expect(NearCache(ttl: .zero).isEnabled == false)
    }
}
