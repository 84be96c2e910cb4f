import Analytics
import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import TestSupport
import Testing

/// The package figures computed here from the rows the test inserted (no SQL), to compare with the API.
struct ReferencePackage {
    let rows: [Fixture.Usage]
    let days: Int

    var window: [Fixture.Usage] { rows.filter { $0.daysAgo <= days - 1 && $0.daysAgo >= 0 } }

    func rounded(_ sum: Int, _ count: Int) -> Int? {
        count == 0 ? nil : Int((Double(sum) / Double(count)).rounded(.toNearestOrAwayFromZero))
    }

    func oneDecimal(_ value: Double) -> Double { (value * 10).rounded(.toNearestOrAwayFromZero) / 10 }

    var totalRuns: Int { window.count }
    var uniqueUsers: Int { Set(window.map(\.user)).count }
    var successRate: Double? {
        window.isEmpty ? nil : oneDecimal(Double(window.filter { $0.error != true }.count) * 100 / Double(window.count))
    }
    var avgDuration: Int? { rounded(window.map(\.duration).reduce(0, +), window.count) }
    var avgTokens: Int? { rounded(window.map(\.tokens).reduce(0, +), window.count) }
    var avgRating: Double? {
        let ratings = window.compactMap(\.rating)
        return ratings.isEmpty ? nil : oneDecimal(Double(ratings.reduce(0, +)) / Double(ratings.count))
    }
    var models: [(String, Int, Int, Double)] {
        Dictionary(grouping: window, by: \.model).map { model, rows in
            (
                model, rows.count, rounded(rows.map(\.duration).reduce(0, +), rows.count)!,
                oneDecimal(Double(rows.filter { $0.error != true }.count) * 100 / Double(rows.count))
            )
        }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
    }
    var daily: [(Int, Int)] {
        (0..<days).reversed().map { ago in
            let rows = window.filter { $0.daysAgo == ago }
            return (rows.count, Set(rows.map(\.user)).count)
        }
    }
}

@Suite("GET /package/:id", .serialized)
struct PackageEndpointTests {
    @Test func figuresMatchAnIndependentComputation() async throws {
        try await withApp { client, deps in
            let fixture = Fixture(postgres: deps.postgres)
            let package = try await fixture.package("code-reviewer")
            let (u1, u2, u3) = (try await fixture.user("u1"), try await fixture.user("u2"), try await fixture.user("u3"))
            var rows: [Fixture.Usage] = []
            func add(
                _ user: UUID, _ model: String, _ version: String?, duration: Int, tokens: Int, error: Bool?, rating: Int?, daysAgo: Int,
                hour: Int = 12
            ) {
                var row = Fixture.Usage(user: user, package: package.id)
                row.model = model
                row.version = version
                row.duration = duration
                row.tokens = tokens
                row.error = error
                row.rating = rating
                row.daysAgo = daysAgo
                row.hour = hour
                rows.append(row)
            }
            add(u1, "gpt-4o", "1.10.0", duration: 1000, tokens: 100, error: false, rating: 5, daysAgo: 0)
            add(u2, "claude-3-5-sonnet-20241022", "1.9.0", duration: 2001, tokens: 301, error: nil, rating: nil, daysAgo: 0)  // NULL error = success
            add(u1, "gpt-4o", "1.9.0", duration: 1500, tokens: 200, error: true, rating: 4, daysAgo: 2)
            add(u3, "claude-3-5-sonnet-20241022", "2.0.0-beta.1", duration: 3000, tokens: 50, error: false, rating: 4, daysAgo: 6, hour: 0)
            add(u3, "gpt-4o-mini", nil, duration: 999, tokens: 10, error: false, rating: 1, daysAgo: 7, hour: 23)  // just outside days=7
            try await fixture.usage(rows)

            let response = try await client.get("/api/v1/analytics/package/\(package.id)?days=7")
            #expect(response.status == .ok)
            let stats = try response.json(PackageStats.self)
            let expected = ReferencePackage(rows: rows, days: 7)
            #expect(stats.packageId == package.id)
            #expect(stats.packageName == package.name)
            #expect(stats.days == 7)
            #expect(stats.totalRuns == expected.totalRuns)
            #expect(stats.totalRuns == 4)
            #expect(stats.uniqueUsers == expected.uniqueUsers)
            #expect(stats.successRate == expected.successRate)
            #expect(stats.successRate == 75)
            #expect(stats.avgDuration == expected.avgDuration)
            #expect(stats.avgTokens == expected.avgTokens)
            #expect(stats.avgRating == expected.avgRating)
            #expect(stats.avgRating == 4.3)
            // Ties (2 runs each) break by model name ascending.
            #expect(stats.modelBreakdown.map(\.model) == expected.models.map(\.0))
            #expect(stats.modelBreakdown.map(\.runs) == expected.models.map(\.1))
            #expect(stats.modelBreakdown.map(\.avg_duration) == expected.models.map(\.2))
            #expect(stats.modelBreakdown.map(\.success_rate) == expected.models.map(\.3))
            #expect(stats.versionBreakdown.map(\.package_version) == ["2.0.0-beta.1", "1.10.0", "1.9.0"])
            #expect(stats.versionBreakdown.map(\.avg_rating) == [4, 5, 4])
            #expect(stats.dailyUsage.count == 7)
            #expect(stats.dailyUsage.map(\.runs) == expected.daily.map(\.0))
            #expect(stats.dailyUsage.map(\.unique_users) == expected.daily.map(\.1))
            #expect(stats.dailyUsage.last?.date == AnalyticsWindow(days: 7).dates.last)
            #expect(stats.weekOverWeek == nil)

            // days=8 reaches the row of 7 days ago; a name resolves to the same package.
            let wider = try await client.get("/api/v1/analytics/package/\(package.name)?days=8").json(PackageStats.self)
            #expect(wider.totalRuns == ReferencePackage(rows: rows, days: 8).totalRuns)
            #expect(wider.uniqueUsers == 3)
            #expect(wider.packageId == package.id)
        }
    }

