import Analytics
import Foundation
import Postgres
import TestSupport
import Testing

/// The trigger-maintained rollups must always equal a fresh aggregate of the raw rows,
/// whatever is done to `playground_usage` directly.
@Suite("Rollups stay exact under direct inserts, updates and deletes", .serialized)
struct RollupConsistencyTests {
    func mismatch(_ f: Fixture, _ package: UUID) async throws -> String? {
        try await f.rollupScalar(
            """
            WITH raw AS (
              SELECT utc_day(created_at) AS day, count(*) AS runs, count(*) FILTER (WHERE error_occurred IS NOT TRUE) AS successes,
                     sum(duration_ms) AS duration_sum, sum(tokens_used) AS tokens_sum, coalesce(sum(user_rating), 0) AS rating_sum,
                     count(user_rating) AS rating_count, count(DISTINCT user_id) AS unique_users
              FROM playground_usage WHERE package_id = $1 GROUP BY 1),
            rolled AS (
              SELECT day, runs, successes, duration_sum, tokens_sum, rating_sum, rating_count, unique_users
              FROM package_daily_stats WHERE package_id = $1),
            versions_raw AS (
              SELECT utc_day(created_at) AS day, package_version, count(*) AS runs, coalesce(sum(user_rating), 0) AS rating_sum,
                     count(user_rating) AS rating_count
              FROM playground_usage WHERE package_id = $1 AND package_version IS NOT NULL GROUP BY 1, 2),
            versions_rolled AS (
              SELECT day, package_version, runs, rating_sum, rating_count FROM package_daily_version_stats WHERE package_id = $1),
            last_raw AS (SELECT user_id, max(utc_day(created_at)) AS day FROM playground_usage WHERE package_id = $1 GROUP BY 1),
            last_rolled AS (SELECT user_id, last_day AS day FROM package_user_last_day WHERE package_id = $1),
            histogram_raw AS (SELECT day, count(*) AS users FROM last_raw GROUP BY 1),
            histogram_rolled AS (SELECT day, users FROM package_last_day_counts WHERE package_id = $1 AND users <> 0),
            extras_raw AS (
              SELECT utc_day(created_at) AS day, sum(credits_spent) AS credits_sum, count(*) FILTER (WHERE was_helpful) AS helpful_yes,
                     count(was_helpful) AS helpful_answered
              FROM playground_usage WHERE package_id = $1 GROUP BY 1),
            extras_rolled AS (
              SELECT day, credits_sum, helpful_yes, helpful_answered FROM package_daily_extras
              WHERE package_id = $1 AND (credits_sum, helpful_yes, helpful_answered) <> (0, 0, 0))
            SELECT (SELECT count(*) FROM ((SELECT * FROM raw EXCEPT SELECT * FROM rolled) UNION ALL (SELECT * FROM rolled EXCEPT SELECT * FROM raw)) a)
                 + (SELECT count(*) FROM ((SELECT * FROM versions_raw EXCEPT SELECT * FROM versions_rolled)
                                          UNION ALL (SELECT * FROM versions_rolled EXCEPT SELECT * FROM versions_raw)) b)
                 + (SELECT count(*) FROM ((SELECT * FROM extras_raw EXCEPT SELECT * FROM extras_rolled)
                                          UNION ALL (SELECT * FROM extras_rolled EXCEPT SELECT * FROM extras_raw)) e)
                 || '/' || (SELECT count(*) FROM package_user_last_day WHERE package_id = $1)
                 || '/' || (SELECT count(DISTINCT user_id) FROM playground_usage WHERE package_id = $1)
                 || '/' || (SELECT count(*) FROM ((SELECT * FROM last_raw EXCEPT SELECT * FROM last_rolled)
                                                  UNION ALL (SELECT * FROM last_rolled EXCEPT SELECT * FROM last_raw)) c)
                 || '/' || (SELECT count(*) FROM ((SELECT * FROM histogram_raw EXCEPT SELECT * FROM histogram_rolled)
                                                  UNION ALL (SELECT * FROM histogram_rolled EXCEPT SELECT * FROM histogram_raw)) d)
            """, [package])
    }

