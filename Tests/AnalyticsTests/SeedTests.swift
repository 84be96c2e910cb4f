import Analytics
import Foundation
import Logging
import NIOPosix
import Postgres
import TestSupport
import Testing

@testable import AnalyticsSeed

/// The seeder against the real Postgres of TEST_DATABASE_URL. Every test seeds databases of
/// its own (`prpm_seedtest_…`, created next to the test database and dropped at the end),
/// so the shared test database is never touched.
@Suite("Seeder")
struct SeedTests {
    static let small: SeedOptions = {
        var options = SeedOptions()
        options.rows = 20_000
        options.users = 200
        options.packages = 50
        options.orgs = 5
        options.days = 30
        options.randomSeed = 42
        return options
    }()

    /// Runs `body` with the URL of a new empty database, dropped afterwards (also when `body` throws).
    func withScratchDatabase(_ body: (String) async throws -> Void) async throws {
        let admin = try client("postgres")
        defer { admin.shutdown() }
        let name = "prpm_migratetest_\(UUID().uuidString.prefix(8).lowercased())"
        try await admin.withConnection { try $0.execute("CREATE DATABASE \(name)") }
        var failure: (any Error)?
        do { try await body(try databaseURL(name)) } catch { failure = error }
        try? await admin.withConnection { try $0.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        if let failure { throw failure }
    }

    @Test("migrations are not cut off by the connection's statement timeout (index builds on big tables take minutes)")
    func migrationsIgnoreTheStatementTimeout() async throws {
        try await withScratchDatabase { url in
            // 300 ms: loose enough for BEGIN and small reads on a busy CI machine (a 1 ms limit
            // made the check itself flaky), and a third of the slow migration below.
            let strict = PostgresClient(
                configuration: PostgresConfiguration(url: url, statementTimeoutMs: 300), pool: .init(maxConnections: 1), threadPool: threadPool)
            defer { strict.shutdown() }
            let last = try #require(Migrator.all.last?.version)
            let slow = Migration(version: last + 1, name: "a slow index build", sql: "SELECT pg_sleep(0.9)", file: "test")
            // The schema and then a statement three times the limit: only a lifted limit lets this pass.
            try await Migrator.migrate(strict, logger: quietLogger, migrations: Migrator.all + [slow])
            #expect(try await int(strict, "SELECT max(version) FROM schema_migrations") == last + 1)
            await #expect(throws: (any Error).self) { try await strict.query("SELECT pg_sleep(0.9)") }
        }
    }

    @Test("a second migrate waits for a running one instead of failing on its statement timeout (issue 11, item 6)")
    func concurrentMigrationsWait() async throws {
        try await withScratchDatabase { url in
            let holder = PostgresClient(configuration: PostgresConfiguration(url: url), pool: .init(maxConnections: 1), threadPool: threadPool)
            let strict = PostgresClient(
                configuration: PostgresConfiguration(url: url, statementTimeoutMs: 100), pool: .init(maxConnections: 1), threadPool: threadPool)
            defer {
                holder.shutdown()
                strict.shutdown()
            }
            // A "running migration": the migration lock held for 600 ms, six times the second
            // run's statement timeout.
            let running = try await TestEnvironment.holdInTransaction(holder, "SELECT pg_advisory_xact_lock(727274)", for: .milliseconds(600))
            let applied = try await Migrator.migrate(strict, logger: quietLogger)
            try await running.value
            #expect(applied == Migrator.all.map(\.version))
        }
    }

    @Test("same seed → identical rows; another seed → other rows; a non-empty database is refused")
    func determinism() async throws {
        try await withSeedDatabases(3) { a, b, c in
            var other = Self.small
            other.randomSeed = 7
            try #require(try await Seeder.isEmpty(a))
            _ = try await Seeder.run(Self.small, client: a, logger: quietLogger)
            _ = try await Seeder.run(Self.small, client: b, logger: quietLogger)
            _ = try await Seeder.run(other, client: c, logger: quietLogger)
            #expect(try await !Seeder.isEmpty(a))

            for table in Seeder.tables {
                let sql = "SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS h, count(*) AS n FROM \(table) t"
                let (ha, hb, hc) = (try await one(a, sql), try await one(b, sql), try await one(c, sql))
                #expect(ha == hb, "\(table) differs between two seeds with the same random seed")
                #expect(ha != hc, "\(table) is the same for another random seed")
            }
            let usageHash = "SELECT md5(string_agg(u::text, E'\\n' ORDER BY id)) AS h FROM playground_usage u"
            let (usageA, usageB) = (try await one(a, usageHash), try await one(b, usageHash))
            #expect(usageA == usageB)

            let error = await #expect(throws: SeedError.self) { try await Seeder.run(Self.small, client: a, logger: quietLogger) }
            #expect(error == .notEmpty(tables: Seeder.tables))
            // The refused seed changed nothing.
            #expect(try await one(a, "SELECT count(*) AS n FROM playground_usage") == "20000")
        }
    }

    @Test("the data has the designed shape, the rollups match the raw rows, the fixtures are valid")
    func shape() async throws {
        let fixturesPath = FileManager.default.temporaryDirectory.appendingPathComponent("seed-fixtures-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: fixturesPath) }
        try await withSeedDatabases(1) { db, _, _ in
            let indexesBefore = try await db.query(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'playground_usage' ORDER BY 1"
            ).values
            var options = Self.small
            options.fixturesPath = fixturesPath
            let summary = try await Seeder.run(options, client: db, logger: quietLogger)
            #expect(summary.rows == 20_000 && summary.users == 200 && summary.packages == 50 && summary.orgs == 5)

            // Counts.
            #expect(try await int(db, "SELECT count(*) FROM playground_usage") == 20_000)
            #expect(try await int(db, "SELECT count(*) FROM users") == 200)
            #expect(try await int(db, "SELECT count(*) FROM packages") == 50)
            #expect(try await int(db, "SELECT count(*) FROM organizations") == 5)
            #expect(try await int(db, "SELECT count(*) FROM playground_sessions") > 0)

            // Time: the 30 full UTC days before today, nothing in the future.
            let today = Int((Date().timeIntervalSince1970 / 86_400).rounded(.down))
            #expect(
                try await one(
                    db, "SELECT max(created_at) < date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS ok FROM playground_usage") == "t")
            #expect(try await one(db, "SELECT min(utc_day(created_at))::text FROM playground_usage") == DayFormat.string(today - 30))
            #expect(try await int(db, "SELECT count(DISTINCT utc_day(created_at)) FROM playground_usage") == 30)

            // Zipf popularity: rank k gets about 1/k of rank 1.
            let runs = try await db.query(
                "SELECT count(*) AS n FROM playground_usage WHERE package_id IS NOT NULL GROUP BY package_id ORDER BY 1 DESC"
            ).map { try $0.decode("n", as: Int.self) }
            #expect(runs.count == 50)
            let ratio = Double(runs[0]) / Double(runs[9])
            #expect(runs[0] > runs[1] && runs[1] > runs[9])
            #expect((6.0...16.0).contains(ratio), "rank 1 / rank 10 = \(ratio)")

            // Rates.
            let errors = try await double(db, "SELECT avg((error_occurred IS TRUE)::int) FROM playground_usage")
            #expect((0.04...0.06).contains(errors), "error rate \(errors)")
            let unknown = try await double(db, "SELECT avg((error_occurred IS NULL)::int) FROM playground_usage")
            #expect((0.005...0.015).contains(unknown), "NULL error_occurred \(unknown)")
            #expect(try await int(db, "SELECT count(*) FROM playground_usage WHERE error_occurred AND error_message IS NULL") == 0)
            #expect(try await int(db, "SELECT count(*) FROM playground_usage WHERE error_occurred IS NOT TRUE AND error_message IS NOT NULL") == 0)
            let rated = try await double(db, "SELECT avg((user_rating IS NOT NULL)::int) FROM playground_usage")
            #expect((0.17...0.23).contains(rated), "rated \(rated)")
            #expect(try await double(db, "SELECT avg(user_rating) FROM playground_usage") > 3.8)
            let noVersion = try await double(db, "SELECT avg((package_version IS NULL)::int) FROM playground_usage WHERE package_id IS NOT NULL")
            #expect((0.02...0.04).contains(noVersion), "NULL package_version \(noVersion)")
            #expect(try await int(db, "SELECT count(*) FROM playground_usage WHERE tokens_used NOT BETWEEN 100 AND 8000") == 0)
            #expect(try await int(db, "SELECT count(*) FROM playground_usage WHERE credits_spent NOT BETWEEN 1 AND 4") == 0)
            #expect(try await int(db, "SELECT count(DISTINCT model) FROM playground_usage") == 6)
            #expect(try await int(db, "SELECT count(*) FROM playground_usage WHERE package_version ~ '\\.[0-9]{2}\\.'") > 0)
            // Text with a tab, a newline and a backslash survived COPY.
            #expect(
                try await int(db, "SELECT count(*) FROM playground_usage WHERE user_feedback = E'Would use again\\nSecond line of feedback.'") > 0)
            #expect(try await int(db, "SELECT count(*) FROM playground_usage WHERE user_feedback = E'Worked\\twith tabs too.'") > 0)
            #expect(try await int(db, "SELECT count(*) FROM playground_usage WHERE user_feedback LIKE 'Output path was C:\\\\temp\\\\out%'") > 0)

            // Organizations: one owner, one or two admins; rows of org members carry one of their orgs.
            let roles = try await db.query(
                """
                SELECT org_id, count(*) FILTER (WHERE role = 'owner') AS owners, count(*) FILTER (WHERE role = 'admin') AS admins
                FROM organization_members GROUP BY org_id
                """)
            #expect(roles.count == 5)
            for row in roles {
                #expect(try row.decode("owners", as: Int.self) == 1)
                #expect((1...2).contains(try row.decode("admins", as: Int.self)))
            }
            #expect(
                try await int(
                    db,
                    """
                    SELECT count(*) FROM playground_usage u WHERE u.org_id IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM organization_members m WHERE m.org_id = u.org_id AND m.user_id = u.user_id)
                    """) == 0)
            #expect(
                try await int(
                    db,
                    """
                    SELECT count(*) FROM playground_usage u WHERE u.org_id IS NULL
                      AND EXISTS (SELECT 1 FROM organization_members m WHERE m.user_id = u.user_id)
                    """) == 0)
            #expect(try await int(db, "SELECT count(*) FROM users WHERE deleted_at IS NOT NULL") < 10)

