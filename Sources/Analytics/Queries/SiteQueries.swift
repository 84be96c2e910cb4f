import Foundation
import Postgres

/// Site-wide answers: the popular packages of a window and the totals of the home page. They
/// read the fold queue beside the rollups and never fold (a request never waits for the fold).
extension AnalyticsQueries {
    public func popular(window: AnalyticsWindow, limit: Int) async throws -> PopularPackages {
        let rows = try await run(AnalyticsSQL.popular, [window.startDate, limit])
        return PopularPackages(
            days: window.days,
            packages: try rows.map { row in
                PopularPackages.Entry(
                    id: try row.decode("package_id"), name: try row.decode("name"), runs: try row.decode("runs"),
                    uniqueUsers: try row.decode("unique_users"), rank: try row.decode("rank"))
            })
    }

    public func summary() async throws -> SiteSummary {
        let row = try await run(AnalyticsSQL.summary, []).first!
        return SiteSummary(
            totalRuns: try row.decode("total_runs"), uniqueUsers: try row.decode("unique_users"),
            packagesWithRuns: try row.decode("packages_with_runs"), computedAt: Timestamp.iso8601(Date()))
    }
}
