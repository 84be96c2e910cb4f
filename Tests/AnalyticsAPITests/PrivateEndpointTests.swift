import Analytics
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

@Suite("GET /user/me and /organization/:id", .serialized)
struct PrivateEndpointTests {
    @Test func userSeesOnlyTheirOwnFigures() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let (alice, bob) = (try await f.user("alice"), try await f.user("bob"))
            let (p1, p2) = (try await f.package("seo-optimizer"), try await f.package("bug-finder"))
            var rows: [Fixture.Usage] = []
            for (package, model, credits, duration, rating, daysAgo) in [
                (p1.id, "gpt-4o", 2, 1000, 5, 0), (p1.id, "gpt-4o", 2, 2000, 4, 1), (p2.id, "claude-3-haiku-20240307", 1, 500, 3, 1),
                (p2.id, "claude-3-haiku-20240307", 1, 700, 0, 3), (p1.id, "claude-3-haiku-20240307", 1, 900, 0, 40),
            ] {
                var row = Fixture.Usage(user: alice, package: package)
                row.model = model
                row.credits = credits
                row.duration = duration
                row.tokens = duration / 10
                row.rating = rating == 0 ? nil : rating
                row.daysAgo = daysAgo
                rows.append(row)
            }
            var bobsRow = Fixture.Usage(user: bob, package: p1.id)
            bobsRow.credits = 50
            try await f.usage(rows + [bobsRow])

