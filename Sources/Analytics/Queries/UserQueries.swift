import Foundation
import Postgres

/// A user's own figures, from the raw rows (index on user_id, created_at).
extension AnalyticsQueries {
    public func userStats(userId: UUID, window: AnalyticsWindow) async throws -> UserStats {
        let start = window.startTimestamp
        // One statement, one scan of the user's rows in the window (covering index): the totals,
        // the models, the top packages and the days as rows of one result, told apart by `kind`
        // (four statements cost four pool hops and four executions per miss).
        // The cost advice's runs per model and package in the same snapshot (one round trip).
        let results = try await postgres.withConnection(retryOnBrokenConnection: true) { c in
            try c.readOnlySnapshot([
                PostgresStatement(AnalyticsSQL.User.answer, [userId, start]), PostgresStatement(AnalyticsSQL.User.costCells, [userId, start]),
            ])
        }
        let rows = results[0]
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
        let cells: [CostAdvice.Cell] = try results[1].map { row in
            CostAdvice.Cell(
                model: try row.decode("model"), packageId: try row.decode("package_id"), runs: try row.decode("runs"),
                successes: try row.decode("successes"), credits: try row.decode("credits"))
        }
        let credits: Int = try t.decode("credits")
        return UserStats(
            userId: userId, days: window.days, totalRuns: runs, creditsSpent: credits, totalTokens: try t.decode("tokens"),
            mostUsedModel: modelUsage.first?.model, mostTestedPackage: topPackages.first?.name,
            avgResponseTime: Rounding.average(try t.decode("duration_sum"), runs),
            dailyActivity: window.dates.map { date in
                let (dayRuns, credits) = byDay[date] ?? (0, 0)
                return UserStats.Day(date: date, runs: dayRuns, credits: credits)
            },
            modelUsage: modelUsage, topPackages: topPackages,
            money: UserMoney(runs: runs, credits: credits, days: window.days, prices: prices),
            costAdvice: CostAdvice.advise(models: modelUsage, cells: cells, prices: prices))
    }
}

extension Sequence<PostgresRow> {
    /// The rows of one kind of a one-statement answer (its first column, `kind`, tells the parts
    /// apart), in the statement's order.
    func ofKind(_ kind: String) -> [PostgresRow] { filter { $0.values.first == kind } }
}
