import Analytics
import AnalyticsCache
import Foundation
import Postgres
import Redis
import TestSupport
import Testing

@testable import AnalyticsWorker

extension WorkerSuites {
    /// A real `prpm-analytics worker` process takes refresh tasks, is SIGKILLed while its refresh
    /// is stuck on a lock, and the other worker claims and completes its pending tasks.
    @Suite("Worker processes killed or paused mid-job")
    struct KilledWorkerTests {
        @Test func pendingTasksOfAKilledWorkerAreClaimedAndCompleted() async throws {
            let binary = TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/prpm-analytics").path
            try #require(FileManager.default.isExecutableFile(atPath: binary), "build the CLI first (Scripts/test does)")
            let (worker, deps) = try await makeWorker(name: "survivor") { config in
                config.leaseTTL = .milliseconds(100)
                config.refreshWindows = [30]
            }
            try await withCleanup({ await deps.shutdown() }) {
                try await deps.redis.command("DEL", Jobs.stream, RedisKeyspace.hotPackages)
                try await deps.redis.command("XGROUP", "CREATE", Jobs.stream, Jobs.group, "0", "MKSTREAM")
                let f = Fixture(postgres: deps.postgres)
                let packages = [try await f.package("victim-a"), try await f.package("victim-b")]

                // Hold a lock the package query needs, so the victim's refresh hangs mid-task.
                let locker = TestEnvironment.locker()
                defer { locker.shutdown() }
                let release = try await TestEnvironment.holdInTransaction(
                    locker, "LOCK TABLE package_trends IN ACCESS EXCLUSIVE MODE", for: .seconds(4))
                let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("victim-\(f.tag).pid").path
                let environment = [
                    "DATABASE_URL=\(TestEnvironment.databaseURL)", "REDIS_URL=\(TestEnvironment.redisURL)",
                    "WORKER_CONSUMER_NAME=victim", "WORKER_REFRESH_INTERVAL_S=3600",
                    "WORKER_TRENDS_INTERVAL_S=3600", "WORKER_RETENTION_INTERVAL_S=3600", "LOG_LEVEL=error",
                ].joined(separator: " ")
                #expect(system("env -u JWT_SECRET \(environment) '\(binary)' worker >/dev/null 2>&1 & echo $! > '\(pidFile)'") == 0)
                let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
                defer { kill(pid, SIGKILL) }
                for package in packages {
                    try await deps.redis.command("XADD", Jobs.stream, "*", "package", package.id.canonical, "days", "30")
                }
                // Wait until the victim holds the tasks.
                try await TestEnvironment.eventually("the victim holds both tasks") {
                    var victimPending = 0
                    let consumers = try await deps.redis.command("XINFO", "CONSUMERS", Jobs.stream, Jobs.group).array ?? []
                    for consumer in consumers {
                        let fields = consumer.array ?? []
                        if let nameIndex = fields.firstIndex(where: { $0.string == "name" }), fields[nameIndex + 1].string == "victim",
                            let pendingIndex = fields.firstIndex(where: { $0.string == "pending" })
                        {
                            victimPending = fields[pendingIndex + 1].int ?? 0
                        }
                    }
                    return victimPending == 2
                }
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

        @Test func aWorkerPausedPastItsLeaseCannotWriteAfterTheNextHolder() async throws {
            let binary = TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/prpm-analytics").path
            try #require(FileManager.default.isExecutableFile(atPath: binary), "build the CLI first (Scripts/test does)")
            let (nextHolder, deps) = try await makeWorker(name: "next-holder") { $0.leaseTTL = .seconds(1) }
            try await withCleanup({ await deps.shutdown() }) {
                let (leaseKey, _) = Lease.keys(WorkerJob.trends.rawValue)
                try await deps.redis.command("DEL", leaseKey)
                let f = Fixture(postgres: deps.postgres)
                // Earlier runs may have left a larger token in Postgres than this Redis database's counter.
                let written = Int(try await f.scalar("SELECT fence FROM job_fences WHERE job = 'trends'") ?? "0") ?? 0
                try await Lease.raiseFence(WorkerJob.trends.rawValue, to: written, redis: deps.redis)
                let user = try await f.user("fenced")
                let old = try await f.package("fenced-old")
                var row = Fixture.Usage(user: user, package: old.id)
                row.daysAgo = 3
                _ = try await f.usage([row])

                // The paused worker's trends read waits for this lock, so that it is paused between
                // reading and writing (as a GC pause or a stopped VM would catch it).
                let locker = TestEnvironment.locker()
                defer { locker.shutdown() }
                let lock = try await TestEnvironment.holdInTransaction(
                    locker, "LOCK TABLE package_daily_stats IN ACCESS EXCLUSIVE MODE", for: .milliseconds(900))
                let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("paused-\(f.tag).pid").path
                let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("paused-\(f.tag).log").path
                let environment = [
                    "DATABASE_URL=\(TestEnvironment.databaseURL)", "REDIS_URL=\(TestEnvironment.redisURL)", "WORKER_JOBS=trends",
                    "WORKER_LEASE_TTL_S=1", "WORKER_TRENDS_INTERVAL_S=3600", "WORKER_CONSUMER_NAME=paused", "LOG_LEVEL=info",
                    "ROLLUP_FOLD_INTERVAL_MS=0",
                ].joined(separator: " ")
                #expect(system("env -u JWT_SECRET \(environment) '\(binary)' worker --plain-logs >'\(logFile)' 2>&1 & echo $! > '\(pidFile)'") == 0)
                let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
                defer { kill(pid, SIGKILL) }
                try await TestEnvironment.eventually("the worker process takes the trends lease") {
                    try await deps.redis.command("GET", leaseKey).string != nil
                }
                try await TestEnvironment.eventually("the worker's trends read waits for the lock") {
                    try await f.scalar(
                        """
                        SELECT count(*) FROM pg_stat_activity
                        WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()
                          AND (query LIKE '%FROM package_daily_stats%' OR query LIKE '%usage_fold_pending%')
                        """) == "1"
                }
                #expect(kill(pid, SIGSTOP) == 0)
                try await lock.value

                // Past the paused worker's lease: usage of a new package, and the next holder's run.
                try await TestEnvironment.eventually("the paused worker's lease expires") {
                    try await deps.redis.command("GET", leaseKey).string == nil
                }
                let new = try await f.package("fenced-new")
                row.package = new.id
                _ = try await f.usage([row])
                #expect(await nextHolder.runLeased(.trends))
                let trendOfNew = "SELECT count(*) FROM package_trends WHERE package_id = $1"
                #expect(try await f.scalar(trendOfNew, [new.id]) == "1")
                let fence = try await f.scalar("SELECT fence FROM job_fences WHERE job = 'trends'")

                // The paused worker resumes with its old read in hand: whatever it tries is refused.
                #expect(kill(pid, SIGCONT) == 0)
                var log = ""
                try await TestEnvironment.eventually("the paused worker's run ends") {
                    log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
                    return log.contains("job failed") || log.contains("job finished")
                }
                #expect(!log.contains("job finished"), "the paused worker's run must not succeed:\n\(log)")
                #expect(log.contains("lease lost") || log.contains("job failed"), "\(log)")
                #expect(try await f.scalar(trendOfNew, [new.id]) == "1", "the paused worker's write removed the newer trend")
                #expect(try await f.scalar("SELECT fence FROM job_fences WHERE job = 'trends'") == fence)
            }
        }
    }
}
