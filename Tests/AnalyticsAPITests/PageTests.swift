import Analytics
import AnalyticsAPI
import AnalyticsPages
import Foundation
import HTTPTypes
import HummingbirdTesting
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
