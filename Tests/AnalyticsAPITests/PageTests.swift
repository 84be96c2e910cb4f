import Analytics
import AnalyticsAPI
import AnalyticsPages
import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import TestSupport
import Testing

@Suite("Pages", .serialized)
struct PageTests {
    @Test func homeShowsTheSameFiguresAsTheJSONAndEscapesNames() async throws {
        try await withApp { client, deps in
            try await SiteEndpointTests.forgetSiteAnswers(deps)
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("home")
            let package = try await f.package("<b>bold</b>&co")
            try await f.usage((0..<4000).map { _ in Fixture.Usage(user: user, package: package.id) })

            let page = try await client.get("/")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[.cacheControl]?.hasPrefix("public, max-age=") == true)
            let html = page.text
            #expect(html.hasPrefix("<!doctype html>") && html.contains("</html>"))
            // The figures are the JSON API's.
            let summary = try await client.get("/api/v1/analytics/summary").json(SiteSummary.self)
            for (key, value) in [
                ("totalRuns", summary.totalRuns), ("uniqueUsers", summary.uniqueUsers), ("packagesWithRuns", summary.packagesWithRuns),
            ] {
                #expect(html.contains(#"data-figure="\#(key)">\#(PageFormat.grouped(value))<"#), "\(key)")
            }
            let popular = try await client.get("/api/v1/analytics/popular?days=30&limit=10").json(PopularPackages.self)
            for entry in popular.packages { #expect(html.contains(#"data-runs="\#(entry.runs)""#)) }
            // User text is escaped, links are encoded.
            #expect(html.contains("&lt;b&gt;bold&lt;/b&gt;&amp;co"))
            #expect(!html.contains("<b>bold</b>"))
            #expect(html.contains(#"href="/packages/\#(PageFormat.pathSegment(package.name).replacingOccurrences(of: "&", with: "&amp;"))""#))
        }
    }

    @Test func numbersAreGroupedForReading() {
        #expect(PageFormat.grouped(0) == "0")
        #expect(PageFormat.grouped(999) == "999")
        #expect(PageFormat.grouped(1_247) == "1,247")
        #expect(PageFormat.grouped(1_234_567) == "1,234,567")
        #expect(PageFormat.pathSegment("@scope/name x") == "@scope%2Fname%20x")
    }
}