    /// Issue 11, item 8: names with `@`, `/`, spaces and non-ASCII letters arrive
    /// percent-encoded in the path and are found.
    @Test func percentEncodedNamesAreDecoded() async throws {
        try await withApp { client, deps in
            let package = try await Fixture(postgres: deps.postgres).package("@scope/my prompt é")
            let encoded = try #require(package.name.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
            #expect(encoded.contains("%2F") && encoded.contains("%20") && encoded.contains("%40"))
            let read = try await client.get("/api/v1/analytics/package/\(encoded)")
            #expect(read.status == .ok)
            #expect(try read.json(PackageStats.self).packageName == package.name)
            let badge = try await client.get("/api/v1/analytics/package/\(encoded)/badge/runs.svg")
            #expect(badge.status == .ok)
            // Not valid percent-encoding: taken as sent, and no package has that name.
            #expect(try await client.get("/api/v1/analytics/package/%ZZ").status == .notFound)
        }
    }

    @Test func costHelpfulnessAndBestModelFollowTheRowsAndTheirChanges() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let package = try await f.package("page-figures")
            let user = try await f.user("page-figures")
            // 7 runs: credits 1…7; sonnet 5 runs (1 error), gpt-4o 2 runs; helpful yes, yes, no, 4 unanswered.
            let rows: [Fixture.Usage] = (1...7).map { index in
                var row = Fixture.Usage(user: user, package: package.id)
                row.credits = index
                row.model = index <= 5 ? "claude-sonnet" : "gpt-4o"
                row.duration = index <= 5 ? 2000 : 1000
                row.error = index == 1
                row.daysAgo = index % 3
                return row
            }
            let ids = try await f.usage(rows)
            try await f.exec("UPDATE playground_usage SET was_helpful = true WHERE id = ANY($1::uuid[])", [PostgresArray([ids[0], ids[1]])])
            try await f.exec("UPDATE playground_usage SET was_helpful = false WHERE id = $1", [ids[2]])
            var stats = try await client.get("/api/v1/analytics/package/\(package.id)").json(PackageStats.self)
            #expect(stats.avgCost == 4)  // 28 credits / 7 runs
            #expect(stats.helpfulRate == 66.7)  // 2 of 3 answers
            // gpt-4o: 2 of 7 runs (≥ 10 %), 100 % success beats sonnet's 80 %.
            #expect(stats.bestModel == PackageStats.BestModel(model: "gpt-4o", avg_duration: 1000, success_rate: 100))

