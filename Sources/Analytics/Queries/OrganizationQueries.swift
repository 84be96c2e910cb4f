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
        let (totals, members, packages, daily, teams) = try await postgres.withConnection(retryOnBrokenConnection: true) { connection in
            try connection.readOnlySnapshot { c in
                (
                    try c.query(
                        """
                        SELECT count(*) AS runs, count(DISTINCT user_id) AS active, coalesce(sum(credits_spent), 0) AS credits,
                               coalesce(sum(tokens_used), 0) AS tokens, coalesce(sum(duration_ms), 0) AS duration_sum,
                               (SELECT count(*) FROM organization_members WHERE org_id = $1) AS total_members
                        FROM playground_usage WHERE org_id = $1 AND created_at >= $2::timestamptz
                        """, [id, start], prepare: true),
                    try c.query(
                        """
                        SELECT a.user_id, u.username, a.runs, a.credits, a.last_active
                        FROM (SELECT user_id, count(*) AS runs, sum(credits_spent) AS credits, max(created_at) AS last_active
                              FROM playground_usage WHERE org_id = $1 AND created_at >= $2::timestamptz GROUP BY user_id) a
                        JOIN users u ON u.id = a.user_id
                        ORDER BY a.runs DESC, u.username ASC
                        """, [id, start], prepare: true),
                    try c.query(
                        """
                        SELECT a.package_id AS id, p.name, a.runs, a.users, a.rating_sum, a.rating_count
                        FROM (SELECT package_id, count(*) AS runs, count(DISTINCT user_id) AS users,
                                     coalesce(sum(user_rating), 0) AS rating_sum, count(user_rating) AS rating_count
                              FROM playground_usage WHERE org_id = $1 AND created_at >= $2::timestamptz AND package_id IS NOT NULL
                              GROUP BY package_id) a
                        JOIN packages p ON p.id = a.package_id
                        ORDER BY a.runs DESC, p.name ASC LIMIT 10
                        """, [id, start], prepare: true),
                    try c.query(
                        """
                        SELECT utc_day(created_at)::text AS day, count(*) AS runs, count(DISTINCT user_id) AS active,
                               sum(credits_spent) AS credits
                        FROM playground_usage WHERE org_id = $1 AND created_at >= $2::timestamptz GROUP BY 1
                        """, [id, start], prepare: true),
                    try c.query(
                        """
                        SELECT coalesce(m.team, 'unassigned') AS team, sum(u.credits_spent) AS credits, count(*) AS runs
                        FROM playground_usage u
                        LEFT JOIN organization_members m ON m.org_id = u.org_id AND m.user_id = u.user_id
                        WHERE u.org_id = $1 AND u.created_at >= $2::timestamptz
                        GROUP BY 1 ORDER BY 2 DESC, 1 ASC
                        """, [id, start], prepare: true)
                )
            }
        }
        let t = totals.first!
        let runs: Int = try t.decode("runs")
        var byDay: [String: OrganizationStats.Day] = [:]
        for row in daily {
            let date: String = try row.decode("day")
            byDay[date] = OrganizationStats.Day(
                date: date, runs: try row.decode("runs"), active_members: try row.decode("active"), credits: try row.decode("credits"))
        }
        return OrganizationStats(
            orgId: org.id, orgName: org.name, days: window.days, totalRuns: runs, activeMembers: try t.decode("active"),
            totalMembers: try t.decode("total_members"), totalCredits: try t.decode("credits"), totalTokens: try t.decode("tokens"),
            avgDuration: Rounding.average(try t.decode("duration_sum"), runs),
            memberActivity: try members.map { row in
                OrganizationStats.Member(
                    user_id: try row.decode("user_id"), username: try row.decode("username"), runs: try row.decode("runs"),
                    credits_spent: try row.decode("credits"), last_active: Timestamp.iso8601(try row.decode("last_active", as: Date.self)))
            },
            topPackages: try packages.map { row in
                OrganizationStats.TopPackage(
                    id: try row.decode("id"), name: try row.decode("name"), runs: try row.decode("runs"),
                    unique_users: try row.decode("users"),
                    avg_rating: Rounding.averageOneDecimal(try row.decode("rating_sum"), try row.decode("rating_count")))
            },
            dailyUsage: window.dates.map { byDay[$0] ?? OrganizationStats.Day(date: $0, runs: 0, active_members: 0, credits: 0) },
            teamAllocation: try teams.map { row in
                OrganizationStats.Team(team: try row.decode("team"), credits: try row.decode("credits"), runs: try row.decode("runs"))
            })
    }
}
