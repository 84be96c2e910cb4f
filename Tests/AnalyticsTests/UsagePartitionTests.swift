import Analytics
import Foundation
import Postgres
import TestSupport
import Testing

/// `playground_usage` partitioned by month (migration 12).
@Suite("Usage partitions", .serialized)
struct UsagePartitionTests {
    /// Runs `body` on a database of its own, next to the test database, created for it and
    /// dropped afterwards.
    static func withScratchDatabase(_ name: String, _ body: (PostgresClient) async throws -> Void) async throws {
        let base = TestEnvironment.databaseURL
        let admin = PostgresClient(
            configuration: PostgresConfiguration(url: base), pool: .init(maxConnections: 1), threadPool: TestEnvironment.threadPool)
        defer { admin.shutdown() }
        func drop() async throws { try await admin.withConnection { try $0.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") } }
        try await drop()
        try await admin.withConnection { try $0.execute("CREATE DATABASE \(name)") }
        let url = base.replacingOccurrences(of: #"/[^/?]+(\?|$)"#, with: "/\(name)$1", options: .regularExpression)
        let postgres = PostgresClient(
            configuration: PostgresConfiguration(url: url), pool: .init(maxConnections: 2), threadPool: TestEnvironment.threadPool)
        try await withCleanup({ postgres.shutdown() }) { try await body(postgres) }
        try await drop()
    }

    /// Digests of the rows and of every rollup table: the migration must change none of them.
    static let digests = """
        SELECT md5(coalesce((SELECT string_agg(u::text, ',' ORDER BY id) FROM playground_usage u), '')) || ' ' ||
               md5(coalesce((SELECT string_agg(s::text, ',' ORDER BY package_id, day) FROM package_daily_stats s), '')) || ' ' ||
               md5(coalesce((SELECT string_agg(m::text, ',' ORDER BY package_id, day, model) FROM package_daily_model_stats m), '')) || ' ' ||
               md5(coalesce((SELECT string_agg(v::text, ',' ORDER BY package_id, day, package_version)
                             FROM package_daily_version_stats v), '')) || ' ' ||
               md5(coalesce((SELECT string_agg(l::text, ',' ORDER BY package_id, user_id) FROM package_user_last_day l), '')) || ' ' ||
               md5(coalesce((SELECT string_agg(e::text, ',' ORDER BY package_id, day) FROM package_daily_extras e), ''))
        """

    @Test func theMigrationMovesExistingRowsIntoMonthlyPartitionsAndKeepsIndexesTriggersAndRollups() async throws {
        try await Self.withScratchDatabase("prpm_test_partitions") { postgres in
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger, through: 11)
            let f = Fixture(postgres: postgres)
            let package = try await f.package("moved")
            let users = [try await f.user("mover-a"), try await f.user("mover-b")]
            // Rows over 15 months (and one 13 months old), with versions, ratings and errors.
            var rows: [Fixture.Usage] = []
            for index in 0..<40 {
                var row = Fixture.Usage(user: users[index % 2], package: package.id)
                row.daysAgo = index * 12
                row.version = index % 3 == 0 ? "1.\(index % 4).0" : nil
                row.rating = index % 4 == 0 ? nil : 1 + index % 5
                row.error = index % 9 == 0
                rows.append(row)
            }
            var ancient = Fixture.Usage(user: users[0], package: package.id)
            ancient.daysAgo = 396
            rows.append(ancient)
            try await f.usage(rows)
            let before = try #require(try await f.scalar(Self.digests))
            #expect(try await f.scalar("SELECT relkind::text FROM pg_class WHERE oid = 'playground_usage'::regclass") == "r")

            #expect(try await Migrator.migrate(postgres, logger: TestEnvironment.logger) == Array(12...Migrator.all.count))

            #expect(try await f.rollupScalar(Self.digests) == before)
            #expect(try await f.scalar("SELECT relkind::text FROM pg_class WHERE oid = 'playground_usage'::regclass") == "p")
            #expect(try await f.scalar("SELECT to_regclass('playground_usage_unpartitioned')::text") == nil)
            // Every row is in the partition of its UTC month, none in the default one.
            #expect(
                try await f.scalar(
                    """
                    SELECT count(*) FILTER (WHERE tableoid::regclass::text = 'playground_usage_p' || to_char(created_at AT TIME ZONE 'UTC', 'YYYY_MM'))
                           || '/' || count(*) FROM playground_usage
                    """) == "\(rows.count)/\(rows.count)")
            #expect(try await f.scalar("SELECT count(*)::text FROM playground_usage_default") == "0")
            // This month and three ahead exist.
            #expect(
                try await f.scalar(
                    """
                    SELECT count(*)::text FROM generate_series(0, 3) k
                    WHERE to_regclass('playground_usage_p' || to_char((now() AT TIME ZONE 'UTC') + make_interval(months => k), 'YYYY_MM')) IS NOT NULL
                    """) == "4")
            // The design's index names are kept (partitioned indexes), and every partition has each of them.
            for index in [
                "idx_playground_usage_user_time", "idx_playground_usage_org_time", "idx_playground_usage_package",
                "idx_playground_usage_model", "idx_playground_usage_package_model", "idx_playground_usage_package_version",
                "idx_playground_usage_success", "idx_playground_usage_rating", "idx_playground_usage_user_cover",
                "idx_playground_usage_org_cover",
            ] {
                #expect(
                    try await f.scalar(
                        """
                        SELECT (SELECT count(*) FROM pg_inherits WHERE inhparent = $1::regclass)
                             = (SELECT count(*) FROM pg_inherits WHERE inhparent = 'playground_usage'::regclass) AS ok
                        """, [index]) == "t", "\(index)")
            }
            // The rollup triggers came along: a new row, a rating, a recompute and a delete all show.
            let added = try await f.usage([Fixture.Usage(user: users[1], package: package.id)])
            try await f.exec("UPDATE playground_usage SET user_rating = 5 WHERE id = $1", [added[0]])
            try await f.exec("UPDATE playground_usage SET created_at = created_at - interval '45 days' WHERE id = $1", [added[0]])
            try await f.exec("DELETE FROM playground_usage WHERE created_at < now() - interval '200 days'")
            #expect(
                try await f.rollupScalar(
                    """
                    SELECT ((SELECT coalesce(sum(runs), 0) FROM package_daily_stats WHERE package_id = $1)
                          = (SELECT count(*) FROM playground_usage WHERE package_id = $1))::text || '/' ||
                           ((SELECT coalesce(sum(rating_sum), 0) FROM package_daily_stats WHERE package_id = $1)
                          = (SELECT coalesce(sum(user_rating), 0) FROM playground_usage WHERE package_id = $1))::text
                    """, [package.id]) == "true/true")
        }
    }

    @Test func rowsOutsideEveryMonthWaitInTheDefaultPartitionAndMoveWhenTheirMonthIsCreated() async throws {
        let f = Fixture(postgres: try await TestEnvironment.postgres())
        let package = try await f.package("far-future")
        let user = try await f.user("time-traveller")
        // Seven months ahead: no partition (the migration and the worker keep three ahead; an
        // earlier run of this test on the same database may have made one: it goes first).
        var row = Fixture.Usage(user: user, package: package.id)
        row.daysAgo = -214
        let month = try #require(
            try await f.scalar("SELECT to_char($1::timestamptz AT TIME ZONE 'UTC', 'YYYY_MM')", [Fixture.timestamp(daysAgo: row.daysAgo)]))
        try await f.exec("DROP TABLE IF EXISTS playground_usage_p\(month)")
        let ids = try await f.usage([row])
        #expect(try await f.scalar("SELECT tableoid::regclass::text FROM playground_usage WHERE id = $1", [ids[0]]) == "playground_usage_default")
        let before = try #require(try await f.rollupScalar(Self.digests))

        #expect(try await f.scalar("SELECT usage_partitions_maintain(3, now() - interval '12 months')::text").map { Int($0)! >= 1 } == true)

        #expect(try await f.scalar("SELECT tableoid::regclass::text FROM playground_usage WHERE id = $1", [ids[0]]) == "playground_usage_p\(month)")
        #expect(try await f.rollupScalar(Self.digests) == before, "a move changes no row and no rollup")
        // Idempotent.
        #expect(try await f.scalar("SELECT usage_partitions_maintain(3, now() - interval '12 months')::text") == "0")
        try await f.exec("DELETE FROM playground_usage WHERE id = $1", [ids[0]])
    }

    /// Migration 14: every partition, also one made later by the worker's upkeep, is vacuumed
    /// after 1 % of its rows changed (2 % inserted) instead of the default 20 %.
    @Test func everyPartitionGetsTheAutovacuumThresholdsAlsoOnesTheWorkerCreates() async throws {
        let postgres = try await TestEnvironment.postgres()
        let f = Fixture(postgres: postgres)
        let untuned = """
            SELECT count(*)::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'playground_usage'::regclass
              AND NOT coalesce(c.reloptions, '{}') @> ARRAY['autovacuum_vacuum_scale_factor=0.01', 'autovacuum_vacuum_insert_scale_factor=0.02']
            """
        #expect(try await f.scalar(untuned) == "0")
        // A month the worker creates later (its rows wait in the default partition until then).
        var row = Fixture.Usage(user: try await f.user("tuned-partition"), package: try await f.package("tuned-partition").id)
        row.daysAgo = -214
        let month = try #require(
            try await f.scalar("SELECT to_char($1::timestamptz AT TIME ZONE 'UTC', 'YYYY_MM')", [Fixture.timestamp(daysAgo: row.daysAgo)]))
        try await f.exec("DROP TABLE IF EXISTS playground_usage_p\(month)")
        let ids = try await f.usage([row])
        #expect(try await AnalyticsQueries(postgres: postgres).maintainUsagePartitions(monthsAhead: 3, guard: nil) >= 1)
        #expect(try await f.scalar("SELECT (to_regclass('playground_usage_p\(month)') IS NOT NULL)::text") == "true")
        #expect(try await f.scalar(untuned) == "0")
        try await f.exec("DELETE FROM playground_usage WHERE id = $1", [ids[0]])
    }
}
