import Foundation
import Postgres

/// The retention rules of the design, each step one short transaction (a crash loses nothing
/// and counts nothing twice), after `guard` (the worker's lease fence).
extension AnalyticsQueries {
    /// Folds up to `batch` usage rows older than 12 months into `usage_daily_archive` and
    /// deletes them; the per-package daily rollups are kept. Returns the rows moved.
    public func archiveOldUsage(batch: Int, guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.execute("SET LOCAL prpm.retention = 'on'")
            return try c.query(
                """
                WITH doomed AS (
                  SELECT id FROM playground_usage WHERE created_at < now() - interval '12 months'
                  ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED
                ), gone AS (
                  DELETE FROM playground_usage u USING doomed d WHERE u.id = d.id RETURNING u.*
                ), folded AS (
                  INSERT INTO usage_daily_archive AS a
                  SELECT utc_day(created_at), package_id, model, org_id, count(*),
                         count(*) FILTER (WHERE error_occurred IS NOT TRUE), sum(credits_spent), sum(tokens_used), sum(duration_ms),
                         coalesce(sum(user_rating), 0), count(user_rating)
                  FROM gone GROUP BY 1, 2, 3, 4
                  ON CONFLICT (day, coalesce(package_id, '00000000-0000-0000-0000-000000000000'::uuid), model,
                               coalesce(org_id, '00000000-0000-0000-0000-000000000000'::uuid))
                  DO UPDATE SET runs = a.runs + excluded.runs, successes = a.successes + excluded.successes,
                    credits_sum = a.credits_sum + excluded.credits_sum, tokens_sum = a.tokens_sum + excluded.tokens_sum,
                    duration_sum = a.duration_sum + excluded.duration_sum, rating_sum = a.rating_sum + excluded.rating_sum,
                    rating_count = a.rating_count + excluded.rating_count
                  RETURNING 1
                )
                SELECT (SELECT count(*) FROM gone) AS n, (SELECT count(*) FROM folded) AS groups
                """, [batch], prepare: false
            ).first!.decode("n", as: Int.self)
        }
    }

    /// Clears the feedback text of up to `batch` rows older than 6 months.
    public func clearOldFeedback(batch: Int, guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.query(
                """
                UPDATE playground_usage SET user_feedback = NULL WHERE id IN (
                  SELECT id FROM playground_usage WHERE user_feedback IS NOT NULL AND created_at < now() - interval '6 months'
                  LIMIT $1 FOR UPDATE SKIP LOCKED)
                """, [batch]
            ).affectedRows
        }
    }

    /// Anonymizes users deleted more than 30 days ago.
    public func anonymizeDeletedUsers(guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.query(
                """
                UPDATE users SET username = 'deleted-' || replace(id::text, '-', ''), email = NULL
                WHERE deleted_at < now() - interval '30 days'
                  AND (username IS DISTINCT FROM 'deleted-' || replace(id::text, '-', '') OR email IS NOT NULL)
                """
            ).affectedRows
        }
    }

    /// Forgets up to `batch` `Idempotency-Key`s older than 24 hours (they answer retries that long).
    public func expireIdempotencyKeys(batch: Int, guard: WriteGuard?) async throws -> Int {
        try await guardedTransaction(`guard`) { c in
            try c.query(
                """
                DELETE FROM ingest_requests WHERE key IN (
                  SELECT key FROM ingest_requests WHERE created_at < now() - interval '24 hours' LIMIT $1 FOR UPDATE SKIP LOCKED)
                """, [batch]
            ).affectedRows
        }
    }
}