    /// Migration 15: a user's second run of a package on the same day leaves the package's
    /// last-day row and its histogram row for that day as they are (no new row versions for the
    /// hottest rows); a later day still moves them, and the rollups stay exact.
    @Test func aRepeatedRunOnTheSameDayLeavesTheLastDayRowsAlone() async throws {
        let f = Fixture(postgres: try await TestEnvironment.postgres())
        let package = try await f.package("same-day-repeat")
        let user = try await f.user("same-day-repeat")
        var earlier = Fixture.Usage(user: user, package: package.id)
        earlier.daysAgo = 2
        _ = try await f.usage([earlier])
        _ = try await f.usage([Fixture.Usage(user: user, package: package.id)])
        let versions = """
            SELECT (SELECT xmin::text FROM package_user_last_day WHERE package_id = $1 AND user_id = $2) || '/' ||
                   (SELECT string_agg(xmin::text, ',' ORDER BY day) FROM package_last_day_counts WHERE package_id = $1)
            """
        let before = try #require(try await f.rollupScalar(versions, [package.id, user]))
        _ = try await f.usage([Fixture.Usage(user: user, package: package.id), Fixture.Usage(user: user, package: package.id)])
        #expect(try await f.rollupScalar(versions, [package.id, user]) == before)
        #expect(try await mismatch(f, package.id) == "0/1/1/0/0")
        // An older run does not move the day back.
        _ = try await f.usage([earlier])
        #expect(try await f.rollupScalar("SELECT last_day = utc_day(now()) FROM package_user_last_day WHERE package_id = $1", [package.id]) == "t")
        #expect(try await mismatch(f, package.id) == "0/1/1/0/0")
    }

    @Test func rollupsEqualTheRawRows() async throws {
        let f = Fixture(postgres: try await TestEnvironment.postgres())
        let package = try await f.package("exact")
        let users = [try await f.user("x1"), try await f.user("x2"), try await f.user("x3")]
        var rows: [Fixture.Usage] = []
        for index in 0..<30 {
            var row = Fixture.Usage(user: users[index % 3], package: package.id)
            row.daysAgo = index % 4
            row.version = ["1.0.0", "1.1.0", nil][index % 3]
            row.rating = index % 5 == 0 ? nil : index % 5
            row.error = index % 7 == 0 ? nil : index % 6 == 0
            rows.append(row)
        }
        let ids = try await f.usage(rows)
        #expect(try await mismatch(f, package.id) == "0/3/3/0/0")
        // A later batch moves some users' last day forward (the upsert's update path).
        var later = Fixture.Usage(user: users[1], package: package.id)
        later.daysAgo = 0
        var older = Fixture.Usage(user: users[2], package: package.id)
        older.daysAgo = 9
        _ = try await f.usage([later, older, later])
        #expect(try await mismatch(f, package.id) == "0/3/3/0/0")
        // Rating-only changes (feedback) take the delta path.
        try await f.exec("UPDATE playground_usage SET user_rating = 5 WHERE id = ANY($1::uuid[])", [PostgresArray(Array(ids[0..<10]))])
        try await f.exec("UPDATE playground_usage SET user_rating = NULL WHERE id = $1", [ids[11]])
        #expect(try await mismatch(f, package.id) == "0/3/3/0/0")
        // Other columns recompute: error flag, day, version, user.
        try await f.exec("UPDATE playground_usage SET error_occurred = true, user_rating = 1 WHERE id = $1", [ids[12]])
        try await f.exec(
            "UPDATE playground_usage SET created_at = created_at - interval '3 days', package_version = '2.0.0' WHERE id = $1", [ids[13]])
        try await f.exec("UPDATE playground_usage SET user_id = $2 WHERE package_id = $1 AND user_id = $3", [package.id, users[0], users[2]])
        #expect(try await mismatch(f, package.id) == "0/2/2/0/0")
        // A rating-only change (the feedback path) takes no temporary table: one would be
        // truncated at every commit of the session (migration 13).
        let temporaryTables = try await f.postgres.withConnection { c in
            _ = try c.query("UPDATE playground_usage SET user_rating = 2 WHERE id = $1", [ids[14]])
            return try c.query(
                "SELECT count(*) AS n FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relname = 'tmp_rating_delta'"
            ).first!.decode("n", as: Int.self)
        }
        #expect(temporaryTables == 0)
        #expect(try await mismatch(f, package.id) == "0/2/2/0/0")
        // Direct deletes.
        try await f.exec("DELETE FROM playground_usage WHERE id = ANY($1::uuid[])", [PostgresArray(Array(ids[20..<25]))])
        #expect(try await mismatch(f, package.id) == "0/2/2/0/0")
    }
}
