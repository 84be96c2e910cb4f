-- Issue 28 (money): `user/me`'s cost advice reads the user's runs per model and package with
-- their success flag, in the answer's snapshot. The user's covering index (migration 5) gains
-- `error_occurred`, so that read is an index-only scan like the rest of the answer instead of
-- a heap fetch per row (heaviest demo user: 27 → 4 ms over 365 days, 13 → 1.5 ms over 30).
-- Replaced, not added beside it: one index to maintain per insert, under the same name.
-- (A partitioned index: every partition gets its own; later partitions get it when attached.)
ALTER INDEX idx_playground_usage_user_cover RENAME TO idx_playground_usage_user_cover_0005;
CREATE INDEX idx_playground_usage_user_cover ON playground_usage (user_id, created_at)
  INCLUDE (model, credits_spent, tokens_used, duration_ms, package_id, user_rating, error_occurred);
DROP INDEX idx_playground_usage_user_cover_0005;
