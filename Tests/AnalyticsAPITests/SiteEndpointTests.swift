import Analytics
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// `GET /popular` and `GET /summary`: the site-wide answers of the home page.
@Suite("GET /popular and /summary", .serialized)
struct SiteEndpointTests {
    @Test func popularRanksPackagesByRunsInTheWindow() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("popular")
            let (top, second, old) = (try await f.package("popular-top"), try await f.package("popular-second"), try await f.package("popular-old"))
            func rows(_ package: UUID, _ count: Int, daysAgo: Int) -> [Fixture.Usage] {
                (0..<count).map { _ in
                    var row = Fixture.Usage(user: user, package: package)
                    row.daysAgo = daysAgo
                    return row
                }
            }
            // More runs than any other test inserts for one package; `old`'s are outside a 7-day window.
            try await f.usage(rows(top.id, 3000, daysAgo: 1) + rows(second.id, 2500, daysAgo: 2) + rows(old.id, 2800, daysAgo: 20))
            let week = try await client.get("/api/v1/analytics/popular?days=7&limit=100")
            #expect(week.status == .ok)
            #expect(week.headers[.cacheControl]?.hasPrefix("public") == true)
            let popular = try week.json(PopularPackages.self)
            #expect(popular.days == 7)
            let ours = popular.packages.filter { [top.id, second.id, old.id].contains($0.id) }
            #expect(ours.map(\.name) == [top.name, second.name])
            #expect(ours.map(\.runs) == [3000, 2500])
            #expect(popular.packages.first?.id == top.id && popular.packages.first?.rank == 1)
            // Ranks follow the runs: non-increasing runs, ranks from 1, equal runs share one.
            for (a, b) in zip(popular.packages, popular.packages.dropFirst()) {
                #expect(a.runs >= b.runs && (a.runs == b.runs ? a.rank == b.rank : a.rank < b.rank))
            }
            let month = try await client.get("/api/v1/analytics/popular?days=30&limit=2").json(PopularPackages.self)
            #expect(month.packages.map(\.name) == [top.name, old.name])

            for bad in ["?limit=0", "?limit=101", "?limit=x", "?days=0", "?days=366"] {
                let response = try await client.get("/api/v1/analytics/popular\(bad)")
                #expect(response.status == .badRequest, "\(bad)")
            }
        }
    }

    @Test func summaryCountsTheWholeSite() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("summary")
            let package = try await f.package("summary")
            try await f.usage((0..<3).map { _ in Fixture.Usage(user: user, package: package.id) })
            let expected = try await [
                f.scalar("SELECT count(*) FROM playground_usage"), f.scalar("SELECT count(DISTINCT user_id) FROM playground_usage"),
                f.scalar("SELECT count(DISTINCT package_id) FROM playground_usage WHERE package_id IS NOT NULL"),
            ].map { Int($0 ?? "") }
            let response = try await client.get("/api/v1/analytics/summary")
            #expect(response.status == .ok)
            let summary = try response.json(SiteSummary.self)
            #expect([summary.totalRuns, summary.distinctUsers, summary.packagesWithRuns] == expected)
            #expect(try await client.get("/api/v1/analytics/summary").cacheStatus == "HIT")
        }
    }
}
