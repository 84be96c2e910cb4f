import AnalyticsCache
import Foundation
import Testing

@Suite("Redis keyspace")
struct RedisKeyspaceTests {
    @Test func everyKeyIsUnderTheVersionPrefixInTheDocumentedShape() {
        let id = UUID(uuidString: "6F9619FF-8B86-D011-B42D-00C04FC964FF")!
        let key = CacheKey(endpoint: .package, entityId: id, days: 30)
        #expect(key.description == "analytics:v1:package:6f9619ff-8b86-d011-b42d-00c04fc964ff:30")
        #expect(key.lockKey == "analytics:v1:lock:package:6f9619ff-8b86-d011-b42d-00c04fc964ff:30")
        #expect(key.writtenKey == "analytics:v1:written:package:6f9619ff-8b86-d011-b42d-00c04fc964ff")
        let all = [
            key.description, key.lockKey, key.writtenKey, RedisKeyspace.packageRef("@scope/name"), RedisKeyspace.hotPackages,
            RedisKeyspace.refreshStream, RedisKeyspace.lease("trends"), RedisKeyspace.fence("trends"), RedisKeyspace.workerMetrics,
            RedisKeyspace.rateLimit(client: "127.0.0.1"),
        ]
        #expect(all.allSatisfy { $0.hasPrefix(RedisKeyspace.prefix) })
        #expect(Set(all).count == all.count)
        // What Scripts/bench-refresh and the README name.
        #expect(RedisKeyspace.hotPackages == "analytics:v1:hot:packages")
        #expect(RedisKeyspace.packageRef("left-pad") == "analytics:v1:package-ref:left-pad")
    }
}
