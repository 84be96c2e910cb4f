import Foundation
import Postgres

/// The monthly executive report of an organization: its usage rows (org_id) of one UTC month.
extension AnalyticsQueries {
    public func organizationReport(_ org: OrganizationRef, month: ReportMonth) async throws -> OrganizationReport {
        let parameters: [any PostgresEncodable] = [org.id, month.startTimestamp, month.next.startTimestamp, month.previous.startTimestamp]
        let rows = try await postgres.withConnection(retryOnBrokenConnection: true) { c in
            try c.query(AnalyticsSQL.OrganizationReport.answer, parameters, prepare: true)
        }
        let t = rows.ofKind("t").first!  // one row, always
        let figures = OrganizationReport.Figures(
            org: org, month: month, members: try t.decode("members"), activeMembers: try t.decode("users"), runs: try t.decode("runs"),
            previousRuns: try t.decode("previous_runs"),
            packages: try rows.ofKind("p").map { (try $0.decode("name"), try $0.decode("runs"), try $0.decode("users")) },
            teams: try rows.ofKind("g").map { (try $0.decode("team"), try $0.decode("runs"), try $0.decode("credits")) },
            memberActivity: try rows.ofKind("m").map { row in
                (
                    try row.decode("key"), try row.decode("name"), try row.decode("team"), try row.decode("runs"), try row.decode("credits"),
                    Timestamp.iso8601(try row.decode("at", as: Date.self))
                )
            })
        return OrganizationReport(figures, prices: prices, current: ReportMonth(containing: Date()))
    }
}
