import Analytics
import ConnectionPool
import Foundation
import Logging
import NIOPosix
import Postgres
import Redis
import Synchronization

/// Where the integration tests find the servers started by `Scripts/test` (never mocks).
public enum TestEnvironment {
    public static var databaseURL: String {
        ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] ?? "postgresql://prpm@127.0.0.1:54329/prpm_test"
    }
    /// The hot standby of the test database (`Scripts/svc standby start` makes and starts it).
    public static var standbyURL: String {
        // `Scripts/svc standby` listens on the primary's port + 1 (another checkout may use other ports).
        ProcessInfo.processInfo.environment["TEST_DATABASE_READ_URL"]
            ?? "postgresql://prpm@127.0.0.1:\((ProcessInfo.processInfo.environment["PRPM_PG_PORT"].flatMap(Int.init) ?? 54329) + 1)/prpm_test"
    }
    public static var redisURL: String { ProcessInfo.processInfo.environment["TEST_REDIS_URL"] ?? "redis://127.0.0.1:63799/1" }
    public static let jwtSecret = "test-secret-0123456789abcdef0123456789abcdef"
    public static let ingestToken = "test-ingest-token"

    /// The repository root (for Scripts/svc).
    public static var repositoryRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }

    public static let threadPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    public static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }

    /// A Postgres client on the test database, schema migrated once per process.
    public static func postgres() async throws -> PostgresClient {
        let client = PostgresClient(configuration: PostgresConfiguration(url: databaseURL), pool: .init(maxConnections: 4), threadPool: threadPool)
        try await Migrated.once(client)
        return client
    }

    public static func redis() throws -> RedisClient {
        RedisClient(configuration: try RedisConfiguration(url: redisURL))
    }

    /// Runs a Scripts/svc command (`postgres stop`, `redis pause` …) and waits for it.
    /// (`system(3)`, not Foundation's Process, whose waitUntilExit can hang inside async tests on Linux.)
    public static func svc(_ arguments: String...) throws {
        let command = "cd '\(repositoryRoot.path)' && Scripts/svc " + arguments.joined(separator: " ") + " >/dev/null 2>&1"
        let status = system(command)
        guard status == 0 else { throw SvcError(command: command, status: status) }
    }

    /// A one-connection client of its own, for holding locks while the code under test waits.
    public static func locker() -> PostgresClient {
        PostgresClient(configuration: PostgresConfiguration(url: databaseURL), pool: .init(maxConnections: 1), threadPool: threadPool)
    }

    /// Runs `statement` (a lock) in a transaction on one of `client`'s connections and keeps
    /// the transaction open for `holding`. Returns once the statement has run (the lock is
    /// held); the returned task ends when it is released.
    public static func holdInTransaction(_ client: PostgresClient, _ statement: String, for holding: Duration) async throws -> Task<
        Void, any Error
    > {
        let microseconds = UInt32(holding.components.seconds * 1_000_000 + holding.components.attoseconds / 1_000_000_000_000)
        let held = Atomic<Bool>(false)
        let task = Task {
            try await client.withConnection(onCancel: .awaitOutcome) { connection in
                try connection.transaction { c in
                    try c.execute(statement)
                    held.store(true, ordering: .releasing)
                    usleep(microseconds)
                }
            }
        }
        try await eventually("the lock is taken") { held.load(ordering: .acquiring) }
        return task
    }

    /// Waits (polling every 5 ms, at most `timeout`) until `condition` holds; throws when it
    /// never does. Tests wait on conditions, not on guessed durations.
    public static func eventually(
        _ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw NotReached(what: what) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    public struct NotReached: Error, CustomStringConvertible {
        public let what: String
        public var description: String { "never happened: \(what)" }
    }

    public struct SvcError: Error {
        public let command: String
        public let status: Int32
    }
}

private actor Migrated {
    static let shared = Migrated()
    var done = false

    static func once(_ client: PostgresClient) async throws { try await shared.run(client) }

    func run(_ client: PostgresClient) async throws {
        guard !done else { return }
        try await Migrator.migrate(client, logger: TestEnvironment.logger)
        done = true
    }
}

/// The resident memory of this process (`/proc/self/statm`).
public enum MemoryProbe {
    public static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }
}

/// Runs `body`, then awaits `cleanup`, also when `body` throws: the awaited replacement of
/// `defer { Task { await … } }`, whose cleanup nobody waits for.
public func withCleanup<T>(_ cleanup: () async -> Void, run body: () async throws -> T) async throws -> T {
    let result: T
    do {
        result = try await body()
    } catch {
        await cleanup()
        throw error
    }
    await cleanup()
    return result
}

extension RedisClient {
    /// Deletes every key matching `pattern` (a test's own keys, left by an earlier run).
    public func deleteKeys(matching pattern: String) async throws {
        try await command("EVAL", "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 1", "0", pattern)
    }
}
