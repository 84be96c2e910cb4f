import Analytics
import Foundation
import Logging
import Postgres

/// What to seed.
public struct SeedOptions: Sendable {
    /// Usage rows (`playground_usage`).
    public var rows = 200_000
    public var users = 2_000
    public var packages = 300
    public var orgs = 20
    /// The rows fall on the `days` full UTC days before today.
    public var days = 90
    public var randomSeed: UInt64 = 42
    /// When set, a JSON file of ids for the load tester is written there.
    public var fixturesPath: String?

    public init() {}

    func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw SeedError.invalidOptions(message) } }
        try check(rows >= 0, "rows must be >= 0")
        try check(users >= 1, "users must be >= 1")
        try check(packages >= 1, "packages must be >= 1")
        try check(orgs >= 0, "orgs must be >= 0")
        try check((1...3650).contains(days), "days must be 1...3650")
    }
}

/// What was seeded.
public struct SeedSummary: Sendable {
    public let rows: Int
    public let users: Int
    public let packages: Int
    public let orgs: Int
    /// Wall-clock seconds of the whole seed (generation, COPY, index builds, rollup rebuild, ANALYZE).
    public let seconds: Double
}

public enum SeedError: Error, CustomStringConvertible, Equatable {
    /// The database already holds data; the seeder only fills an empty one.
    case notEmpty(tables: [String])
    case invalidOptions(String)

    public var description: String {
        switch self {
        case .notEmpty(let tables):
            return "refusing to seed: the database is not empty (rows in \(tables.joined(separator: ", "))); seed an empty database"
        case .invalidOptions(let message): return "invalid seed options: \(message)"
        }
    }
}

/// Loads deterministic demo data with COPY.
///
/// Everything happens in one transaction: the database ends up either fully seeded (rows,
/// rollups, indexes, triggers enabled) or untouched — a failed or interrupted seed never
/// leaves the rollup triggers disabled or indexes missing. For `playground_usage` the seeder:
/// truncates the (verified empty) table so COPY can write frozen rows (`COPY … FREEZE`: no
/// later VACUUM pass to set hint bits and the visibility map), drops its secondary indexes
/// and foreign keys (definitions read from the catalog first), disables the user triggers,
/// streams the rows while another thread generates them (in ~1 MB blocks, at most 8 ahead), recreates the indexes and foreign
/// keys exactly as they were (building an index once is much faster than updating ten on
/// every row, and one anti-join per foreign key is faster than a trigger per row), enables
/// the triggers, rebuilds the rollups with `usage_rollup_rebuild()` and runs ANALYZE.
public enum Seeder {
    /// Threads generating usage rows while the connection's thread sends them. One generates
    /// ~1M rows/s, ten times what the server's COPY takes in: more would only compete for the cores.
    static let generatorThreads = 1

    /// The tables the seeder fills, parents first.
    static let tables = ["users", "organizations", "organization_members", "packages", "playground_sessions", "playground_usage"]

    /// True when playground_usage has no rows (Scripts/run seeds only then).
    public static func isEmpty(_ client: PostgresClient) async throws -> Bool {
        try await client.withConnection { connection in
            try connection.query("SELECT NOT EXISTS (SELECT 1 FROM playground_usage) AS empty").first!.decode("empty", as: Bool.self)
        }
    }

    /// Loads the data (the schema must exist). Deterministic for a randomSeed: same options →
    /// identical rows (same ids, values, timestamps relative to today's UTC midnight).
    public static func run(_ options: SeedOptions, client: PostgresClient, logger: Logger) async throws -> SeedSummary {
        try options.validate()
        let started = ContinuousClock.now
        let today = Int((Date().timeIntervalSince1970 / 86_400).rounded(.down))
        let world = World(options: options, today: today)
        logger.info(
            "seed: generating",
            metadata: [
                "rows": "\(options.rows)", "users": "\(options.users)", "packages": "\(options.packages)", "orgs": "\(options.orgs)",
                "days": "\(options.days)", "randomSeed": "\(options.randomSeed)",
                "from": "\(DayFormat.string(world.firstDay))", "to": "\(DayFormat.string(today - 1))",
            ])
        let sampled = try await client.withConnection { connection in
            let sampled = try load(world, into: connection, logger: logger)
            var phase = ContinuousClock.now
            try connection.execute("SET statement_timeout = 0")
            try connection.execute("VACUUM playground_usage")
            try connection.execute("RESET statement_timeout")
            logger.info("seed: vacuumed", metadata: ["seconds": "\(Self.seconds(since: &phase))"])
            return sampled
        }
        if let path = options.fixturesPath {
            try Fixtures(world: world, sampled: sampled).write(to: path)
            logger.info("seed: fixtures written", metadata: ["path": "\(path)"])
        }
        let seconds = (ContinuousClock.now - started).seconds
        logger.info("seed: done", metadata: ["rows": "\(options.rows)", "seconds": "\(String(format: "%.1f", seconds))"])
        return SeedSummary(rows: options.rows, users: options.users, packages: options.packages, orgs: options.orgs, seconds: seconds)
    }

