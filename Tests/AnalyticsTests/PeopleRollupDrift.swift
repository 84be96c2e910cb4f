import Foundation
import Postgres
import TestSupport

/// The user and organization rollups (migration 12) against an aggregate of the raw rows,
/// computed here from `playground_usage` alone.
enum PeopleRollupDrift {
    /// Rows of `user_daily_usage`, `org_daily_member_usage` and `org_daily_package_usage` of
    /// `users` that differ from the raw rows' aggregate (both directions; all-zero rows, left
    /// by deletes, count as absent).
    static func count(_ f: Fixture, users: [UUID]) async throws -> Int {
        let sql = """
            WITH u AS (SELECT *, utc_day(created_at) AS d FROM playground_usage WHERE user_id = ANY($1::uuid[])),
            user_raw AS (
              SELECT user_id, d, model::text, package_id, count(*) AS runs, sum(credits_spent) AS credits, sum(tokens_used) AS tokens,
                     sum(duration_ms) AS duration, coalesce(sum(user_rating), 0) AS rating_sum, count(user_rating) AS rating_count
              FROM u GROUP BY 1, 2, 3, 4),
            user_rolled AS (
              SELECT user_id, day, model, package_id, runs, credits, tokens, duration_sum, rating_sum, rating_count FROM user_daily_usage
              WHERE user_id = ANY($1::uuid[]) AND (runs, credits, tokens, duration_sum, rating_sum, rating_count) <> (0, 0, 0, 0, 0, 0)),
            member_raw AS (
              SELECT org_id, d, user_id, count(*) AS runs, sum(credits_spent) AS credits, sum(tokens_used) AS tokens,
                     sum(duration_ms) AS duration
              FROM u WHERE org_id IS NOT NULL GROUP BY 1, 2, 3),
            member_rolled AS (
              SELECT org_id, day, user_id, runs, credits, tokens, duration_sum FROM org_daily_member_usage
              WHERE user_id = ANY($1::uuid[]) AND (runs, credits, tokens, duration_sum) <> (0, 0, 0, 0)),
            package_raw AS (
              SELECT org_id, d, package_id, user_id, count(*) AS runs, coalesce(sum(user_rating), 0) AS rating_sum,
                     count(user_rating) AS rating_count
              FROM u WHERE org_id IS NOT NULL AND package_id IS NOT NULL GROUP BY 1, 2, 3, 4),
            package_rolled AS (
              SELECT org_id, day, package_id, user_id, runs, rating_sum, rating_count FROM org_daily_package_usage
              WHERE user_id = ANY($1::uuid[]) AND (runs, rating_sum, rating_count) <> (0, 0, 0))
            SELECT (SELECT count(*) FROM ((TABLE user_raw EXCEPT TABLE user_rolled) UNION ALL (TABLE user_rolled EXCEPT TABLE user_raw)) a)
                 + (SELECT count(*) FROM ((TABLE member_raw EXCEPT TABLE member_rolled)
                                          UNION ALL (TABLE member_rolled EXCEPT TABLE member_raw)) b)
                 + (SELECT count(*) FROM ((TABLE package_raw EXCEPT TABLE package_rolled)
                                          UNION ALL (TABLE package_rolled EXCEPT TABLE package_raw)) c)
            """
        return Int(try await f.scalar(sql, [PostgresArray(users)]) ?? "-1") ?? -1
    }
}