            // Rollups equal a fresh aggregate of the raw rows.
            #expect(
                try await int(db, "SELECT sum(runs) FROM package_daily_stats")
                    == int(db, "SELECT count(*) FROM playground_usage WHERE package_id IS NOT NULL"))
            let fresh = """
                SELECT package_id, utc_day(created_at) AS day, count(*) AS runs, count(*) FILTER (WHERE error_occurred IS NOT TRUE) AS successes,
                       sum(duration_ms) AS duration_sum, sum(tokens_used) AS tokens_sum, coalesce(sum(user_rating), 0) AS rating_sum,
                       count(user_rating) AS rating_count, count(DISTINCT user_id) AS unique_users
                FROM playground_usage WHERE package_id IS NOT NULL GROUP BY 1, 2
                """
            let stored =
                "SELECT package_id, day, runs, successes, duration_sum, tokens_sum, rating_sum, rating_count, unique_users FROM package_daily_stats"
            #expect(try await int(db, "SELECT count(*) FROM ((\(fresh)) EXCEPT (\(stored))) d") == 0)
            #expect(try await int(db, "SELECT count(*) FROM ((\(stored)) EXCEPT (\(fresh))) d") == 0)
            #expect(
                try await int(
                    db,
                    """
                    SELECT count(*) FROM (
                      (SELECT package_id, utc_day(created_at), model, count(*), count(*) FILTER (WHERE error_occurred IS NOT TRUE), sum(duration_ms)
                       FROM playground_usage WHERE package_id IS NOT NULL GROUP BY 1, 2, 3)
                      EXCEPT (SELECT package_id, day, model, runs, successes, duration_sum FROM package_daily_model_stats)) d
                    """) == 0)
            #expect(
                try await int(
                    db,
                    """
                    SELECT count(*) FROM (
                      (SELECT package_id, utc_day(created_at), package_version, count(*), coalesce(sum(user_rating), 0), count(user_rating)
                       FROM playground_usage WHERE package_id IS NOT NULL AND package_version IS NOT NULL GROUP BY 1, 2, 3)
                      EXCEPT (SELECT package_id, day, package_version, runs, rating_sum, rating_count FROM package_daily_version_stats)) d
                    """) == 0)
            #expect(
                try await int(
                    db,
                    """
                    SELECT count(*) FROM (
                      (SELECT package_id, user_id, max(utc_day(created_at)) FROM playground_usage WHERE package_id IS NOT NULL GROUP BY 1, 2)
                      EXCEPT (SELECT package_id, user_id, last_day FROM package_user_last_day)) d
                    """) == 0)
            #expect(
                try await int(db, "SELECT count(*) FROM package_user_last_day")
                    == int(db, "SELECT count(DISTINCT (package_id, user_id)) FROM playground_usage WHERE package_id IS NOT NULL"))
            // The histogram of last days the distinct-user counts read.
            #expect(
                try await int(
                    db,
                    """
                    SELECT count(*) FROM (
                      (SELECT package_id, last_day, count(*) FROM package_user_last_day GROUP BY 1, 2)
                      EXCEPT (SELECT package_id, day, users FROM package_last_day_counts WHERE users <> 0)) d
                    """) == 0)

            // Credits and helpfulness per package-day (rebuilt after the load, like the other rollups).
            #expect(
                try await int(
                    db,
                    """
                    SELECT count(*) FROM (
                      (SELECT package_id, utc_day(created_at), sum(credits_spent), count(*) FILTER (WHERE was_helpful), count(was_helpful)
                       FROM playground_usage WHERE package_id IS NOT NULL GROUP BY 1, 2)
                      EXCEPT (SELECT package_id, day, credits_sum, helpful_yes, helpful_answered FROM package_daily_extras)) d
                    """) == 0)
            #expect(try await int(db, "SELECT count(*) FROM package_daily_extras") > 0)
            // The user rollups (migration 16), every user.
            let everyone = try await db.query("SELECT id FROM users").map { try $0.decode("id", as: UUID.self) }
            #expect(try await UserRollupTests.drift(Fixture(postgres: db), everyone) == 0)
            #expect(try await int(db, "SELECT count(*) FROM user_monthly_package_stats") > 0)

            // The table is back as it was: same indexes, validated foreign keys, triggers enabled (and firing).
            let indexesAfter = try await db.query("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'playground_usage' ORDER BY 1").values
            #expect(indexesAfter == indexesBefore)
            // ...and built on every monthly partition (the definitions read back say `ON ONLY`: run
            // as they read, they make indexes of the parent alone and the partitions have none).
            #expect(try await int(db, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'playground_usage'::regclass") > 1)
            #expect(
                try await int(
                    db,
                    """
                    SELECT count(*) FROM pg_index x
                    WHERE x.indrelid = 'playground_usage'::regclass
                      AND (SELECT count(*) FROM pg_inherits WHERE inhparent = x.indexrelid)
                          <> (SELECT count(*) FROM pg_inherits WHERE inhparent = 'playground_usage'::regclass)
                    """) == 0)
            #expect(
                try await int(
                    db, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'playground_usage'::regclass AND contype = 'f' AND convalidated") == 4)
            #expect(
                try await int(
                    db, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'playground_usage'::regclass AND NOT tgisinternal AND tgenabled = 'O'") == 11
            )
            let before = try await int(db, "SELECT coalesce(sum(runs), 0) FROM package_daily_stats")
            _ = try await db.query(
                """
                INSERT INTO playground_usage (user_id, package_id, model, tokens_used, duration_ms)
                SELECT (SELECT id FROM users ORDER BY id LIMIT 1), (SELECT id FROM packages ORDER BY id LIMIT 1), 'gpt-4o', 100, 100
                """)
            _ = try await db.query("SELECT usage_fold()")
            #expect(try await int(db, "SELECT sum(runs) FROM package_daily_stats") == before + 1)

            // Fixtures.
            let data = try Data(contentsOf: URL(fileURLWithPath: fixturesPath))
            let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let packages = try #require(json["packages"] as? [[String: String]])
            let users = try #require(json["users"] as? [String])
            let orgs = try #require(json["orgs"] as? [[String: String]])
            let usage = try #require(json["usage"] as? [[String: String]])
            #expect(packages.count == 50 && users.count > 150 && orgs.count == 5 && !usage.isEmpty && usage.count <= 5000)
            let top = try await one(
                db, "SELECT package_id::text FROM playground_usage WHERE package_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
            #expect(packages[0]["id"] == top)
            #expect(try await one(db, "SELECT name FROM packages WHERE id = '\(packages[0]["id"]!)'") == packages[0]["name"])
            let ids = (users + packages.map { $0["id"]! } + usage.map { $0["id"]! })
            #expect(ids.allSatisfy { $0 == $0.lowercased() && UUID(uuidString: $0) != nil })
            #expect(
                try await int(db, "SELECT count(*) FROM users WHERE deleted_at IS NULL AND id = ANY('{\(users.joined(separator: ","))}'::uuid[])")
                    == users.count)
            for org in orgs {
                #expect(
                    try await int(
                        db,
                        "SELECT count(*) FROM organization_members WHERE org_id = '\(org["id"]!)' AND user_id = '\(org["admin"]!)' AND role IN ('owner', 'admin')"
                    ) == 1)
            }
            let usageValues = usage.map { "('\($0["id"]!)'::uuid, '\($0["userId"]!)'::uuid, '\($0["packageId"]!)'::uuid)" }.joined(separator: ",")
            #expect(
                try await int(
                    db,
                    """
                    SELECT count(*) FROM (VALUES \(usageValues)) v(id, user_id, package_id)
                    JOIN playground_usage u ON u.id = v.id AND u.user_id = v.user_id AND u.package_id = v.package_id
                    JOIN users s ON s.id = u.user_id AND s.deleted_at IS NULL
                    """) == usage.count)
        }
    }

    @Test("ids are version-4 UUIDs; COPY text is escaped; versions are semantic with two-digit parts")
    func generatorUnits() throws {
        var random = Xoshiro256(seed: 1)
        for _ in 0..<100 {
            let text = SeedUUID(&random).string
            let uuid = try #require(UUID(uuidString: text))
            #expect(uuid.uuidString.lowercased() == text)
            let bytes = Array(text.utf8)
            #expect(bytes[14] == UInt8(ascii: "4"))
            #expect([UInt8]("89ab".utf8).contains(bytes[19]))
        }
        #expect(copyEscaped(Array("a\tb\nc\\d\re".utf8)) == Array("a\\tb\\nc\\\\d\\re".utf8))
        var line: [UInt8] = []
        line.appendTimestamp(Int64(20_000) * microsPerDay + 3_723_000_042)
        #expect(String(decoding: line, as: UTF8.self) == "2024-10-04 01:02:03.000042+00")

        var all: [String] = []
        for _ in 0..<200 {
            let versions = World.versions(&random, count: 1 + random.below(12))
            #expect((1...12).contains(versions.count))
            #expect(Set(versions).count == versions.count)
            // Oldest first: each one is newer than the one before.
            for (older, newer) in zip(versions, versions.dropFirst()) { #expect(VersionOrder.newerFirst(newer, older)) }
            all += versions
        }
        #expect(all.contains { $0.split(separator: ".").contains { $0.count == 2 } })
        #expect(all.contains { $0.contains("-beta.") })
        #expect(World.apportion(10, weights: [1, 1, 1]) == [4, 3, 3])

        let zipf = DiscreteDistribution.zipf(count: 100, exponent: 1)
        #expect(abs(zipf.probability(0) / zipf.probability(9) - 10) < 1e-9)
        #expect(zipf.index(for: 0) == 0 && zipf.index(for: 0.999_999_999) == 99)
    }
}

