import Analytics
import AnalyticsAPI
import AnalyticsCache
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

@Suite("Near cache and cross-replica invalidation", .serialized)
struct NearCacheTests {
    @Test func writesThroughOneReplicaClearTheOthersNearCopies() async throws {
        let configure: (inout AppConfig) -> Void = { $0.cache.nearTTL = .seconds(30) }
        let replicaA = try await makeReplica(configure)
        let replicaB = try await makeReplica(configure)
        let subscriber = InvalidationSubscriber(
            configuration: replicaB.redis.configuration, near: replicaB.cache.near, logger: TestEnvironment.logger)
        let listening = Task { await subscriber.run() }
        defer {
            subscriber.stop()
            listening.cancel()
            Task {
                await replicaA.shutdown(); await replicaB.shutdown()
            }
        }
        try await Task.sleep(for: .milliseconds(300))  // subscribed
        let f = Fixture(postgres: replicaA.postgres)
        let package = try await f.package("near")
        let user = try await f.user("near")
        let uri = "/api/v1/analytics/package/\(package.id)?days=3"
        try await withFreshApp(replicaB) { client, _ in
            let first = try await client.get(uri)
            let second = try await client.get(uri)
            #expect(first.cacheStatus == "MISS")
            #expect(second.cacheStatus == "HIT")
            // A Redis-side change is not seen while the near copy lives: it is served in-process.
            #expect(replicaB.cache.near.get(CacheKey(endpoint: .package, entityId: package.id, days: 3).description) != nil)
        }
        try await withFreshApp(replicaA) { client, _ in
            let event = #"{"userId":"\#(user)","packageId":"\#(package.id)","model":"gpt-4o","tokensUsed":1,"durationMs":1}"#
            let created = try await client.post("/api/v1/analytics/usage", json: event, headers: Tokens.bearer(TestEnvironment.ingestToken))
            #expect(created.status == .created)
        }
        try await withFreshApp(replicaB) { client, _ in
            var runs = 0
            for _ in 0..<50 where runs == 0 {
                runs = try await client.get(uri).json(PackageStats.self).totalRuns
                if runs == 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(runs == 1, "replica B must see the write long before its 30 s near copy expires")
        }
    }

    @Test func nearEntriesNeverOutliveTheirTTL() async throws {
        try await checkExpiry()
    }

    func checkExpiry() async throws {
        let near = NearCache(ttl: .seconds(10))
        let entry = CacheEntry(body: Array("{}".utf8), computedAt: Date())
        near.put("k", entry, remaining: 0.05)
        #expect(near.get("k") == entry)
        try await Task.sleep(for: .milliseconds(80))
        #expect(near.get("k") == nil)
        near.put("gone", entry, remaining: 0)
        #expect(near.get("gone") == nil)
        #expect(NearCache(ttl: .zero).isEnabled == false)
    }
}
