import Logging
import Postgres

/// A versioned schema change. Applied once, in a transaction, recorded in `schema_migrations`.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String
}

/// Creates and upgrades the schema. Idempotent: already applied versions are skipped;
/// concurrent runs serialize on an advisory lock.
public enum Migrator {
    public static let all: [Migration] = [
        Migration(version: 1, name: "core tables", sql: SchemaSQL.coreTables),
        Migration(version: 2, name: "package rollups maintained by triggers", sql: SchemaSQL.packageRollups),
        Migration(version: 3, name: "trends and retention archive", sql: SchemaSQL.trendsAndArchive),
        Migration(version: 4, name: "rating-only updates adjust the rollups by delta", sql: SchemaSQL.ratingDeltas),
        Migration(version: 5, name: "covering indexes for user and org reads", sql: SchemaSQL.coveringIndexes),
        Migration(version: 6, name: "histogram of last days for distinct users; faster rebuild and recompute", sql: SchemaSQL.lastDayHistogram),
        Migration(version: 7, name: "the insert trigger reads its transition table directly", sql: SchemaSQL.insertTriggerReadsTransitionTable),
        Migration(version: 8, name: "advisory locks serialize rollup recomputes with other writers", sql: RollupLocksSQL.migration),
        Migration(version: 9, name: "idempotency keys of ingestion requests", sql: IngestIdempotencySQL.migration),
        Migration(version: 10, name: "fencing tokens of the worker jobs", sql: JobFencesSQL.migration),
    ]

    /// Applies the migrations not yet applied; returns the versions applied now.
    @discardableResult
    public static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [Int] {
        try await client.withConnection { connection in
            try connection.transaction { connection in
                // Index builds and backfills on a large table take minutes, and a second run waits
                // for a running one on the lock: no per-statement limit here (lifted first).
                try connection.execute("SET LOCAL statement_timeout = 0")
                try connection.execute("SELECT pg_advisory_xact_lock(727274)")
                try connection.execute(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                    """)
                let applied = Set(try connection.query("SELECT version FROM schema_migrations").map { try $0.decode("version", as: Int.self) })
                var now: [Int] = []
                for migration in all where !applied.contains(migration.version) {
                    try connection.execute(migration.sql)
                    try connection.query(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name])
                    now.append(migration.version)
                }
                return now
            }
        }
    }
}
