-- advisory locks serialize rollup recomputes with other writers
--
-- The rollups are kept by statement triggers that either add a statement's rows (inserts,
-- rating-only updates: increments, which commute) or recompute package-days from the raw
-- rows (other updates, deletes). A recompute deletes and re-inserts rollup rows, so it must
-- not overlap with any other writer of the same package: a transaction that waited for the
-- recompute's row locks would skip the deleted rows, miss the re-inserted ones and add its
-- whole recompute on top (the rollups drifted).
--
-- These triggers take transaction-scoped advisory locks on the packages a statement
-- touches before the rollup triggers run (statement triggers of one event fire in name
-- order: `usage_lock_*` before `usage_rollup_*`): shared for increments, exclusive for
-- recomputes. Increments therefore still run side by side (row locks order them), while a
-- recompute waits until every earlier writer of the package has committed and, since each
-- statement of a READ COMMITTED trigger takes a new snapshot, then reads their rows; later
-- writers wait for the recompute to commit and add their increments on top of it.
-- Packages map to 64 lock buckets, so a statement takes at most 64 locks whatever its size.
-- Writers must use READ COMMITTED (Postgres's default): under REPEATABLE READ the recompute
-- would read a snapshot taken before the lock.
CREATE FUNCTION usage_rollup_lock() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  exclusive boolean;
BEGIN
  IF current_setting('prpm.retention', true) = 'on' THEN RETURN NULL; END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM pg_advisory_xact_lock_shared(727275, b)
    FROM (SELECT DISTINCT hashtext(package_id::text) & 63 AS b FROM new_rows WHERE package_id IS NOT NULL ORDER BY 1) s;
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_advisory_xact_lock(727275, b)
    FROM (SELECT DISTINCT hashtext(package_id::text) & 63 AS b FROM old_rows WHERE package_id IS NOT NULL ORDER BY 1) s;
  ELSE
    -- A change of a column the rollups read, other than the rating, recomputes.
    SELECT bool_or((o.package_id, o.user_id, o.created_at, o.model, o.package_version, o.error_occurred, o.duration_ms,
                    o.tokens_used)
                   IS DISTINCT FROM (n.package_id, n.user_id, n.created_at, n.model, n.package_version, n.error_occurred,
                                     n.duration_ms, n.tokens_used))
      INTO exclusive
      FROM old_rows o JOIN new_rows n ON n.id = o.id;
    IF exclusive THEN
      PERFORM pg_advisory_xact_lock(727275, b)
      FROM (SELECT DISTINCT hashtext(package_id::text) & 63 AS b
            FROM (SELECT package_id FROM old_rows UNION SELECT package_id FROM new_rows) p
            WHERE package_id IS NOT NULL ORDER BY 1) s;
    ELSE
      PERFORM pg_advisory_xact_lock_shared(727275, b)
      FROM (SELECT DISTINCT hashtext(n.package_id::text) & 63 AS b FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE n.package_id IS NOT NULL AND o.user_rating IS DISTINCT FROM n.user_rating ORDER BY 1) s;
    END IF;
  END IF;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER usage_lock_insert AFTER INSERT ON playground_usage
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_lock();
CREATE TRIGGER usage_lock_update AFTER UPDATE ON playground_usage
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_lock();
CREATE TRIGGER usage_lock_delete AFTER DELETE ON playground_usage
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION usage_rollup_lock();
