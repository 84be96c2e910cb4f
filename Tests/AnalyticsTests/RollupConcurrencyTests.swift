import Analytics
import Dispatch
import Foundation
import Postgres
import TestSupport
import Testing

/// Rollups stay equal to an aggregate of the raw rows when many transactions insert, rate
/// and delete rows of the same package-days at once (issue 10, defect 1).
@Suite("Rollups never drift under concurrent writers", .serialized)
struct RollupConcurrencyTests {
    /// A blocking connection of its own (the pool would hand out one connection at a time).
    static func connection() throws -> PostgresConnection {
        try PostgresConnection(configuration: PostgresConfiguration(url: TestEnvironment.databaseURL))
    }

    /// Runs blocking work on its own thread.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Rows of every rollup table of `package` that differ from an aggregate of the raw rows
    /// (both directions, all tables, computed here from `playground_usage` alone).
    static func drift(_ f: Fixture, _ package: UUID) async throws -> Int {
        let sql = """
            WITH u AS (SELECT *, (created_at AT TIME ZONE 'UTC')::date AS d FROM playground_usage WHERE package_id = $1),
            daily_raw AS (
              SELECT d, count(*) AS runs, count(*) FILTER (WHERE error_occurred IS NOT TRUE) AS successes, sum(duration_ms) AS ds,
                     sum(tokens_used) AS ts, coalesce(sum(user_rating), 0) AS rs, count(user_rating) AS rc, count(DISTINCT user_id) AS uu
              FROM u GROUP BY d),
            daily_rolled AS (
              SELECT day, runs, successes, duration_sum, tokens_sum, rating_sum, rating_count, unique_users
              FROM package_daily_stats WHERE package_id = $1),
            model_raw AS (
              SELECT d, model::text, count(*) AS runs, count(*) FILTER (WHERE error_occurred IS NOT TRUE) AS successes,
                     sum(duration_ms) AS ds FROM u GROUP BY 1, 2),
            model_rolled AS (SELECT day, model, runs, successes, duration_sum FROM package_daily_model_stats WHERE package_id = $1),
            version_raw AS (
              SELECT d, package_version::text, count(*) AS runs, coalesce(sum(user_rating), 0) AS rs, count(user_rating) AS rc
              FROM u WHERE package_version IS NOT NULL GROUP BY 1, 2),
            version_rolled AS (
              SELECT day, package_version, runs, rating_sum, rating_count FROM package_daily_version_stats WHERE package_id = $1),
            users_raw AS (SELECT DISTINCT d, user_id FROM u),
            users_rolled AS (SELECT day, user_id FROM package_daily_users WHERE package_id = $1),
            last_raw AS (SELECT user_id, max(d) AS d FROM u GROUP BY 1),
            last_rolled AS (SELECT user_id, last_day FROM package_user_last_day WHERE package_id = $1),
            hist_raw AS (SELECT d, count(*) AS n FROM last_raw GROUP BY 1),
            hist_rolled AS (SELECT day, users FROM package_last_day_counts WHERE package_id = $1 AND users <> 0),
            extras_raw AS (
              SELECT d, sum(credits_spent) AS cs, count(*) FILTER (WHERE was_helpful) AS hy, count(was_helpful) AS ha FROM u GROUP BY d),
            extras_rolled AS (
              SELECT day, credits_sum, helpful_yes, helpful_answered FROM package_daily_extras
              WHERE package_id = $1 AND (credits_sum, helpful_yes, helpful_answered) <> (0, 0, 0))
            SELECT (SELECT count(*) FROM ((TABLE daily_raw EXCEPT TABLE daily_rolled) UNION ALL (TABLE daily_rolled EXCEPT TABLE daily_raw)) a)
                 + (SELECT count(*) FROM ((TABLE model_raw EXCEPT TABLE model_rolled) UNION ALL (TABLE model_rolled EXCEPT TABLE model_raw)) b)
                 + (SELECT count(*) FROM ((TABLE version_raw EXCEPT TABLE version_rolled)
                                          UNION ALL (TABLE version_rolled EXCEPT TABLE version_raw)) c)
                 + (SELECT count(*) FROM ((TABLE users_raw EXCEPT TABLE users_rolled) UNION ALL (TABLE users_rolled EXCEPT TABLE users_raw)) e)
                 + (SELECT count(*) FROM ((TABLE last_raw EXCEPT TABLE last_rolled) UNION ALL (TABLE last_rolled EXCEPT TABLE last_raw)) g)
                 + (SELECT count(*) FROM ((TABLE hist_raw EXCEPT TABLE hist_rolled) UNION ALL (TABLE hist_rolled EXCEPT TABLE hist_raw)) h)
                 + (SELECT count(*) FROM ((TABLE extras_raw EXCEPT TABLE extras_rolled)
                                          UNION ALL (TABLE extras_rolled EXCEPT TABLE extras_raw)) x)
            """
        return Int(try await f.rollupScalar(sql, [package]) ?? "-1") ?? -1
    }