    // MARK: - Loading

    private static func load(_ world: World, into c: PostgresConnection, logger: Logger) throws -> [SampledUsage] {
        try c.transaction { c in
            try c.execute("SET LOCAL statement_timeout = 0")
            try c.execute("SET LOCAL maintenance_work_mem = '512MB'")
            try c.execute("LOCK TABLE \(tables.joined(separator: ", ")) IN ACCESS EXCLUSIVE MODE")
            var nonEmpty: [String] = []
            for table in tables where try c.query("SELECT EXISTS (SELECT 1 FROM \(table)) AS found").first!.decode("found", as: Bool.self) {
                nonEmpty.append(table)
            }
            guard nonEmpty.isEmpty else { throw SeedError.notEmpty(tables: nonEmpty) }

            try copySmallTables(world, into: c)
            logger.info("seed: users, organizations, members, packages and sessions loaded", metadata: ["sessions": "\(world.sessions.count)"])

            // The monthly partitions of the seed's days (migration 12), so no row waits in the default partition.
            _ = try c.query(
                "SELECT usage_partitions_ensure($1::date, $2::date)", [DayFormat.string(world.firstDay), DayFormat.string(world.today)])
            // COPY FREEZE needs the table truncated in this transaction; it is empty (checked above under the lock).
            // Should a future foreign key point at playground_usage, TRUNCATE fails: then load without FREEZE.
            // Postgres cannot COPY FREEZE into a partitioned table: the VACUUM after the load sets the hint bits
            // and the visibility map instead (index-only scans need it).
            var freeze = try c.query("SELECT relkind <> 'p' AS plain FROM pg_class WHERE oid = 'playground_usage'::regclass")
                .first!.decode("plain", as: Bool.self)
            try c.execute("SAVEPOINT seed_truncate")
            do {
                try c.execute("TRUNCATE playground_usage")
                try c.execute("RELEASE SAVEPOINT seed_truncate")
            } catch let error as PostgresError where !error.isConnectionFailure {
                try c.execute("ROLLBACK TO SAVEPOINT seed_truncate")
                freeze = false
                logger.info("seed: cannot truncate playground_usage, loading without FREEZE", metadata: ["error": "\(error)"])
            }

            // Drop the secondary indexes and the foreign keys; recreated below from these definitions.
            // The definition of a partitioned index says `ON ONLY` (the parent alone, no index on the
            // partitions): recreated without it, it is built on every partition.
            let indexes = try c.query(
                """
                SELECT i.indexname AS name, replace(i.indexdef, ' ON ONLY ', ' ON ') AS definition FROM pg_indexes i
                WHERE i.schemaname = current_schema() AND i.tablename = 'playground_usage'
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)
                ORDER BY i.indexname
                """
            ).map { (name: try $0.decode("name", as: String.self), definition: try $0.decode("definition", as: String.self)) }
            let foreignKeys = try c.query(
                """
                SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
                WHERE conrelid = 'playground_usage'::regclass AND contype = 'f' ORDER BY conname
                """
            ).map { (name: try $0.decode("name", as: String.self), definition: try $0.decode("definition", as: String.self)) }
            for index in indexes { try c.execute("DROP INDEX \(quoteIdentifier(index.name))") }
            for key in foreignKeys { try c.execute("ALTER TABLE playground_usage DROP CONSTRAINT \(quoteIdentifier(key.name))") }
            try c.execute("ALTER TABLE playground_usage DISABLE TRIGGER USER")

            let sampled = try copyUsage(world, into: c, freeze: freeze, logger: logger)

            var phase = ContinuousClock.now
            for index in indexes { try c.execute(index.definition) }
            logger.info("seed: indexes rebuilt", metadata: ["count": "\(indexes.count)", "seconds": "\(seconds(since: &phase))"])
            for key in foreignKeys {
                try c.execute("ALTER TABLE playground_usage ADD CONSTRAINT \(quoteIdentifier(key.name)) \(key.definition)")
            }
            logger.info("seed: foreign keys validated", metadata: ["count": "\(foreignKeys.count)", "seconds": "\(seconds(since: &phase))"])
            try c.execute("ALTER TABLE playground_usage ENABLE TRIGGER USER")
            // A rebuild counts every raw row: nothing may wait in the fold queue (migration 17).
            try c.execute("SELECT usage_fold()")
            try c.execute("SELECT usage_rollup_rebuild()")
            try c.execute("SELECT usage_extras_rebuild()")
            try c.execute("SELECT usage_user_rollups_rebuild()")
            logger.info("seed: rollups rebuilt", metadata: ["seconds": "\(seconds(since: &phase))"])
            try c.execute("ANALYZE")
            logger.info("seed: analyzed", metadata: ["seconds": "\(seconds(since: &phase))"])
            return sampled
        }
    }

