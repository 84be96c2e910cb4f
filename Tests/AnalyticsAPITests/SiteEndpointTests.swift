import Analytics
import AnalyticsAPI
import AnalyticsCache
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// `GET /popular` and `GET /summary`: the site-wide answers of the home page.
@Suite("GET /popular and /summary", .serialized)
struct SiteEndpointTests {
    /// Site-wide answers live for their TTL: drop the ones an earlier run may have left.
    /// (A client of its own: the shared one's connections may predate a Redis restart of the fault tests.)
    static func forgetSiteAnswers(_ deps: AppDependencies) async throws {
        let redis = try TestEnvironment.redis()
        defer { redis.shutdown() }
        for pattern in ["popular", "summary"] {
            let keys = try await redis.command("KEYS", RedisKeyspace.prefix + pattern + ":*").array?.compactMap(\.string) ?? []
            if !keys.isEmpty { try await redis.command(["DEL"] + keys) }
        }
    }

    @Test func popularRanksPackagesByRunsInTheWindow() async throws {
        try await withApp { client, deps in
            try await Self.forgetSiteAnswers(deps)
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("popular")
            let (other, third) = (try await f.user("popular-2"), try await f.user("popular-3"))
            let (top, second, old) = (try await f.package("popular-top"), try await f.package("popular-second"), try await f.package("popular-old"))
            func rows(_ package: UUID, _ count: Int, daysAgo: Int, users: [UUID]) -> [Fixture.Usage] {
                (0..<count).map { index in
                    var row = Fixture.Usage(user: users[index % users.count], package: package)
                    row.daysAgo = daysAgo
                    return row
                }
            }
            // More runs than any other test inserts for one package; `old`'s are outside a 7-day window.
            try await f.usage(
                rows(top.id, 3000, daysAgo: 1, users: [user]) + rows(second.id, 2500, daysAgo: 2, users: [user, other, third])
                    + rows(old.id, 2800, daysAgo: 20, users: [user, other]))
            let week = try await client.get("/api/v1/analytics/popular?days=7&limit=100")
            #expect(week.status == .ok)
            #expect(week.headers[.cacheControl]?.hasPrefix("public") == true)
            let popular = try week.json(PopularPackages.self)
            #expect(popular.days == 7)
            let ours = popular.packages.filter { [top.id, second.id, old.id].contains($0.id) }
            #expect(ours.map(\.name) == [top.name, second.name])
            #expect(ours.map(\.runs) == [3000, 2500])
            #expect(ours.map(\.uniqueUsers) == [1, 3])
            // Its rank: one more than the packages with more runs (other tests' packages may have more).
            #expect(ours.first?.rank == 1 + popular.packages.filter { $0.runs > 3000 }.count)
            // Ranks follow the runs: non-increasing runs, ranks from 1, equal runs share one.
            for (a, b) in zip(popular.packages, popular.packages.dropFirst()) {
                #expect(a.runs >= b.runs && (a.runs == b.runs ? a.rank == b.rank : a.rank < b.rank))
            }
            // The package answer carries the same rank, computed here from the raw rows.
            for package in [top, second] {
                let stats = try await client.get("/api/v1/analytics/package/\(package.id)?days=7").json(PackageStats.self)
                let expected = try await f.scalar(
                    """
                    SELECT 1 + count(*) FROM (
                      SELECT package_id FROM playground_usage WHERE created_at >= (now() AT TIME ZONE 'UTC')::date - 6 AND package_id IS NOT NULL
                      GROUP BY package_id
                      HAVING count(*) > (SELECT count(*) FROM playground_usage WHERE package_id = $1
                                         AND created_at >= (now() AT TIME ZONE 'UTC')::date - 6)) x
                    """, [package.id])
                #expect(stats.popularityRank.map(String.init) == expected, "\(package.name)")
            }
            let month = try await client.get("/api/v1/analytics/popular?days=30&limit=100").json(PopularPackages.self)
            let ourMonth = month.packages.filter { [top.id, second.id, old.id].contains($0.id) }
            #expect(ourMonth.map(\.name) == [top.name, old.name, second.name])
            #expect(ourMonth.map(\.uniqueUsers) == [1, 2, 3])

            for bad in ["?limit=0", "?limit=101", "?limit=x", "?days=0", "?days=366"] {
                let response = try await client.get("/api/v1/analytics/popular\(bad)")
                #expect(response.status == .badRequest, "\(bad)")
            }
        }
    }

