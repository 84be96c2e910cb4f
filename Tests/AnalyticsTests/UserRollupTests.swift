import Analytics
import Foundation
import Postgres
import TestSupport
import Testing

/// The user rollups (migration 16) and the `user/me` answer read from them: whole months from
/// the monthly rollups, the days before the first whole month from the raw rows.
@Suite("User rollups", .serialized)
struct UserRollupTests {
    /// Rows of the user rollup tables of `users` that differ from an aggregate of the raw rows
    /// (both directions, computed here from `playground_usage` alone; rows whose sums are all
    /// zero are left by deletes and count as absent).
    static func drift(_ f: Fixture, _ users: [UUID]) async throws -> Int {
        let sql = """
            WITH u AS (SELECT *, (created_at AT TIME ZONE 'UTC')::date AS d FROM playground_usage WHERE user_id = ANY($1::uuid[])),
            days_raw AS (SELECT user_id, d, count(*) AS runs, sum(credits_spent) AS c, sum(tokens_used) AS t, sum(duration_ms) AS ms
                         FROM u GROUP BY 1, 2),
            days_rolled AS (SELECT user_id, day, runs, credits_sum, tokens_sum, duration_sum FROM user_daily_stats
                            WHERE user_id = ANY($1::uuid[]) AND (runs, credits_sum, tokens_sum, duration_sum) <> (0, 0, 0, 0)),
            models_raw AS (SELECT user_id, date_trunc('month', d)::date AS m, model::text, count(*) AS runs, sum(credits_spent) AS c,
                                  sum(duration_ms) AS ms FROM u GROUP BY 1, 2, 3),
            models_rolled AS (SELECT user_id, month, model, runs, credits_sum, duration_sum FROM user_monthly_model_stats
                              WHERE user_id = ANY($1::uuid[]) AND (runs, credits_sum, duration_sum) <> (0, 0, 0)),
            packages_raw AS (SELECT user_id, date_trunc('month', d)::date AS m, package_id, count(*) AS runs, sum(credits_spent) AS c,
                                    coalesce(sum(user_rating), 0) AS rs, count(user_rating) AS rc
                             FROM u WHERE package_id IS NOT NULL GROUP BY 1, 2, 3),
            packages_rolled AS (SELECT user_id, month, package_id, runs, credits_sum, rating_sum, rating_count FROM user_monthly_package_stats
                                WHERE user_id = ANY($1::uuid[]) AND (runs, credits_sum, rating_sum, rating_count) <> (0, 0, 0, 0))
            SELECT (SELECT count(*) FROM ((TABLE days_raw EXCEPT TABLE days_rolled) UNION ALL (TABLE days_rolled EXCEPT TABLE days_raw)) a)
                 + (SELECT count(*) FROM ((TABLE models_raw EXCEPT TABLE models_rolled) UNION ALL (TABLE models_rolled EXCEPT TABLE models_raw)) b)
                 + (SELECT count(*) FROM ((TABLE packages_raw EXCEPT TABLE packages_rolled)
                                          UNION ALL (TABLE packages_rolled EXCEPT TABLE packages_raw)) c)
            """
        return Int(try await f.rollupScalar(sql, [PostgresArray(users)]) ?? "-1") ?? -1
    }