// MARK: - Helpers

private let quietLogger: Logger = {
    var logger = Logger(label: "seed-test")
    logger.logLevel = .warning
    return logger
}()

private let threadPool: NIOThreadPool = {
    let pool = NIOThreadPool(numberOfThreads: 2)
    pool.start()
    return pool
}()

/// TEST_DATABASE_URL with another database name.
private func databaseURL(_ name: String) throws -> String {
    let base = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] ?? "postgresql://prpm@127.0.0.1:54329/prpm_test"
    var components = try #require(URLComponents(string: base))
    components.path = "/" + name
    return try #require(components.string)
}

private func client(_ name: String) throws -> PostgresClient {
    PostgresClient(
        configuration: PostgresConfiguration(url: try databaseURL(name), statementTimeoutMs: 60_000), pool: .init(maxConnections: 2),
        threadPool: threadPool)
}

/// Creates `count` (1…3) migrated databases, runs `body` with clients on them, drops them.
private func withSeedDatabases(
    _ count: Int, _ body: (PostgresClient, PostgresClient, PostgresClient) async throws -> Void
) async throws {
    let admin = try client("postgres")
    defer { admin.shutdown() }
    let suffix = UUID().uuidString.prefix(8).lowercased()
    let names = (0..<count).map { "prpm_seedtest_\(suffix)_\($0)" }
    var clients: [PostgresClient] = []
    var failure: (any Error)?
    do {
        for name in names {
            try await admin.withConnection { try $0.execute("CREATE DATABASE \(name)") }
            let client = try client(name)
            clients.append(client)
            try await Migrator.migrate(client, logger: quietLogger)
        }
        try await body(clients[0], clients[min(1, count - 1)], clients[min(2, count - 1)])
    } catch {
        failure = error
    }
    for client in clients { client.shutdown() }
    for name in names { try? await admin.withConnection { try $0.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") } }
    if let failure { throw failure }
}

/// The first column of the first row, as text.
private func one(_ db: PostgresClient, _ sql: String) async throws -> String? {
    try await db.query(sql).values.first?.first ?? nil
}

private func int(_ db: PostgresClient, _ sql: String) async throws -> Int {
    try Int(postgresText: try #require(try await one(db, sql)))
}

private func double(_ db: PostgresClient, _ sql: String) async throws -> Double {
    try Double(postgresText: try #require(try await one(db, sql)))
}
