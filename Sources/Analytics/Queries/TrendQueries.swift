import Foundation
import Postgres

/// A write's first statement, run in its transaction (the worker's lease fence); throwing
/// rolls the transaction back.
public typealias WriteGuard = @Sendable (PostgresConnection) throws -> Void

extension AnalyticsQueries {
    /// Runs in a transaction, after `guard` if any.
    func guardedTransaction<T: Sendable>(_ guard: WriteGuard?, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await postgres.withConnection { connection in
            try connection.transaction { c in
                try `guard`?(c)
                return try body(c)
            }
        }
    }

    /// Runs per package in the 7 complete UTC days before `today` and the 7 before those.
    public struct WeeklyRuns: Sendable, Equatable {
        public let packageId: UUID
        public let thisWeek: Int
        public let lastWeek: Int
    }

    /// From the exact daily rollups; `today` counts days since 1970-01-01 (UTC).
    public func weekOverWeek(today: Int) async throws -> [WeeklyRuns] {
        let rows = try await runFolded(
            """
            SELECT package_id,
                   coalesce(sum(runs) FILTER (WHERE day >= $2::date), 0) AS this_week,
                   coalesce(sum(runs) FILTER (WHERE day < $2::date), 0) AS last_week
            FROM package_daily_stats WHERE day >= $1::date AND day < $3::date GROUP BY package_id
            """, [DayFormat.string(today - 14), DayFormat.string(today - 7), DayFormat.string(today)])
        return try rows.map {
            WeeklyRuns(packageId: try $0.decode("package_id"), thisWeek: try $0.decode("this_week"), lastWeek: try $0.decode("last_week"))
        }
    }

    /// One row of `package_trends`.
    public struct PackageTrend: Sendable, Equatable {
        public let packageId: UUID
        public let thisWeek: Int
        public let lastWeek: Int
        public let changePct: Double?
        public let trend: String

        public init(packageId: UUID, thisWeek: Int, lastWeek: Int, changePct: Double?, trend: String) {
            self.packageId = packageId
            self.thisWeek = thisWeek
            self.lastWeek = lastWeek
            self.changePct = changePct
            self.trend = trend
        }
    }

    /// Replaces the trends table in one transaction. Rows are upserted in package order (two
    /// runs cannot deadlock) and stamped with the database's clock, which alone decides which
    /// rows are old: a worker's clock plays no part.
    public func replaceTrends(_ trends: [PackageTrend], guard: WriteGuard?) async throws {
        let parameters: [any PostgresEncodable] = [
            PostgresArray(trends.map(\.packageId)), PostgresArray(trends.map(\.thisWeek)), PostgresArray(trends.map(\.lastWeek)),
            PostgresArray(trends.map { $0.changePct.map { String($0) } }), PostgresArray(trends.map(\.trend)),
        ]
        try await guardedTransaction(`guard`) { c in
            try c.query(
                """
                INSERT INTO package_trends (package_id, this_week, last_week, change_pct, trend, computed_at)
                SELECT p, t, l, c, tr, now()
                FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::float8[], $5::text[]) AS x(p, t, l, c, tr)
                ORDER BY p
                ON CONFLICT (package_id) DO UPDATE SET this_week = excluded.this_week, last_week = excluded.last_week,
                  change_pct = excluded.change_pct, trend = excluded.trend, computed_at = excluded.computed_at
                """, parameters)
            // Packages with no use in either week have no trend any more (`now()` is the
            // transaction's start: every row written above carries it).
            try c.query("DELETE FROM package_trends WHERE computed_at < now()")
        }
    }
}
