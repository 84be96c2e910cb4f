import ConnectionPool
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Postgres client (libpq) against the real server", .serialized)
struct PostgresClientTests {
    @Test func parametersAndTypedDecoding() async throws {
        let client = try await TestEnvironment.postgres()
        let id = UUID()
        let rows = try await client.query(
            "SELECT $1::int AS i, $2::text AS t, $3::uuid AS u, $4::bool AS b, $5::float8 AS d, $6::text AS n, 2.5::numeric AS num",
            [42, "it's \"quoted\"", id, true, 1.25, String?.none])
        let row = try #require(rows.first)
        #expect(try row.decode("i", as: Int.self) == 42)
        #expect(try row.decode("t", as: String.self) == "it's \"quoted\"")
        #expect(try row.decode("u", as: UUID.self) == id)
        #expect(try row.decode("b", as: Bool.self) == true)
        #expect(try row.decode("d", as: Double.self) == 1.25)
        #expect(try row.decode("n", as: String?.self) == nil)
        #expect(try row.decode("num", as: Double.self) == 2.5)
        #expect(throws: PostgresError.self) { try row.decode("n", as: String.self) }
        #expect(throws: PostgresError.self) { try row.decode("t", as: Int.self) }
        #expect(throws: PostgresError.self) { try row.decode("missing", as: Int.self) }
    }

    /// Issue 11, item 9: TCP keepalives and a user timeout on every connection (a URL may override them).
    @Test func connectionsUseKeepalivesAndAUserTimeout() throws {
        let connection = try PostgresConnection(configuration: PostgresConfiguration(url: TestEnvironment.databaseURL))
        defer { connection.close() }
        #expect(connection.option("keepalives") == "1")
        #expect(connection.option("keepalives_idle") == "30")
        #expect(connection.option("tcp_user_timeout") == "30000")
        let separator = TestEnvironment.databaseURL.contains("?") ? "&" : "?"
        let overridden = try PostgresConnection(
            configuration: PostgresConfiguration(url: TestEnvironment.databaseURL + separator + "keepalives_idle=5"))
        defer { overridden.close() }
        #expect(overridden.option("keepalives_idle") == "5")
    }

