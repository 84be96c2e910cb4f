import Foundation
import Postgres

/// A user's own figures, from the raw rows (index on user_id, created_at).
extension AnalyticsQueries {
    public func userStats(userId: UUID, window: AnalyticsWindow) async throws -> UserStats {
        let start = window.startTimestamp
        let (totals, models, packages, daily) = try await postgres.withConnection(retryOnBrokenConnection: true) { c in
            (
                try c.query(
                    """
                    SELECT count(*) AS runs, coalesce(sum(credits_spent), 0) AS credits, coalesce(sum(tokens_used), 0) AS tokens,
                           coalesce(sum(duration_ms), 0) AS duration_sum
                    FROM playground_usage WHERE user_id = $1 AND created_at >= $2::timestamptz
                    """, [userId, start], prepare: true),
                try c.query(
                    """
                    SELECT model, count(*) AS runs, sum(credits_spent) AS credits, sum(duration_ms) AS duration_sum
                    FROM playground_usage WHERE user_id = $1 AND created_at >= $2::timestamptz GROUP BY model
                    """, [userId, start], prepare: true),
                try c.query(
                    """
                    SELECT u.package_id AS id, p.name, u.runs, u.credits, u.rating_sum, u.rating_count
                    FROM (SELECT package_id, count(*) AS runs, sum(credits_spent) AS credits,
                                 coalesce(sum(user_rating), 0) AS rating_sum, count(user_rating) AS rating_count
                          FROM playground_usage WHERE user_id = $1 AND created_at >= $2::timestamptz AND package_id IS NOT NULL
                          GROUP BY package_id) u
                    JOIN packages p ON p.id = u.package_id
                    ORDER BY u.runs DESC, p.name ASC LIMIT 10
                    """, [userId, start], prepare: true),
                try c.query(
                    """
                    SELECT utc_day(created_at)::text AS day, count(*) AS runs, sum(credits_spent) AS credits
                    FROM playground_usage WHERE user_id = $1 AND created_at >= $2::timestamptz GROUP BY 1
                    """, [userId, start], prepare: true)
            )
        }
        let t = totals.first!
        let runs: Int = try t.decode("runs")
        var modelUsage: [UserStats.ModelUsage] = try models.map { row in
            let modelRuns: Int = try row.decode("runs")
            return UserStats.ModelUsage(
                model: try row.decode("model"), runs: modelRuns, credits: try row.decode("credits"),
                avg_duration: Rounding.average(try row.decode("duration_sum"), modelRuns) ?? 0)
        }
        modelUsage.sort { ($0.runs, $1.model) > ($1.runs, $0.model) }
        let topPackages: [UserStats.TopPackage] = try packages.map { row in
            UserStats.TopPackage(
                id: try row.decode("id"), name: try row.decode("name"), runs: try row.decode("runs"), credits: try row.decode("credits"),
                avg_rating: Rounding.averageOneDecimal(try row.decode("rating_sum"), try row.decode("rating_count")))
        }
        var byDay: [String: (Int, Int)] = [:]
        for row in daily { byDay[try row.decode("day")] = (try row.decode("runs"), try row.decode("credits")) }
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
