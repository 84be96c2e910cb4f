import Foundation
import Postgres

/// A user's own figures, from the raw rows (index on user_id, created_at).
extension AnalyticsQueries {
    public func userStats(userId: UUID, window: AnalyticsWindow) async throws -> UserStats {
        let start = window.startTimestamp
        // One statement, one scan of the user's rows in the window (covering index): the totals,
        // the models, the top packages and the days as rows of one result, told apart by `kind`
        // (four statements cost four pool hops and four executions per miss).
        let rows = try await postgres.withConnection(retryOnBrokenConnection: true) { c in
            try c.query(
                AnalyticsSQL.User.answer, [userId, start], prepare: true)
        }
        let totals = rows.ofKind("t")
        let models = rows.ofKind("m")
        let packages = rows.ofKind("p")
        let daily = rows.ofKind("d")
        let t = totals.first!
        let runs: Int = try t.decode("runs")
        var modelUsage: [UserStats.ModelUsage] = try models.map { row in
            let modelRuns: Int = try row.decode("runs")
            return UserStats.ModelUsage(
                model: try row.decode("key"), runs: modelRuns, credits: try row.decode("credits"),
                avg_duration: Rounding.average(try row.decode("duration_sum"), modelRuns) ?? 0)
        }
        modelUsage.sort { ($0.runs, $1.model) > ($1.runs, $0.model) }
        let topPackages: [UserStats.TopPackage] = try packages.map { row in
            UserStats.TopPackage(
                id: try row.decode("key"), name: try row.decode("name"), runs: try row.decode("runs"), credits: try row.decode("credits"),
                avg_rating: Rounding.averageOneDecimal(try row.decode("rating_sum"), try row.decode("rating_count")))
        }
        var byDay: [String: (Int, Int)] = [:]
        for row in daily { byDay[try row.decode("key")] = (try row.decode("runs"), try row.decode("credits")) }
        return UserStats(
            userId: userId, days: window.days, totalRuns: runs, creditsSpent: try t.decode("credits"), totalTokens: try t.decode("tokens"),
            mostUsedModel: modelUsage.first?.model, mostTestedPackage: topPackages.first?.name,
            avgResponseTime: Rounding.average(try t.decode("duration_sum"), runs),
            dailyActivity: window.dates.map { date in
                let (dayRuns, credits) = byDay[date] ?? (0, 0)
                return UserStats.Day(date: date, runs: dayRuns, credits: credits)
            },
            modelUsage: modelUsage, topPackages: topPackages)
    }
}

extension Sequence<PostgresRow> {
    /// The rows of one kind of a one-statement answer (its first column, `kind`, tells the parts
    /// apart), in the statement's order.
    func ofKind(_ kind: String) -> [PostgresRow] { filter { $0.values.first == kind } }
}