    /// Connection A runs `first` in a transaction it keeps open; connection B runs `second`
    /// (and then waits inside its trigger for A); A commits; B finishes.
    static func overlap(first: (String, UUID), second: (String, UUID)) async throws {
        let a = try connection()
        let b = try connection()
        defer {
            a.close()
            b.close()
        }
        try a.execute("BEGIN")
        try a.query(first.0, [first.1])
        let waiting = Task { try await onThread { try b.query(second.0, [second.1]).count } }
        try await Task.sleep(for: .milliseconds(300))
        try a.execute("COMMIT")
        _ = try await waiting.value
    }

    static func rolledRuns(_ f: Fixture, _ package: UUID) async throws -> Int {
        Int(try await f.rollupScalar("SELECT coalesce(sum(runs), 0) FROM package_daily_stats WHERE package_id = $1", [package]) ?? "-1") ?? -1
    }

    /// The sequence of the issue: A deletes a row and keeps its transaction open; B deletes
    /// another row of the same package-day and waits; A commits; B must not add its
    /// recompute on top of A's.
    @Test func twoOverlappingDeletesOfOnePackageDay() async throws {
        let f = Fixture(postgres: try await TestEnvironment.postgres())
        let package = try await f.package("race")
        let user = try await f.user("racer")
        let ids = try await f.usage(Array(repeating: Fixture.Usage(user: user, package: package.id), count: 40))
        #expect(try await Self.rolledRuns(f, package.id) == 40)

        try await Self.overlap(
            first: ("DELETE FROM playground_usage WHERE id = $1", ids[0]), second: ("DELETE FROM playground_usage WHERE id = $1", ids[1]))

        #expect(try await Self.rolledRuns(f, package.id) == 38)
        #expect(try await Self.drift(f, package.id) == 0)
    }

