import Foundation
import Postgres

/// An organization's figures: usage rows whose org_id is the organization.
extension AnalyticsQueries {
    /// The organization when `userId` is one of its owners or admins; otherwise (not a
    /// member, a lower role, or no such organization) `organizationForbidden`.
    public func authorizeOrganizationAdmin(orgId: UUID, userId: UUID) async throws -> OrganizationRef {
        let rows = try await run(
            """
            SELECT o.id, o.name FROM organizations o
            JOIN organization_members m ON m.org_id = o.id
            WHERE o.id = $1 AND m.user_id = $2 AND m.role IN ('owner', 'admin')
            """, [orgId, userId])
        guard let row = rows.first else { throw AnalyticsError.organizationForbidden }
        return OrganizationRef(id: try row.decode("id"), name: try row.decode("name"))
    }

    public func organizationStats(_ org: OrganizationRef, window: AnalyticsWindow) async throws -> OrganizationStats {
        let start = window.startTimestamp
        let id = org.id
        let rows = try await postgres.withConnection(retryOnBrokenConnection: true) { c in
            try c.query(AnalyticsSQL.Organization.answer, [id, start], prepare: true)
        }
        let t = rows.ofKind("t").first!  // an aggregate without GROUP BY: always one row
        let runs: Int = try t.decode("runs")
        var byDay: [String: OrganizationStats.Day] = [:]
        for row in rows.ofKind("d") {
            let date: String = try row.decode("key")
            byDay[date] = OrganizationStats.Day(
                date: date, runs: try row.decode("runs"), active_members: try row.decode("users"), credits: try row.decode("credits"))
        }
        return OrganizationStats(
            orgId: org.id, orgName: org.name, days: window.days, totalRuns: runs, activeMembers: try t.decode("users"),
            totalMembers: try t.decode("total_members"), totalCredits: try t.decode("credits"), totalTokens: try t.decode("tokens"),
            avgDuration: Rounding.average(try t.decode("duration_sum"), runs),
            memberActivity: try rows.ofKind("m").map { row in
                OrganizationStats.Member(
                    user_id: try row.decode("key"), username: try row.decode("name"), runs: try row.decode("runs"),
                    credits_spent: try row.decode("credits"), last_active: Timestamp.iso8601(try row.decode("at", as: Date.self)),
                    team: try row.decode("team"), credits_usd: prices.creditsUsd(try row.decode("credits")))
            },
            topPackages: try rows.ofKind("p").map { row in
                OrganizationStats.TopPackage(
                    id: try row.decode("key"), name: try row.decode("name"), runs: try row.decode("runs"),
                    unique_users: try row.decode("users"),
                    avg_rating: Rounding.averageOneDecimal(try row.decode("rating_sum"), try row.decode("rating_count")))
            },
            dailyUsage: window.dates.map { byDay[$0] ?? OrganizationStats.Day(date: $0, runs: 0, active_members: 0, credits: 0) },
            teamAllocation: try rows.ofKind("g").map { row in
                OrganizationStats.Team(
                    team: try row.decode("key"), credits: try row.decode("credits"), runs: try row.decode("runs"),
                    credits_usd: prices.creditsUsd(try row.decode("credits")))
            },
            money: OrganizationMoney(runs: runs, billedMembers: try t.decode("billed"), months: .window(days: window.days), prices: prices))
    }
}