            // A row moved out, a credit changed, an answer withdrawn: the figures follow.
            try await f.exec("DELETE FROM playground_usage WHERE id = $1", [ids[6]])  // gpt-4o, 7 credits
            try await f.exec("UPDATE playground_usage SET credits_spent = 10, was_helpful = NULL WHERE id = $1", [ids[0]])
            stats = try await client.get("/api/v1/analytics/package/\(package.id)?days=7").json(PackageStats.self)
            #expect(stats.avgCost == 5)  // (28 - 7 + 9) / 6: row 7 gone, 10 credits instead of 1
            #expect(stats.helpfulRate == 50)  // 1 of 2 answers
            #expect(stats.bestModel?.model == "gpt-4o")  // 1 of 6 runs, still ≥ 10 %
        }
    }

    @Test func emptyWindowGivesNullsAndZeroFilledDays() async throws {
        try await withApp { client, deps in
            let fixture = Fixture(postgres: deps.postgres)
            let package = try await fixture.package("unused")
            let response = try await client.get("/api/v1/analytics/package/\(package.id)")
            #expect(response.status == .ok)
            let object = response.object
            for key in [
                "successRate", "avgDuration", "avgTokens", "avgRating", "weekOverWeek", "avgCost", "helpfulRate", "bestModel", "popularityRank",
            ] {
                #expect(object[key] is NSNull, "\(key) must be null")
            }
            let stats = try response.json(PackageStats.self)
            #expect(stats.totalRuns == 0)
            #expect(stats.days == 30)
            #expect(stats.dailyUsage.count == 30)
            #expect(stats.dailyUsage.allSatisfy { $0.runs == 0 && $0.unique_users == 0 })
            #expect(stats.modelBreakdown.isEmpty && stats.versionBreakdown.isEmpty)
        }
    }

    @Test func atMostTenVersionsInSemanticOrder() async throws {
        try await withApp { client, deps in
            let fixture = Fixture(postgres: deps.postgres)
            let package = try await fixture.package("many-versions")
            let user = try await fixture.user("v")
            let versions = ["1.9.0", "1.10.0", "1.2.0", "1.11.0", "0.1.0", "2.0.0", "2.0.0-rc.1", "1.0.0", "1.0.1", "3.0.0", "10.0.0", "weird"]
            try await fixture.usage(
                versions.map { version in
                    var row = Fixture.Usage(user: user, package: package.id)
                    row.version = version
                    return row
                })
            let stats = try await client.get("/api/v1/analytics/package/\(package.id)").json(PackageStats.self)
            #expect(
                stats.versionBreakdown.map(\.package_version)
                    == ["10.0.0", "3.0.0", "2.0.0", "2.0.0-rc.1", "1.11.0", "1.10.0", "1.9.0", "1.2.0", "1.0.1", "1.0.0"])
        }
    }

    @Test func unknownAndMalformedIdsAre404() async throws {
        try await withApp { client, _ in
            for id in [UUID().uuidString, "no-such-package-\(UUID().uuidString)", "%20", "not a uuid"] {
                let escaped = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id
                let response = try await client.get("/api/v1/analytics/package/\(escaped)")
                #expect(response.status == .notFound, "\(id)")
                #expect(response.errorCode == "not_found")
            }
        }
    }

    @Test(arguments: ["0", "366", "abc", "1.5", "", "-3"])
    func badDaysIs400OnEveryReadEndpoint(days: String) async throws {
        try await withApp { client, deps in
            let fixture = Fixture(postgres: deps.postgres)
            let package = try await fixture.package("days")
            let user = try await fixture.user("days")
            let org = try await fixture.organization("days")
            try await fixture.member(org: org, user: user, role: "owner")
            let auth = Tokens.bearer(try await Tokens.sign(user: user))
            for uri in ["/api/v1/analytics/package/\(package.id)", "/api/v1/analytics/user/me", "/api/v1/analytics/organization/\(org)"] {
                let response = try await client.get("\(uri)?days=\(days)", headers: auth)
                #expect(response.status == .badRequest, "\(uri) days=\(days)")
                #expect(response.errorCode == "invalid_days")
            }
        }
    }

    @Test func cacheHeadersETagAnd304() async throws {
        try await withApp { client, deps in
            let fixture = Fixture(postgres: deps.postgres)
            let package = try await fixture.package("cached")
            let first = try await client.get("/api/v1/analytics/package/\(package.id)?days=5")
            #expect(first.headers[HTTPField.Name("X-Cache")!] == "MISS")
            let etag = try #require(first.headers[.eTag])
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))
            #expect(first.headers[.cacheControl]?.hasPrefix("public, max-age=") == true)
            let second = try await client.get("/api/v1/analytics/package/\(package.name)?days=5")
            #expect(second.headers[HTTPField.Name("X-Cache")!] == "HIT")
            #expect(second.headers[.eTag] == etag)
            #expect(second.body == first.body)
            let notModified = try await client.get("/api/v1/analytics/package/\(package.id)?days=5", headers: [.ifNoneMatch: etag])
            #expect(notModified.status == .notModified)
            #expect(notModified.body.readableBytes == 0)
            let changed = try await client.get("/api/v1/analytics/package/\(package.id)?days=5", headers: [.ifNoneMatch: "\"other\""])
            #expect(changed.status == .ok)
        }
    }
}