            let response = try await client.get("/api/v1/analytics/user/me?days=7", headers: Tokens.bearer(try await Tokens.sign(user: alice)))
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "private, no-store")
            #expect(response.headers[.eTag] == nil)
            let me = try response.json(UserStats.self)
            let inWindow = rows.filter { $0.daysAgo < 7 }
            #expect(me.userId == alice)
            #expect(me.totalRuns == inWindow.count)
            #expect(me.creditsSpent == inWindow.map(\.credits).reduce(0, +))
            #expect(me.totalTokens == inWindow.map(\.tokens).reduce(0, +))
            #expect(me.avgResponseTime == Int((Double(inWindow.map(\.duration).reduce(0, +)) / 4).rounded(.toNearestOrAwayFromZero)))
            // 2 runs each: ties break by model name.
            #expect(me.modelUsage.map(\.model) == ["claude-3-haiku-20240307", "gpt-4o"])
            #expect(me.modelUsage.map(\.credits) == [2, 4])
            #expect(me.mostUsedModel == "claude-3-haiku-20240307")
            #expect(me.topPackages.map(\.name) == [p2.name, p1.name].sorted())
            #expect(me.mostTestedPackage == [p2.name, p1.name].sorted().first)
            let seo = try #require(me.topPackages.first { $0.id == p1.id })
            #expect(seo.runs == 2 && seo.credits == 4 && seo.avg_rating == 4.5)
            #expect(me.dailyActivity.count == 7)
            #expect(me.dailyActivity.map(\.runs) == [0, 0, 0, 1, 0, 2, 1])

            // Bob's token never shows Alice's figures, even with her entry cached.
            let bobs = try await client.get("/api/v1/analytics/user/me?days=7", headers: Tokens.bearer(try await Tokens.sign(user: bob)))
                .json(UserStats.self)
            #expect(bobs.userId == bob)
            #expect(bobs.totalRuns == 1 && bobs.creditsSpent == 50)
        }
    }

    @Test func userWithNoRunsGetsNulls() async throws {
        try await withApp { client, deps in
            let user = try await Fixture(postgres: deps.postgres).user("idle")
            let response = try await client.get("/api/v1/analytics/user/me", headers: Tokens.bearer(try await Tokens.sign(user: user)))
            let object = response.object
            for key in ["mostUsedModel", "mostTestedPackage", "avgResponseTime"] { #expect(object[key] is NSNull, "\(key)") }
            #expect(try response.json(UserStats.self).dailyActivity.count == 30)
        }
    }

    @Test func organizationFiguresAndRules() async throws {
        try await withApp { client, deps in
            let f = Fixture(postgres: deps.postgres)
            let (org, other) = (try await f.organization("acme"), try await f.organization("globex"))
            let owner = try await f.user("owner")
            let admin = try await f.user("admin")
            let dev = try await f.user("dev")
            let maintainer = try await f.user("maintainer")
            let outsider = try await f.user("outsider")
            let otherAdmin = try await f.user("other-admin")
            try await f.member(org: org, user: owner, role: "owner", team: "backend")
            try await f.member(org: org, user: admin, role: "admin", team: "frontend")
            try await f.member(org: org, user: dev, role: "member", team: nil)
            try await f.member(org: org, user: maintainer, role: "maintainer", team: "frontend")
            try await f.member(org: other, user: otherAdmin, role: "admin")
            try await f.member(org: other, user: dev, role: "member")  // dev belongs to two orgs
            let package = try await f.package("code-reviewer")
            func row(_ user: UUID, org: UUID?, credits: Int, daysAgo: Int, hour: Int = 10) -> Fixture.Usage {
                var row = Fixture.Usage(user: user, package: package.id, org: org)
                row.credits = credits
                row.daysAgo = daysAgo
                row.hour = hour
                row.duration = 100 * credits
                return row
            }
            try await f.usage([
                row(owner, org: org, credits: 3, daysAgo: 0, hour: 1), row(owner, org: org, credits: 1, daysAgo: 1),
                row(dev, org: org, credits: 2, daysAgo: 0, hour: 2), row(dev, org: org, credits: 2, daysAgo: 2),
                row(dev, org: other, credits: 9, daysAgo: 0),  // counts for the other org only
                row(outsider, org: org, credits: 4, daysAgo: 1),  // a row tagged with the org by a non-member: "unassigned"
                row(admin, org: org, credits: 5, daysAgo: 20),  // outside days=7
            ])

            for (user, expected) in [
                (owner, HTTPResponse.Status.ok), (admin, .ok), (dev, .forbidden), (maintainer, .forbidden), (otherAdmin, .forbidden),
            ] {
                let response = try await client.get(
                    "/api/v1/analytics/organization/\(org)?days=7", headers: Tokens.bearer(try await Tokens.sign(user: user)))
                #expect(response.status == expected)
                if expected == .forbidden { #expect(response.errorCode == "forbidden") }
            }
            let unknown = try await client.get("/api/v1/analytics/organization/\(UUID())", headers: Tokens.bearer(try await Tokens.sign(user: owner)))
            #expect(unknown.status == .forbidden)
            let malformed = try await client.get("/api/v1/analytics/organization/nope", headers: Tokens.bearer(try await Tokens.sign(user: owner)))
            #expect(malformed.status == .forbidden)
            let anonymous = try await client.get("/api/v1/analytics/organization/\(org)")
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")

            let response = try await client.get(
                "/api/v1/analytics/organization/\(org)?days=7", headers: Tokens.bearer(try await Tokens.sign(user: admin)))
            #expect(response.headers[.cacheControl] == "private, no-store")
            let stats = try response.json(OrganizationStats.self)
            #expect(stats.orgId == org)
            #expect(stats.totalRuns == 5)
            #expect(stats.activeMembers == 3)
            #expect(stats.totalMembers == 4)
            #expect(stats.totalCredits == 12)
            #expect(stats.avgDuration == 240)
            // owner 2 runs, dev 2 runs → tie by username; outsider 1.
            #expect(stats.memberActivity.map(\.user_id) == [dev, owner, outsider])
            #expect(stats.memberActivity.map(\.credits_spent) == [4, 4, 4])
            let ownerActivity = try #require(stats.memberActivity.first { $0.user_id == owner })
            #expect(ownerActivity.last_active == Timestamp.iso8601(Fixture.timestamp(daysAgo: 0, hour: 1)))
            #expect(ownerActivity.last_active.hasSuffix("Z"))
            #expect(stats.topPackages.count == 1)
            #expect(stats.topPackages[0].unique_users == 3)
            #expect(stats.dailyUsage.count == 7)
            #expect(stats.dailyUsage.last?.runs == 2 && stats.dailyUsage.last?.active_members == 2 && stats.dailyUsage.last?.credits == 5)
            // credits: backend 4 (owner), unassigned 4+4 (dev has no team, outsider is not a member).
            #expect(stats.teamAllocation.map(\.team) == ["unassigned", "backend"])
            #expect(stats.teamAllocation.map(\.credits) == [8, 4])
            #expect(stats.teamAllocation.map(\.runs) == [3, 2])
        }
    }
}
