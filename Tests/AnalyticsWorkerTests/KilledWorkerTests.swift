import Analytics
import AnalyticsCache
import Foundation
import Postgres
import Redis
import TestSupport
import Testing

@testable import AnalyticsWorker

/// A real `prpm-analytics worker` process takes refresh tasks, is SIGKILLed while its refresh
/// is stuck on a lock, and the other worker claims and completes its pending tasks.
@Suite("A worker process killed mid-refresh", .serialized)
struct KilledWorkerTests {
    @Test func pendingTasksOfAKilledWorkerAreClaimedAndCompleted() async throws {
        let binary = TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/prpm-analytics").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the CLI first (Scripts/test does)")
        let (worker, deps) = try await makeWorker(name: "survivor") { config in
            config.leaseTTL = .milliseconds(100)
            config.refreshWindows = [30]
        }
        defer { Task { await deps.shutdown() } }
        try await deps.redis.command("DEL", Jobs.stream, CacheKey.hotPackages)
        try await deps.redis.command("XGROUP", "CREATE", Jobs.stream, Jobs.group, "0", "MKSTREAM")
        let f = Fixture(postgres: deps.postgres)
        let packages = [try await f.package("victim-a"), try await f.package("victim-b")]

        // Hold a lock the package query needs, so the victim's refresh hangs mid-task.
        let locker = PostgresClient(
            configuration: PostgresConfiguration(url: TestEnvironment.databaseURL), pool: .init(maxConnections: 1),
            threadPool: TestEnvironment.threadPool)
        defer { locker.shutdown() }
        let release = TestEnvironment.holdInTransaction(locker, "LOCK TABLE package_trends IN ACCESS EXCLUSIVE MODE", for: .seconds(4))
        try await Task.sleep(for: .milliseconds(200))
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("victim-\(f.tag).pid").path
        let environment = [
            "DATABASE_URL=\(TestEnvironment.databaseURL)", "REDIS_URL=\(TestEnvironment.redisURL)",
            "JWT_SECRET=\(TestEnvironment.jwtSecret)", "WORKER_CONSUMER_NAME=victim", "WORKER_REFRESH_INTERVAL_S=3600",
            "WORKER_TRENDS_INTERVAL_S=3600", "WORKER_RETENTION_INTERVAL_S=3600", "LOG_LEVEL=error",
        ].joined(separator: " ")
        #expect(system("\(environment) '\(binary)' worker >/dev/null 2>&1 & echo $! > '\(pidFile)'") == 0)
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(pid, SIGKILL) }
        for package in packages {
            try await deps.redis.command("XADD", Jobs.stream, "*", "package", package.id.canonical, "days", "30")
        }
        // Wait until the victim holds the tasks.
        var victimPending = 0
        for _ in 0..<50 where victimPending < 2 {
            try await Task.sleep(for: .milliseconds(100))
            let consumers = try await deps.redis.command("XINFO", "CONSUMERS", Jobs.stream, Jobs.group).array ?? []
            for consumer in consumers {
                let fields = consumer.array ?? []
                if let nameIndex = fields.firstIndex(where: { $0.string == "name" }), fields[nameIndex + 1].string == "victim",
                    let pendingIndex = fields.firstIndex(where: { $0.string == "pending" })
                {
                    victimPending = fields[pendingIndex + 1].int ?? 0
                }
            }
        }
        #expect(victimPending == 2)
        #expect(kill(pid, SIGKILL) == 0)
        try await release.value
        try await Task.sleep(for: .milliseconds(300))
        try await worker.drainStream()
        #expect(try await deps.redis.command("XPENDING", Jobs.stream, Jobs.group).array?.first?.int == 0)
        for package in packages {
            let key = CacheKey(endpoint: .package, entityId: package.id, days: 30).description
            #expect(try await deps.redis.command("EXISTS", key) == .integer(1), "\(key)")
        }
    }
}
