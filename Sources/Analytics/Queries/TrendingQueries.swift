import Foundation
import Postgres

extension AnalyticsQueries {
    /// The worker's latest week-over-week table, biggest absolute growth first; rows older than
    /// `trendMaxAge` are not this week's any more and are left out (an empty table then).
    public func trending(limit: Int) async throws -> TrendingPackages {
        let rows = try await run(
            """
            SELECT t.package_id, p.name, t.this_week, t.last_week, t.change_pct, t.trend, t.computed_at,
                   max(t.computed_at) OVER () AS latest
            FROM package_trends t JOIN packages p ON p.id = t.package_id
            WHERE t.computed_at >= now() - $2::integer * interval '1 second'
            ORDER BY (t.this_week - t.last_week) DESC, p.name ASC LIMIT $1
            """, [limit, trendMaxAge])
        let latest = try rows.first.map { Timestamp.iso8601(try $0.decode("latest", as: Date.self)) }
        return TrendingPackages(
            computedAt: latest,
            packages: try rows.map { row in
                TrendingPackages.Entry(
                    id: try row.decode("package_id"), name: try row.decode("name"), thisWeek: try row.decode("this_week"),
                    lastWeek: try row.decode("last_week"), changePct: try row.decode("change_pct", as: Double?.self),
                    trend: try row.decode("trend"))
            })
    }
}
