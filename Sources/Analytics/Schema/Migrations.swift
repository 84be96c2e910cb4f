import Foundation
import Logging
import Postgres

/// A versioned schema change. Applied once, in a transaction, recorded in `schema_migrations`.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String
    /// The file it comes from (`Resources/Migrations/000N_name.sql`).
    public let file: String

    public init(version: Int, name: String, sql: String, file: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.file = file
    }
}

/// Creates and upgrades the schema. Idempotent: already applied versions are skipped;
/// concurrent runs serialize on an advisory lock.
///
/// The migrations are frozen SQL files in `Resources/Migrations`, applied in the order of
/// their numbers; the first line of each is `-- <name>`. A file once released is never edited
/// (a test checks their checksums): a change to the schema is a new file.
public enum Migrator {
    public static let all: [Migration] = {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil),
            let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
        else { fatalError("the Migrations resource folder is missing from the bundle") }
        return files.filter { $0.hasSuffix(".sql") }.sorted().map { file in
            guard let version = Int(file.prefix(while: \.isNumber)),
                let sql = try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            else { fatalError("unreadable migration \(file)") }
            let firstLine = sql.prefix(while: { $0 != "\n" })
            let name = firstLine.hasPrefix("-- ") ? String(firstLine.dropFirst(3)) : file
            return Migration(version: version, name: name, sql: sql, file: file)
        }
    }()

    /// Applies the migrations not yet applied, up to `through` (all by default; tests of a
    /// migration stop before it); returns the versions applied now.
    @discardableResult
    public static func migrate(
        _ client: PostgresClient, logger: Logger, through: Int = .max, migrations: [Migration] = all
    ) async throws -> [Int] {
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
                for migration in migrations where !applied.contains(migration.version) && migration.version <= through {
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
