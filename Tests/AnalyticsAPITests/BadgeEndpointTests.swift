import Analytics
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

@Suite("Badges", .serialized)
struct BadgeEndpointTests {
    @Test func badgesRenderFromThePackageFigures() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let package = try await f.package("badged")
            let user = try await f.user("badger")
            try await f.usage(
                (0..<1234).map { index in
                    var row = Fixture.Usage(user: user, package: package.id)
                    row.model = index % 3 == 0 ? "gpt-4o" : "claude-3-5-sonnet-20241022"
                    row.rating = index % 2 == 0 ? 5 : 4
                    row.error = index % 10 == 0
                    return row
                })
            let svg = try await client.get("/api/v1/analytics/package/\(package.id)/badge/runs.svg")
            #expect(svg.status == .ok)
            #expect(svg.headers[.contentType]?.hasPrefix("image/svg+xml") == true)
            #expect(svg.headers[.cacheControl]?.hasPrefix("public, max-age=") == true)
            #expect(svg.text.contains("1.2k times"))
            let etag = try #require(svg.headers[.eTag])
            #expect(
                try await client.get("/api/v1/analytics/package/\(package.name)/badge/runs.svg", headers: [.ifNoneMatch: etag]).status == .notModified
            )

            let json = try await client.get("/api/v1/analytics/package/\(package.id)/badge/rating.json?label=stars")
            let object = json.object
            #expect(object["schemaVersion"] as? Int == 1)
            #expect(object["label"] as? String == "stars")
            #expect(object["message"] as? String == "4.5/5")
            let model = try await client.get("/api/v1/analytics/package/\(package.id)/badge/model.json").object
            #expect(model["message"] as? String == "claude-3-5-sonnet")  // 100% success vs gpt-4o's 70%
            for style in ["flat", "flat-square", "plastic", "for-the-badge", "social"] {
                #expect(try await client.get("/api/v1/analytics/package/\(package.id)/badge/success.svg?style=\(style)").status == .ok)
            }
            // The sparkline: 30 points, today's 1234 runs at the top, the idle days before on the bottom line.
            let sparkline = try await client.get("/api/v1/analytics/package/\(package.id)/badge/sparkline.svg")
            #expect(sparkline.status == .ok)
            let points = try #require(sparkline.text.firstMatch(of: /points="([^"]*)"/)).1.split(separator: " ")
            #expect(points.count == 30)
            #expect(points.last?.hasSuffix(",4") == true && points.first?.hasSuffix(",16") == true)
            let blocks = try await client.get("/api/v1/analytics/package/\(package.id)/badge/sparkline.json").object
            #expect(blocks["message"] as? String == String(repeating: "▁", count: 29) + "█ 1.2k runs")
            let escaped = try await client.get("/api/v1/analytics/package/\(package.id)/badge/users.svg?label=%3Cscript%3E")
            #expect(!escaped.text.contains("<script>"))
            #expect(escaped.text.contains("&lt;script&gt;"))
        }
    }

    @Test func badInputGetsABadgeWithTheRightStatus() async throws {
        try await withApp { client, deps in
            let package = try await Fixture(postgres: deps.postgres).package("badge-errors")
            let missing = try await client.get("/api/v1/analytics/package/\(UUID())/badge/runs.svg")
            #expect(missing.status == .notFound)
            #expect(missing.text.contains("not found"))
            #expect(missing.headers[.contentType]?.hasPrefix("image/svg+xml") == true)
            #expect(try await client.get("/api/v1/analytics/package/\(package.id)/badge/stars.svg").status == .badRequest)
            #expect(try await client.get("/api/v1/analytics/package/\(package.id)/badge/runs.svg?style=fancy").status == .badRequest)
            #expect(try await client.get("/api/v1/analytics/package/\(package.id)/badge/runs.svg?days=0").status == .badRequest)
            #expect(try await client.get("/api/v1/analytics/package/\(package.id)/badge/runs.png").status == .notFound)
        }
    }
}
