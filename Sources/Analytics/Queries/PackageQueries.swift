import Foundation
import Postgres

/// The public package figures, read from the per-day rollups that the triggers keep exact.
extension AnalyticsQueries {
    /// A package by UUID or by name; nil when there is none.
    public func resolvePackage(_ idOrName: String) async throws -> PackageRef? {
        let rows: PostgresRows
        if let id = UUID(uuidString: idOrName) {
            rows = try await run("SELECT id, name FROM packages WHERE id = $1 OR name = $2 ORDER BY (id = $1) DESC LIMIT 1", [id, idOrName])
        } else {
            rows = try await run("SELECT id, name FROM packages WHERE name = $1", [idOrName])
        }
        guard let row = rows.first else { return nil }
        return PackageRef(id: try row.decode("id"), name: try row.decode("name"))
    }

    public func packageStats(_ package: PackageRef, window: AnalyticsWindow) async throws -> PackageStats {
        let start = window.startDate
        let id = package.id
        // One round trip: the seven statements and their snapshot's BEGIN/COMMIT are pipelined.
        let results = try await postgres.withConnection(retryOnBrokenConnection: true) { connection in
            try connection.readOnlySnapshot([
                PostgresStatement(AnalyticsSQL.Package.totals, [id, start]),
                PostgresStatement(AnalyticsSQL.Package.uniqueUsers, [id, start]),
                PostgresStatement(AnalyticsSQL.Package.models, [id, start]),
                PostgresStatement(AnalyticsSQL.Package.versions, [id, start]),
                PostgresStatement(AnalyticsSQL.Package.daily, [id, start]),
                PostgresStatement(AnalyticsSQL.Package.trend, [id, trendMaxAge]),
                PostgresStatement(AnalyticsSQL.Package.extras, [id, start]),
            ])
        }
        let (totals, users, models, versions, daily, trend, extras) = (
            results[0], results[1], results[2], results[3], results[4], results[5], results[6]
        )
        let t = totals.first!
        let e = extras.first!
        let runs: Int = try t.decode("runs")
        let ratingCount: Int = try t.decode("rating_count")

        var modelBreakdown: [PackageStats.ModelBreakdown] = try models.map { row in
            let modelRuns: Int = try row.decode("runs")
            return PackageStats.ModelBreakdown(
                model: try row.decode("model"), runs: modelRuns,
                avg_duration: Rounding.average(try row.decode("duration_sum"), modelRuns) ?? 0,
                success_rate: Rounding.percentage(try row.decode("successes"), of: modelRuns) ?? 0)
        }
        modelBreakdown.sort { ($0.runs, $1.model) > ($1.runs, $0.model) }

        let versionBreakdown = VersionOrder.sortedNewestFirst(
            try versions.map { row in
                PackageStats.VersionBreakdown(
                    package_version: try row.decode("package_version"), runs: try row.decode("runs"),
                    avg_rating: Rounding.averageOneDecimal(try row.decode("rating_sum"), try row.decode("rating_count")))
            }, version: \.package_version)

        let creditsSum: Int = try e.decode("credits_sum")
        let helpfulYes: Int = try e.decode("helpful_yes")
        let helpfulAnswered: Int = try e.decode("helpful_answered")
        var best: PackageStats.BestModel?
        if let name = BestModel.of(modelBreakdown), let model = modelBreakdown.first(where: { $0.model == name }) {
            best = PackageStats.BestModel(model: model.model, avg_duration: model.avg_duration, success_rate: model.success_rate)
        }

        var byDay: [String: (Int, Int)] = [:]
        for row in daily { byDay[try row.decode("day")] = (try row.decode("runs"), try row.decode("unique_users")) }

        return PackageStats(
            packageId: package.id, packageName: package.name, days: window.days, totalRuns: runs,
            uniqueUsers: try users.first!.decode("n"),
            successRate: Rounding.percentage(try t.decode("successes"), of: runs),
            avgDuration: Rounding.average(try t.decode("duration_sum"), runs),
            avgTokens: Rounding.average(try t.decode("tokens_sum"), runs),
            avgRating: Rounding.averageOneDecimal(try t.decode("rating_sum"), ratingCount),
            modelBreakdown: modelBreakdown,
            versionBreakdown: Array(versionBreakdown.prefix(10)),
            dailyUsage: window.dates.map { date in
                let (dayRuns, dayUsers) = byDay[date] ?? (0, 0)
                return PackageStats.PackageDay(date: date, runs: dayRuns, unique_users: dayUsers)
            },
            weekOverWeek: try trend.first.map(Self.weekOverWeek),
            avgCost: Rounding.averageOneDecimal(creditsSum, runs),
            helpfulRate: Rounding.percentage(helpfulYes, of: helpfulAnswered),
            bestModel: best,
            popularityRank: nil)
    }

    static func weekOverWeek(_ row: PostgresRow) throws -> WeekOverWeek {
        WeekOverWeek(
            thisWeek: try row.decode("this_week"), lastWeek: try row.decode("last_week"),
            changePct: try row.decode("change_pct", as: Double?.self), trend: try row.decode("trend"),
            computedAt: Timestamp.iso8601(try row.decode("computed_at", as: Date.self)))
    }
}
