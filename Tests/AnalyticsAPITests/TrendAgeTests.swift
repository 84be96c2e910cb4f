import Analytics
import AnalyticsCache
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

@testable import AnalyticsAPI

/// Issue 27 item 9: a trend the worker has not renewed for two trend intervals (it stopped, or
/// failed) is not "this week" any more: pages, badges and `trending` leave it out. Before, a
/// trend of any age was shown as this week's.
@Suite("Old trends are not this week's", .serialized)
struct TrendAgeTests {
    struct Badge: Decodable { let message: String }

    @Test func aTrendOlderThanTwoIntervalsIsNotShown() async throws {
        let replica = try await makeReplica { $0.trendMaxAge = 1200 }
        try await withCleanup({ await replica.shutdown() }) {
            let f = Fixture(postgres: replica.postgres)
            let user = try await f.user("trend-age")
            let (fresh, old) = (try await f.package("trend-fresh"), try await f.package("trend-old"))
            try await f.usage([Fixture.Usage(user: user, package: fresh.id), Fixture.Usage(user: user, package: old.id)])
            // Rows as the worker writes them: one 5 minutes old, one 25 minutes (> 2 × 600 s).
            for (package, age) in [(fresh.id, 300), (old.id, 1500)] {
                try await f.exec(
                    """
                    INSERT INTO package_trends (package_id, this_week, last_week, change_pct, trend, computed_at)
                    VALUES ('\(package)', 12, 6, 100.0, 'rising', now() - interval '\(age) seconds')
                    ON CONFLICT (package_id) DO UPDATE SET computed_at = excluded.computed_at
                    """)
            }
            let redis = try TestEnvironment.redis()
            defer { redis.shutdown() }
            let keys = try await redis.command("KEYS", RedisKeyspace.prefix + "trending:*").array?.compactMap(\.string) ?? []
            if !keys.isEmpty { try await redis.command(["DEL"] + keys) }
            try await withFreshApp(replica) { client, _ in
                func package(_ id: UUID) async throws -> PackageStats {
                    try await client.get("/api/v1/analytics/package/\(id)").json(PackageStats.self)
                }
                #expect(try await package(fresh.id).weekOverWeek?.changePct == 100)
                #expect(try await package(old.id).weekOverWeek == nil)
                let badge = { (id: UUID) in try await client.get("/api/v1/analytics/package/\(id)/badge/trend.json").json(Badge.self).message }
                #expect(try await badge(fresh.id) == "+100% this week")
                #expect(try await badge(old.id) == "no data")
                let oldPage = try await client.get("/packages/\(old.name)")
                #expect(oldPage.status == .ok)
                #expect(!oldPage.text.contains("this week"))
                #expect(try await client.get("/packages/\(fresh.name)").text.contains("+100% usage this week"))
                let trending = try await client.get("/api/v1/analytics/trending?limit=100").json(TrendingPackages.self)
                #expect(trending.packages.contains { $0.id == fresh.id })
                #expect(!trending.packages.contains { $0.id == old.id })
            }
        }
    }

    @Test func theAgeIsTwoTrendIntervals() throws {
        #expect(try AppConfig(environment: [:]).trendMaxAge == 1200)
        #expect(try AppConfig(environment: ["WORKER_TRENDS_INTERVAL_S": "90"]).trendMaxAge == 180)
    }
}