    private static func copySmallTables(_ world: World, into c: PostgresConnection) throws {
        try copy(c, "users (id, username, email, created_at, deleted_at)", world.users) { user in
            copyRow([user.id.string, user.username, user.email, copyTimestamp(user.createdAt), user.deletedAt.map(copyTimestamp)])
        }
        try copy(c, "organizations (id, name, created_at)", world.organizations) { org in
            copyRow([org.id.string, org.name, copyTimestamp(org.createdAt)])
        }
        let members = world.organizations.flatMap { org in org.members.map { (org, $0) } }
        try copy(c, "organization_members (org_id, user_id, role, team, joined_at)", members) { org, member in
            copyRow([org.id.string, world.users[member.user].id.string, member.role, member.team, copyTimestamp(member.joinedAt)])
        }
        try copy(c, "packages (id, name, created_at)", world.packages) { package in
            copyRow([package.id.string, package.name, copyTimestamp(package.createdAt)])
        }
        try copy(c, "playground_sessions (id, user_id, package_id, created_at)", world.sessions) { session in
            copyRow([
                session.id.string, world.users[session.user].id.string, world.packages[session.package].id.string,
                copyTimestamp(session.start),
            ])
        }
    }

    /// COPY of a small table in ~1 MB chunks.
    private static func copy<T>(_ c: PostgresConnection, _ target: String, _ items: [T], row: (T) -> [UInt8]) throws {
        try c.copyIn("COPY \(target) FROM STDIN") { emit in
            var chunk: [UInt8] = []
            chunk.reserveCapacity(1 << 20)
            for item in items {
                chunk += row(item)
                if chunk.count >= 1 << 20 {
                    try emit(String(decoding: chunk, as: UTF8.self))
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            if !chunk.isEmpty { try emit(String(decoding: chunk, as: UTF8.self)) }
        }
    }

    /// Streams the usage rows: generator threads fill blocks ahead, this thread sends them.
    private static func copyUsage(_ world: World, into c: PostgresConnection, freeze: Bool, logger: Logger) throws -> [SampledUsage] {
        let generator = UsageGenerator(world: world)
        let pipeline = BlockPipeline(total: generator.blockCount, window: 8)
        pipeline.start(threads: generatorThreads) { generator.block($0) }
        var sampled: [SampledUsage] = []
        var copied = 0
        let copyStarted = ContinuousClock.now
        var lastLog = copyStarted
        var success = false
        defer { pipeline.finish(cancel: !success) }
        try c.copyIn("COPY playground_usage (\(UsageGenerator.columns)) FROM STDIN\(freeze ? " WITH (FREEZE)" : "")") { emit in
            while let block = pipeline.take() {
                try emit(block.text)
                sampled += block.sampled
                copied += block.rows
                let now = ContinuousClock.now
                if now - lastLog >= .seconds(5) {
                    lastLog = now
                    let elapsed = (now - copyStarted).seconds
                    logger.info(
                        "seed: usage rows",
                        metadata: [
                            "rows": "\(copied)/\(world.options.rows)", "rowsPerSecond": "\(Int(Double(copied) / max(elapsed, 0.001)))",
                        ])
                }
            }
        }
        success = true
        let elapsed = (ContinuousClock.now - copyStarted).seconds
        logger.info(
            "seed: usage rows copied",
            metadata: [
                "rows": "\(copied)", "seconds": "\(String(format: "%.1f", elapsed))",
                "rowsPerSecond": "\(Int(Double(copied) / max(elapsed, 0.001)))", "freeze": "\(freeze)",
            ])
        return sampled
    }

    private static func quoteIdentifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    private static func seconds(since phase: inout ContinuousClock.Instant) -> String {
        let now = ContinuousClock.now
        defer { phase = now }
        return String(format: "%.1f", (now - phase).seconds)
    }
}