    /// A rating delta (feedback) racing a recompute of the same package-day is not lost.
    @Test func ratingDeltaRacingARecompute() async throws {
        let f = Fixture(postgres: try await TestEnvironment.postgres())
        let package = try await f.package("rate-race")
        let user = try await f.user("rater")
        let ids = try await f.usage(Array(repeating: Fixture.Usage(user: user, package: package.id), count: 10))
        try await Self.overlap(
            first: ("DELETE FROM playground_usage WHERE id = $1", ids[0]),
            second: ("UPDATE playground_usage SET user_rating = 4 WHERE id = $1", ids[1]))
        #expect(
            try await f.rollupScalar(
                "SELECT sum(rating_sum) || '/' || sum(rating_count) FROM package_daily_stats WHERE package_id = $1", [package.id])
                == "4/1")
        #expect(try await Self.drift(f, package.id) == 0)
    }

    /// Eight connections insert batches, rate rows, move rows between days and delete rows of
    /// the same two package-days at once while a ninth folds the queue; afterwards every rollup
    /// (package and user) equals the raw rows.
    @Test func manyWritersOfTheSamePackageDays() async throws {
        let f = Fixture(postgres: try await TestEnvironment.postgres())
        let package = try await f.package("storm")
        var users: [UUID] = []
        for index in 0..<4 { users.append(try await f.user("storm\(index)")) }
        var seedRows: [Fixture.Usage] = []
        for index in 0..<80 {
            var row = Fixture.Usage(user: users[index % 4], package: package.id)
            row.daysAgo = index % 2
            row.version = index % 3 == 0 ? "1.0.0" : "1.1.0"
            seedRows.append(row)
        }
        try await f.usage(seedRows)
        let packageId = package.id
        let userIds = users
        let workers = 8
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    try await Self.onThread {
                        let connection = try Self.connection()
                        defer { connection.close() }
                        var generator = SystemRandomNumberGenerator()
                        for step in 0..<25 {
                            let user = userIds[(worker + step) % userIds.count]
                            do {
                                switch Int.random(in: 0..<5, using: &generator) {
                                case 0:
                                    try connection.query(
                                        """
                                        INSERT INTO playground_usage (user_id, package_id, package_version, model, tokens_used, duration_ms, created_at)
                                        SELECT $1, $2, '1.0.0', 'gpt-4o', 10, 100 + g, date_trunc('day', now()) - (g % 2) * interval '1 day'
                                        FROM generate_series(1, 5) g
                                        """, [user, packageId])
                                case 1:
                                    try connection.query(
                                        """
                                        UPDATE playground_usage SET user_rating = 1 + (random() * 4)::int,
                                          was_helpful = CASE WHEN random() < 0.3 THEN NULL ELSE random() < 0.5 END
                                        WHERE id = (SELECT id FROM playground_usage WHERE package_id = $1 ORDER BY random() LIMIT 1)
                                        """, [packageId])
                                case 2:
                                    try connection.query(
                                        """
                                        DELETE FROM playground_usage
                                        WHERE id IN (SELECT id FROM playground_usage WHERE package_id = $1 ORDER BY random() LIMIT 2)
                                        """, [packageId])
                                case 3:
                                    try connection.query(
                                        """
                                        UPDATE playground_usage SET error_occurred = NOT coalesce(error_occurred, false), model = 'gpt-4o-mini',
                                          credits_spent = credits_spent + 1
                                        WHERE id = (SELECT id FROM playground_usage WHERE package_id = $1 ORDER BY random() LIMIT 1)
                                        """, [packageId])
                                default:
                                    try connection.transaction { connection in
                                        try connection.query(
                                            """
                                            INSERT INTO playground_usage (user_id, package_id, model, tokens_used, duration_ms, user_rating, created_at)
                                            VALUES ($1, $2, 'claude-3-haiku-20240307', 20, 300, 5, date_trunc('day', now()))
                                            """, [user, packageId])
                                        try connection.query(
                                            """
                                            DELETE FROM playground_usage
                                            WHERE id = (SELECT id FROM playground_usage WHERE package_id = $1 ORDER BY random() LIMIT 1)
                                            """, [packageId])
                                    }
                                }
                            } catch let error as PostgresError where error.sqlState == "40P01" {
                                // A deadlock aborts one whole transaction (rolled back): nothing half-applied to check.
                                continue
                            }
                        }
                    }
                }
            }
            // A ninth connection folds the queue (as the background fold and the reads do) while they write.
            group.addTask {
                try await Self.onThread {
                    let connection = try Self.connection()
                    defer { connection.close() }
                    for step in 0..<60 {
                        do {
                            _ = try connection.query(step % 2 == 0 ? "SELECT usage_fold_try()" : "SELECT usage_fold_pending()")
                        } catch let error as PostgresError where error.sqlState == "40P01" {
                            continue
                        }
                        usleep(5_000)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await Self.drift(f, package.id) == 0)
        #expect(try await UserRollupTests.drift(f, users) == 0)
        let raw = try await f.rollupScalar("SELECT count(*) FROM playground_usage WHERE package_id = $1", [package.id])
        #expect(try await Self.rolledRuns(f, package.id) == Int(raw ?? ""))
    }
}