/// Issue 14 item 5: public answers, badges and public pages are ready for shared caches and CDNs.
@Suite("CDN-ready public responses", .serialized)
struct CDNReadyResponseTests {
    @Test func publicResponsesCarryLifetimeAgeAndStaleDirectives() async throws {
        let replica = try await makeReplica { config in
            config.cache.packageTTL = 30
            config.cache.staleGrace = 45
            config.cache.outageRetention = 900
        }
        try await withCleanup({ await replica.shutdown() }) {
            let f = Fixture(postgres: replica.postgres)
            let package = try await f.package("cdn")
            try await f.usage([Fixture.Usage(user: try await f.user("cdn"), package: package.id)])
            try await withFreshApp(replica) { client, _ in
                let paths = [
                    "/api/v1/analytics/package/\(package.id)", "/api/v1/analytics/package/\(package.id)/badge/runs.svg",
                    "/api/v1/analytics/package/\(package.id)/badge/users.json", "/packages/\(package.name)",
                ]
                for path in paths { _ = try await client.get(path) }
                try await Task.sleep(for: .milliseconds(1100))
                for path in paths {
                    let response = try await client.get(path)
                    let directives = response.cacheDirectives
                    #expect(directives.keys.contains("public"), "\(path)")
                    // max-age counts from the computation, and Age says how long ago that was: what is
                    // left is the entry's own freshness (TTL 30 s, computed at least a second ago).
                    let maxAge = try #require(directives["max-age"] ?? nil, "\(path)")
                    #expect(directives["s-maxage"] == maxAge, "\(path)")
                    let age = try #require(response.headers[.age].flatMap(Int.init), "\(path)")
                    #expect(age >= 2 && maxAge == 30, "\(path): max-age \(maxAge), Age \(age) (rounded up)")
                    #expect(response.freshSecondsLeft.map { (1...29).contains($0) } == true, "\(path)")
                    #expect(directives["stale-while-revalidate"] == 45 && directives["stale-if-error"] == 900, "\(path)")
                    // A 304 repeats them (a CDN refreshes its copy's lifetime from it).
                    let etag = try #require(response.headers[.eTag])
                    let notModified = try await client.get(path, headers: [.ifNoneMatch: etag])
                    #expect(notModified.status == .notModified, "\(path)")
                    #expect(notModified.headers[.cacheControl] == response.headers[.cacheControl], "\(path)")
                    #expect(notModified.headers[.age] != nil, "\(path)")
                }
                // Personal answers stay out of every shared cache.
                let token = try await Tokens.sign(user: try await f.user("cdn-private"))
                let me = try await client.get("/api/v1/analytics/user/me", headers: Tokens.bearer(token))
                #expect(me.headers[.cacheControl] == "private, no-store" && me.headers[.age] == nil)
            }
        }
    }

    @Test func aNotFoundBadgeWithAnETagAnswersIfNoneMatch() async throws {
        try await withApp { client, _ in
            for file in ["runs.svg", "users.json"] {
                let path = "/api/v1/analytics/package/no-such-package-\(UUID())/badge/\(file)"
                let missing = try await client.get(path)
                #expect(missing.status == .notFound)
                let etag = try #require(missing.headers[.eTag])
                let again = try await client.get(path, headers: [.ifNoneMatch: etag])
                #expect(again.status == .notModified && again.body.readableBytes == 0, "\(file)")
                #expect(try await client.get(path, headers: [.ifNoneMatch: "\"other\""]).status == .notFound)
            }
        }
    }
}
