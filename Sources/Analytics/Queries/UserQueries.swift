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
                """
                WITH u AS MATERIALIZED (
                  SELECT model, credits_spent, tokens_used, duration_ms, package_id, user_rating, utc_day(created_at) AS day
                  FROM playground_usage WHERE user_id = $1 AND created_at >= $2::timestamptz)
                SELECT 't' AS kind, NULL::text AS key, NULL::text AS name, count(*) AS runs, coalesce(sum(credits_spent), 0) AS credits,
                       coalesce(sum(tokens_used), 0) AS tokens, coalesce(sum(duration_ms), 0) AS duration_sum,
                       0::bigint AS rating_sum, 0::bigint AS rating_count FROM u
                UNION ALL
                SELECT 'm', model, NULL, count(*), sum(credits_spent), 0, sum(duration_ms), 0, 0 FROM u GROUP BY model
                UNION ALL
                (SELECT 'p', x.package_id::text, p.name, x.runs, x.credits, 0, 0, x.rating_sum, x.rating_count
                 FROM (SELECT package_id, count(*) AS runs, sum(credits_spent) AS credits, coalesce(sum(user_rating), 0) AS rating_sum,
                              count(user_rating) AS rating_count
                       FROM u WHERE package_id IS NOT NULL GROUP BY package_id) x
                 JOIN packages p ON p.id = x.package_id
                 ORDER BY x.runs DESC, p.name ASC LIMIT 10)
                UNION ALL
                SELECT 'd', day::text, NULL, count(*), sum(credits_spent), 0, 0, 0, 0 FROM u GROUP BY day
                """, [userId, start], prepare: true)
        }
        let totals = rows.filter { $0.values.first == "t" }
        let models = rows.filter { $0.values.first == "m" }
        let packages = rows.filter { $0.values.first == "p" }
        let daily = rows.filter { $0.values.first == "d" }
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