    /// Over windows of 1 to 365 days (whole months, partial months, both), the answer equals
    /// sums computed here from the rows the test inserted.
    @Test func theAnswerOverAnyWindowEqualsTheRowsInIt() async throws {
        let postgres = try await TestEnvironment.postgres()
        let f = Fixture(postgres: postgres)
        let user = try await f.user("months")
        let other = try await f.user("months-other")
        let packages = [try await f.package("m-alpha"), try await f.package("m-beta"), try await f.package("m-gamma")]
        let models = ["gpt-4o", "claude-3-haiku-20240307", "gemini-1.5-pro"]
        var rows: [Fixture.Usage] = []
        for index in 0..<150 {
            var row = Fixture.Usage(user: user, package: index % 11 == 0 ? nil : packages[index % 3].id)
            row.model = models[(index / 3) % 3]
            row.credits = 1 + index % 4
            row.tokens = 10 * (index % 7)
            row.duration = 100 + index
            row.rating = index % 4 == 0 ? nil : 1 + index % 5
            row.daysAgo = (index * 7) % 120
            row.hour = index % 24
            rows.append(row)
        }
        var stranger = Fixture.Usage(user: other, package: packages[0].id)
        stranger.credits = 99
        try await f.usage(rows + [stranger])
        let queries = AnalyticsQueries(postgres: postgres)
        for days in [1, 2, 7, 13, 28, 29, 30, 31, 32, 45, 59, 60, 61, 62, 75, 90, 91, 100, 119, 365] {
            let me = try await queries.userStats(userId: user, window: AnalyticsWindow(days: days))
            let inWindow = rows.filter { $0.daysAgo < days }
            #expect(me.totalRuns == inWindow.count, "days=\(days)")
            #expect(me.creditsSpent == inWindow.map(\.credits).reduce(0, +), "days=\(days)")
            #expect(me.totalTokens == inWindow.map(\.tokens).reduce(0, +), "days=\(days)")
            let byModel = Dictionary(grouping: inWindow, by: \.model)
            #expect(
                Dictionary(uniqueKeysWithValues: me.modelUsage.map { ($0.model, [$0.runs, $0.credits]) })
                    == byModel.mapValues { [$0.count, $0.map(\.credits).reduce(0, +)] }, "days=\(days)")
            let byPackage = Dictionary(grouping: inWindow.filter { $0.package != nil }, by: { $0.package! })
            #expect(
                Dictionary(uniqueKeysWithValues: me.topPackages.map { ($0.id, [$0.runs, $0.credits]) })
                    == byPackage.mapValues { [$0.count, $0.map(\.credits).reduce(0, +)] }, "days=\(days)")
            for package in me.topPackages {
                let ratings = byPackage[package.id, default: []].compactMap(\.rating)
                let expected = ratings.isEmpty ? nil : (Double(ratings.reduce(0, +)) / Double(ratings.count) * 10).rounded() / 10
                #expect(package.avg_rating == expected, "days=\(days)")
            }
            #expect(me.dailyActivity.count == days)
            #expect(
                me.dailyActivity.reversed().enumerated().allSatisfy { ago, day in
                    day.runs == inWindow.filter { $0.daysAgo == ago }.count
                }, "days=\(days)")
        }
    }

    /// Direct inserts, updates of every rolled-up column (including moves to another user, day
    /// and month) and deletes keep the rollups equal to the rows; retention's deletes leave
    /// them alone and its expiry removes what is older than what it keeps.
    @Test func theRollupsFollowDirectWrites() async throws {
        let f = Fixture(postgres: try await TestEnvironment.postgres())
        let users = [try await f.user("direct-a"), try await f.user("direct-b")]
        let package = try await f.package("direct")
        var rows: [Fixture.Usage] = []
        for index in 0..<24 {
            var row = Fixture.Usage(user: users[index % 2], package: index % 5 == 0 ? nil : package.id)
            row.daysAgo = index * 3
            row.rating = index % 3 == 0 ? nil : 3
            rows.append(row)
        }
        var ancient = Fixture.Usage(user: users[0], package: package.id)
        ancient.daysAgo = 450
        let ids = try await f.usage(rows + [ancient])
        #expect(try await Self.drift(f, users) == 0)
        try await f.exec("UPDATE playground_usage SET user_rating = 5 WHERE id = ANY($1::uuid[])", [PostgresArray(Array(ids[0..<6]))])
        try await f.exec("UPDATE playground_usage SET user_feedback = 'nice', was_helpful = true WHERE id = $1", [ids[7]])
        try await f.exec("UPDATE playground_usage SET credits_spent = 9, tokens_used = 1, model = 'o1' WHERE id = $1", [ids[8]])
        try await f.exec("UPDATE playground_usage SET created_at = created_at - interval '40 days' WHERE id = $1", [ids[9]])
        try await f.exec("UPDATE playground_usage SET user_id = $2, package_id = NULL WHERE id = $1", [ids[10], users[1]])
        #expect(try await Self.drift(f, users) == 0)
        try await f.exec("DELETE FROM playground_usage WHERE id = ANY($1::uuid[])", [PostgresArray(Array(ids[12..<18]))])
        #expect(try await Self.drift(f, users) == 0)
        // A feedback text edit writes no rollup row.
        let versions = "SELECT string_agg(xmin::text, ',' ORDER BY month, package_id) FROM user_monthly_package_stats WHERE user_id = $1"
        let before = try await f.rollupScalar(versions, [users[1]])
        try await f.exec("UPDATE playground_usage SET user_feedback = 'again' WHERE id = $1", [ids[19]])
        #expect(try await f.rollupScalar(versions, [users[1]]) == before)
        // Retention: its deletes leave the rollups, its expiry drops rows before the cutoff
        // (400 days back: older than any other test's rows).
        try await f.postgres.withConnection { c in
            try c.transaction { c in
                try c.execute("SET LOCAL prpm.retention = 'on'")
                _ = try c.query("DELETE FROM playground_usage WHERE id = $1", [ids[23]])
            }
        }
        // The rollups still count it: one run more than the rows.
        #expect(
            try await f.rollupScalar(
                """
                SELECT (SELECT sum(runs) FROM user_daily_stats WHERE user_id = $1) - (SELECT count(*) FROM playground_usage WHERE user_id = $1)
                """, [users[1]]) == "1")
        let old = "SELECT count(*) FROM user_daily_stats WHERE user_id = ANY($1::uuid[]) AND day < utc_day(now() - interval '400 days')"
        #expect(try await f.rollupScalar(old, [PostgresArray(users)]) != "0")
        _ = try await f.rollupScalar("SELECT usage_user_rollups_expire(now() - interval '400 days')")
        #expect(try await f.rollupScalar(old, [PostgresArray(users)]) == "0")
        #expect(
            try await f.rollupScalar(
                "SELECT count(*) FROM user_monthly_package_stats WHERE user_id = ANY($1::uuid[]) AND month < utc_month(now() - interval '400 days')",
                [PostgresArray(users)]) == "0")
    }
}