@Suite("Package page", .serialized)
struct PackagePageTests {
    @Test func showsTheFiguresOfThePackageAnswerWithBadgesAndCachingHeaders() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let (alice, bob) = (try await f.user("page-alice"), try await f.user("page-bob"))
            let package = try await f.package("page <pkg> & co")
            var rows: [Fixture.Usage] = []
            for index in 0..<12 {
                var row = Fixture.Usage(user: index % 3 == 0 ? bob : alice, package: package.id)
                row.version = index < 8 ? "2.0.0" : "1.5.0"
                row.rating = index < 8 ? 5 : 4
                row.model = index % 2 == 0 ? "claude-sonnet" : "gpt-4o"
                row.duration = index % 2 == 0 ? 2100 : 3000
                row.credits = 2
                row.daysAgo = index % 4
                rows.append(row)
            }
            try await f.usage(rows)
            let json = try await client.get("/api/v1/analytics/package/\(package.id)?days=30").json(PackageStats.self)
            let path = "/packages/\(PageFormat.pathSegment(package.name))"
            let page = try await client.get(path, headers: [:])
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[.cacheControl]?.hasPrefix("public, max-age=") == true)
            let html = page.text
            // The headline and the figures, computed here from the rows: 12 runs by 2 developers.
            #expect(json.totalRuns == 12 && json.uniqueUsers == 2)
            #expect(html.contains(#"data-figure="headline">Tested 12 times by 2 developers<"#))
            #expect(html.contains(#"data-figure="totalRuns">12<"#))
            #expect(html.contains(#"data-figure="avgRating">\#(PageFormat.decimal(json.avgRating!))<"#))
            #expect(html.contains(#"data-figure="avgCost">2<"#))
            #expect(html.contains(#"data-figure="popularityRank">#\#(json.popularityRank!)<"#))
            // (5 − 4) / 4 = 25 % better ratings for the newer version.
            #expect(html.contains(#"data-figure="versionInsight">v2.0.0 has 25% better ratings than v1.5.0<"#))
            #expect(html.contains("Best on \(json.bestModel!.model) (\(PageFormat.duration(milliseconds: json.bestModel!.avg_duration)) avg)"))
            // One chart point per day of the window, with the answer's runs.
            let points = html.components(separatedBy: "data-value=").count - 1
            #expect(points >= 30)
            for day in json.dailyUsage.suffix(4) { #expect(html.contains(#"data-label="\#(day.date)" data-value="\#(day.runs)""#)) }
            // Every badge, with a Markdown snippet (relative without PUBLIC_BASE_URL, never the request's host).
            for metric in PackagePage.badgeMetrics {
                #expect(html.contains("/badge/\(metric).svg"))
                #expect(html.contains("[![\(metric)](/api/v1/analytics/package/"))
            }
            // The package's name is escaped everywhere.
            #expect(html.contains("page &lt;pkg&gt; &amp; co") && !html.contains("page <pkg>"))

            // A strong ETag from the answer it shows: a 304 for the same answer, another tag for another window.
            let etag = try #require(page.headers[.eTag])
            let again = try await client.get(path, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified && again.body.readableBytes == 0)
            let week = try await client.get(path + "?days=7", headers: [:])
            #expect(week.status == .ok && week.headers[.eTag] != etag)
        }
    }

    @Test func unknownPackagesAndBadWindowsAreErrorPages() async throws {
        try await withApp { client, deps in
            let missing = try await client.get("/packages/no-such-package-\(UUID())")
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "text/html; charset=utf-8")
            #expect(missing.text.contains("<h1>Not found</h1>"))
            let f = Fixture(postgres: deps.postgres)
            let package = try await f.package("page-bad-days")
            for bad in ["0", "366", "abc", "1.5"] {
                let response = try await client.get("/packages/\(package.name)?days=\(bad)")
                #expect(response.status == .badRequest, "\(bad)")
                #expect(response.text.contains("days must be an integer from 1 to 365") || response.text.contains("Days must be"))
            }
        }
    }

    /// A page view costs what the JSON reads it shows cost: counted in Postgres statements,
    /// from a cold cache for both.
    @Test func aPageMakesNoMorePostgresQueriesThanItsJSONReads() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let user = try await f.user("page-queries")
            let package = try await f.package("page-queries")
            try await f.usage((0..<5).map { _ in Fixture.Usage(user: user, package: package.id) })
            let token = try await Tokens.sign(user: user)
            let redis = try TestEnvironment.redis()
            defer { redis.shutdown() }
            func statements(_ body: () async throws -> Void) async throws -> Int {
                _ = try await redis.command("FLUSHDB")
                let before = PostgresStatistics.statements.load(ordering: .relaxed)
                try await body()
                return PostgresStatistics.statements.load(ordering: .relaxed) - before
            }
            let cases: [(page: String, json: [String])] = [
                ("/packages/\(package.name)", ["/api/v1/analytics/package/\(package.name)?days=30"]),
                ("/", ["/api/v1/analytics/summary", "/api/v1/analytics/trending?limit=10", "/api/v1/analytics/popular?days=30&limit=10"]),
                ("/me?days=30", ["/api/v1/analytics/user/me?days=30"]),
            ]
            for (page, reads) in cases {
                // Both start with the same process-local memos (package names, rankings) and an empty Redis.
                for uri in [page] + reads { _ = try await client.get(uri, headers: Tokens.bearer(token)) }
                let jsonCost = try await statements {
                    for read in reads {
                        let status = try await client.get(read, headers: Tokens.bearer(token)).status
                        #expect(status == .ok, "\(read)")
                    }
                }
                let pageCost = try await statements {
                    let status = try await client.get(page, headers: Tokens.bearer(token)).status
                    #expect(status == .ok, "\(page)")
                }
                #expect(jsonCost > 0, "\(page): the cold JSON reads reach Postgres")
                #expect(pageCost <= jsonCost, "\(page): \(pageCost) statements for the page, \(jsonCost) for its JSON")
            }
        }
    }
}