    @Test func timestampsRoundTripInUTC() async throws {
        let client = try await TestEnvironment.postgres()
        let date = Date(timeIntervalSince1970: 1_764_072_245.123456)
        let row = try #require(
            try await client.query("SELECT $1::timestamptz AS ts, ($1::timestamptz AT TIME ZONE 'UTC')::text AS utc", [date]).first)
        let decoded: Date = try row.decode("ts")
        #expect(abs(decoded.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_01)
        #expect(try row.decode("utc", as: String.self) == "2025-11-25 12:04:05.123456")
    }

    @Test func serverErrorsCarrySQLState() async throws {
        let client = try await TestEnvironment.postgres()
        do {
            _ = try await client.query("SELECT 1/0 AS x")
            Issue.record("expected an error")
        } catch let error as PostgresError {
            #expect(error.sqlState == "22012")
            #expect(!error.isConnectionFailure)
        }
        // The connection is still usable after a statement error.
        #expect(try await client.query("SELECT 7 AS x").first?.decode("x", as: Int.self) == 7)
    }

    @Test func statementTimeoutIsApplied() async throws {
        let client = PostgresClient(
            configuration: PostgresConfiguration(url: TestEnvironment.databaseURL, statementTimeoutMs: 100), pool: .init(maxConnections: 1),
            threadPool: TestEnvironment.threadPool)
        defer { client.shutdown() }
        do {
            _ = try await client.query("SELECT pg_sleep(2)")
            Issue.record("expected the statement to be cancelled")
        } catch let error as PostgresError {
            #expect(error.sqlState == PostgresError.queryCanceled)
        }
    }

    @Test func transactionRollsBackOnError() async throws {
        let client = try await TestEnvironment.postgres()
        let table = "tx_\(UUID().uuidString.prefix(8).lowercased())"
        try await client.withConnection { try $0.execute("CREATE TABLE \(table) (v int PRIMARY KEY)") }
        await #expect(throws: PostgresError.self) {
            try await client.withConnection { c in
                try c.transaction { c in
                    try c.query("INSERT INTO \(table) VALUES ($1)", [1])
                    try c.query("INSERT INTO \(table) VALUES ($1)", [1])  // unique violation
                }
            }
        }
        #expect(try await client.query("SELECT count(*) AS n FROM \(table)").first?.decode("n", as: Int.self) == 0)
        try await client.withConnection { try $0.execute("DROP TABLE \(table)") }
    }

    @Test func preparedStatementsAreReusedPerConnection() async throws {
        let client = TestEnvironment.locker()
        defer { client.shutdown() }
        for value in 1...5 {
            #expect(try await client.query("SELECT $1::int * 2 AS x", [value]).first?.decode("x", as: Int.self) == value * 2)
        }
        let prepared = try await client.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", ["SELECT $1::int * 2 AS x"])
        #expect(try prepared.first?.decode("n", as: Int.self) == 1)
    }

    /// The package answer's seven statements go out in one round trip (libpq pipeline mode):
    /// each statement's rows in order, one read-only snapshot, prepared once per connection.
    @Test func pipelinedSnapshotReturnsEachStatementsRowsFromOneTransaction() async throws {
        let client = TestEnvironment.locker()
        defer { client.shutdown() }
        let table = "pipe_\(UUID().uuidString.prefix(8).lowercased())"
        try await client.withConnection { try $0.execute("CREATE TABLE \(table) (v int PRIMARY KEY); INSERT INTO \(table) VALUES (1), (2), (3)") }
        let statements = [
            PostgresStatement("SELECT count(*) AS n FROM \(table) WHERE v >= $1", [2]),
            PostgresStatement(
                "SELECT current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro, now()::text AS t"),
            PostgresStatement("SELECT v, now()::text AS t FROM \(table) ORDER BY v"),
        ]
        for _ in 0..<2 {  // the second round runs the statements prepared by the first
            let results = try await client.withConnection { try $0.readOnlySnapshot(statements) }
            #expect(results.count == 3)
            #expect(try results[0].first?.decode("n", as: Int.self) == 2)
            #expect(try results[1].first?.decode("iso", as: String.self) == "repeatable read")
            #expect(try results[1].first?.decode("ro", as: String.self) == "on")
            #expect(try results[2].map { try $0.decode("v", as: Int.self) } == [1, 2, 3])
            // now() is the transaction's start: equal in every statement of one transaction.
            #expect(try results[2].first?.decode("t", as: String.self) == results[1].first?.decode("t", as: String.self))
        }
        let prepared = try await client.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE $1", ["%\(table)%"])
        #expect(try prepared.first?.decode("n", as: Int.self) == 2)

        // An error anywhere: the first error is thrown, the transaction is rolled back and the
        // connection is usable at once (outside any transaction).
        let afterError = try await client.withConnection { c -> String in
            #expect(throws: PostgresError.self) {
                try c.readOnlySnapshot([statements[0], PostgresStatement("SELECT 1 / $1::int AS x", [0]), statements[2]])
            }
            #expect(throws: PostgresError.self) {
                try c.readOnlySnapshot([PostgresStatement("INSERT INTO \(table) VALUES ($1)", [4])])  // read-only
            }
            return try c.query("SELECT current_setting('transaction_read_only') AS ro, count(*)::text AS n FROM \(table)").first!.decode("n")
        }
        #expect(afterError == "3")
        let results = try await client.withConnection { try $0.readOnlySnapshot(statements) }
        #expect(try results[0].first?.decode("n", as: Int.self) == 2)
        try await client.withConnection { try $0.execute("DROP TABLE \(table)") }
    }

    /// A backend that dies in the middle of a pipeline: the call fails as a connection failure,
    /// the connection is dropped, and the next call gets a new one.
    @Test func aPipelineWhoseBackendDiesFailsAndTheConnectionIsReplaced() async throws {
        let client = TestEnvironment.locker()
        defer { client.shutdown() }
        let first = try #require(try await client.query("SELECT pg_backend_pid() AS pid").first).decode("pid", as: Int.self)
        await #expect(throws: PostgresError.self) {
            try await client.withConnection(retryOnBrokenConnection: false) { c in
                try c.readOnlySnapshot([
                    PostgresStatement("SELECT 1 AS x"), PostgresStatement("SELECT pg_terminate_backend(pg_backend_pid())"),
                    PostgresStatement("SELECT 2 AS x"),
                ])
            }
        }
        let second = try #require(try await client.query("SELECT pg_backend_pid() AS pid").first).decode("pid", as: Int.self)
        #expect(second != first)
        #expect(client.pool.stats.open == 1)
    }

    @Test func copyInLoadsRowsAndArraysBindBatches() async throws {
        let client = try await TestEnvironment.postgres()
        let table = "copy_\(UUID().uuidString.prefix(8).lowercased())"
        let copied = try await client.withConnection { c -> Int in
            try c.execute("CREATE TABLE \(table) (id int, name text)")
            return try c.copyIn("COPY \(table) (id, name) FROM STDIN") { emit in
                for index in 0..<1000 { try emit("\(index)\tname \(index)\\twith tab\n") }
                try emit("1000\t\\N\n")
            }
        }
        #expect(copied == 1001)
        let row = try #require(try await client.query("SELECT count(*) AS n, count(name) AS named, max(name) AS top FROM \(table)").first)
        #expect(try row.decode("n", as: Int.self) == 1001)
        #expect(try row.decode("named", as: Int.self) == 1000)
        #expect(try row.decode("top", as: String.self) == "name 999\twith tab")
        let values = try await client.query(
            "SELECT x FROM unnest($1::text[]) AS x", [PostgresArray(["a\"b", "c\\d", nil, "e,f"] as [String?])])
        #expect(values.values.map { $0[0] } == ["a\"b", "c\\d", nil, "e,f"])
        try await client.withConnection { try $0.execute("DROP TABLE \(table)") }
    }

    @Test func poolBoundsConnectionsAndTimesOutWaiters() async throws {
        let client = PostgresClient(
            configuration: PostgresConfiguration(url: TestEnvironment.databaseURL),
            pool: .init(maxConnections: 1, acquireTimeout: .milliseconds(200)), threadPool: TestEnvironment.threadPool)
        defer { client.shutdown() }
        async let slow: PostgresRows = client.query("SELECT pg_sleep(1) AS s")
        try await Task.sleep(for: .milliseconds(100))
        await #expect(throws: PoolError.acquireTimeout) { _ = try await client.query("SELECT 1 AS x") }
        _ = try await slow
        #expect(client.pool.stats.open == 1)
    }

    @Test func recoversAfterServerRestartWithoutRestartingTheProcess() async throws {
        let client = PostgresClient(
            configuration: PostgresConfiguration(url: TestEnvironment.databaseURL), pool: .init(maxConnections: 2),
            threadPool: TestEnvironment.threadPool)
        defer { client.shutdown() }
        #expect(try await client.query("SELECT 1 AS x").count == 1)
        try TestEnvironment.svc("postgres", "restart")
        // The idle connection is dead; the client notices, drops it and reconnects.
        #expect(try await client.query("SELECT 2 AS x").first?.decode("x", as: Int.self) == 2)
        #expect(try await client.query("SELECT 3 AS x").first?.decode("x", as: Int.self) == 3)
    }

    /// A write is never retried (it may have happened), so an idle connection the server
    /// closed meanwhile must not reach it: the pool checks idle connections before reuse.
    @Test func anIdleConnectionTheServerClosedIsReplacedBeforeAWriteUsesIt() async throws {
        let client = PostgresClient(
            configuration: PostgresConfiguration(url: TestEnvironment.databaseURL), pool: .init(maxConnections: 1),
            threadPool: TestEnvironment.threadPool)
        defer { client.shutdown() }
        let first = try #require(try await client.query("SELECT pg_backend_pid() AS pid").first).decode("pid", as: Int.self)
        let admin = try await TestEnvironment.postgres()
        #expect(try await admin.query("SELECT pg_terminate_backend($1) AS done", [first]).first?.decode("done", as: Bool.self) == true)
        try await TestEnvironment.eventually("the backend is gone") {
            try await admin.query("SELECT 1 AS x FROM pg_stat_activity WHERE pid = $1", [first]).isEmpty
        }
        // No retry, as for ingestion and feedback.
        let second = try await client.withConnection(retryOnBrokenConnection: false) {
            try $0.query("SELECT pg_backend_pid() AS pid", []).first!.decode("pid", as: Int.self)
        }
        #expect(second != first)
        #expect(client.pool.stats.open == 1)
    }

    @Test func connectionFailureIsTyped() async throws {
        let client = PostgresClient(
            configuration: PostgresConfiguration(url: "postgresql://prpm@127.0.0.1:1/none", connectTimeoutSeconds: 1),
            pool: .init(maxConnections: 1), threadPool: TestEnvironment.threadPool)
        defer { client.shutdown() }
        do {
            _ = try await client.query("SELECT 1")
            Issue.record("expected a connection error")
        } catch let error as PostgresError {
            #expect(error.isConnectionFailure)
        }
        #expect(client.pool.stats.open == 0)
    }
}