    @Test func summaryCountsTheWholeSite() async throws {
        try await withApp { client, deps in
            try await Self.forgetSiteAnswers(deps)
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("summary")
            let package = try await f.package("summary")
            try await f.usage((0..<3).map { _ in Fixture.Usage(user: user, package: package.id) })
            // All time: rows that retention folded into the archive (other tests run it) count too.
            let expected = try await [
                f.scalar("SELECT (SELECT count(*) FROM playground_usage) + (SELECT coalesce(sum(runs), 0) FROM usage_daily_archive)"),
                f.scalar("SELECT count(DISTINCT user_id) FROM playground_usage"),
                f.scalar(
                    """
                    SELECT count(*) FROM (SELECT package_id FROM playground_usage UNION SELECT package_id FROM usage_daily_archive) p
                    WHERE package_id IS NOT NULL
                    """),
            ].map { Int($0 ?? "") }
            let response = try await client.get("/api/v1/analytics/summary")
            #expect(response.status == .ok)
            let summary = try response.json(SiteSummary.self)
            #expect([summary.totalRuns, summary.uniqueUsers, summary.packagesWithRuns] == expected)
            let computed = try #require(ISO8601DateFormatter().date(from: summary.computedAt))
            #expect(abs(computed.timeIntervalSinceNow) < 600 && summary.computedAt.hasSuffix("Z"))
            // Cached: a later read is a HIT (after the fault tests, the shared Redis pool may first
            // have to replace a connection Redis closed, which the cache answers as BYPASS).
            try await TestEnvironment.eventually("the summary is served from the cache", timeout: .seconds(5)) {
                try await client.get("/api/v1/analytics/summary").cacheStatus == "HIT"
            }
        }
    }

    /// Issue 27 item 2: every `limit` of a window is one cached answer and one computation.
    /// Before: a key (and a Postgres computation) per window and limit, 36,500 per cycle.
    @Test func everyLimitOfAWindowIsOneCachedAnswer() async throws {
        try await withApp { client, deps in
            try await Self.forgetSiteAnswers(deps)
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("popular-limits")
            var rows: [Fixture.Usage] = []
            for index in 0..<5 {
                let package = try await f.package("popular-limits-\(index)")
                rows += (0...index).map { _ in Fixture.Usage(user: user, package: package.id) }
            }
            try await f.usage(rows)
            let full = try await client.get("/api/v1/analytics/popular?days=13&limit=100").json(PopularPackages.self)
            for limit in [1, 2, 3, 7, 20, 55, 99] {
                let answer = try await client.get("/api/v1/analytics/popular?days=13&limit=\(limit)")
                #expect(answer.status == .ok)
                let popular = try answer.json(PopularPackages.self)
                #expect(popular.days == 13)
                #expect(popular.packages == Array(full.packages.prefix(limit)), "limit \(limit)")
                #expect(answer.headers[.eTag] != nil)
            }
            let redis = try TestEnvironment.redis()
            defer { redis.shutdown() }
            let keys = try await redis.command("KEYS", RedisKeyspace.prefix + "popular:d13:*").array?.compactMap(\.string) ?? []
            #expect(keys == [RedisKeyspace.prefix + "popular:d13:100"])
        }
    }

    /// Issue 27 item 2: a `popular` or `summary` miss reads the fold queue beside the rollups
    /// instead of folding it first, so it never waits for a fold in progress (here: another
    /// session holds the fold's lock). Before: the miss waited for the lock until the deadline.
    @Test func aSiteWideMissNeverWaitsForTheFold() async throws {
        let replica = try await makeReplica { $0.requestTimeoutMs = 3_000 }
        try await withCleanup({ await replica.shutdown() }) {
            try await Self.forgetSiteAnswers(replica)
            let f = Fixture(postgres: replica.postgres)
            let user = try await f.user("popular-unfolded")
            let package = try await f.package("popular-unfolded")
            try await withFreshApp(replica) { client, _ in
                let locker = TestEnvironment.locker()
                defer { locker.shutdown() }
                let holding = try await TestEnvironment.holdInTransaction(locker, "SELECT pg_advisory_xact_lock(727276)", for: .milliseconds(2_500))
                // Rows that wait in the queue while the lock is held.
                try await f.usage((0..<4).map { _ in Fixture.Usage(user: user, package: package.id) })
                #expect(try await f.scalar("SELECT count(*) FROM usage_fold_queue WHERE package_id = '\(package.id)'") == "4")
                let start = ContinuousClock.now
                let popular = try await client.get("/api/v1/analytics/popular?days=2&limit=100")
                let summary = try await client.get("/api/v1/analytics/summary")
                let waited = ContinuousClock.now - start
                #expect(popular.status == .ok)
                #expect(summary.status == .ok)
                #expect(waited < .milliseconds(1_500), "the misses waited \(waited) for the fold")
                let ours = try popular.json(PopularPackages.self).packages.first { $0.id == package.id }
                #expect(ours?.runs == 4)
                #expect(ours?.uniqueUsers == 1)
                try await holding.value
            }
        }
    }
}
