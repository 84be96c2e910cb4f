import Analytics
import AnalyticsCache
import AnalyticsRuntime
import Foundation
import Postgres
import Redis
import Synchronization
import TestSupport
import Testing

@testable import AnalyticsWorker

/// A worker (and its API-side dependencies) on the test servers.
func makeWorker(
    name: String = "test-\(UUID().uuidString.prefix(6))", _ configure: (inout WorkerConfig) -> Void = { _ in },
    onJob: (@Sendable (WorkerJob) -> Void)? = nil
) async throws -> (AnalyticsWorker, Runtime) {
    _ = try await TestEnvironment.postgres()
    var runtime = RuntimeConfig()
    runtime.databaseURL = TestEnvironment.databaseURL
    runtime.redisURL = TestEnvironment.redisURL
    runtime.redisTimeoutMs = 200
    let deps = try Runtime(config: runtime, logger: TestEnvironment.logger)
    var config = WorkerConfig()
    config.consumerName = name
    configure(&config)
    let worker = AnalyticsWorker(
        dependencies: WorkerDependencies(
            postgres: deps.postgres, redis: deps.redis, queries: deps.queries, cache: deps.cache, config: config, logger: TestEnvironment.logger,
            onJobFinished: onJob))
    return (worker, deps)
}

/// The suites that take the jobs' global leases or start worker processes run one at a time.
@Suite(.serialized) enum WorkerSuites {}

extension WorkerSuites {
    @Suite("Worker jobs against the real servers", .serialized)
    struct WorkerJobTests {
        @Test func aWriteWithAnOlderLeaseTokenIsRefusedAndChangesNothing() async throws {
            let (worker, deps) = try await makeWorker()
            try await withCleanup({ await deps.shutdown() }) {
                let f = Fixture(postgres: deps.postgres)
                let user = try await f.user("fence-order")
                var row = Fixture.Usage(user: user, package: try await f.package("fence-order").id)
                row.daysAgo = 2
                _ = try await f.usage([row])
                let jobs = Jobs(deps: worker.deps)
                func newest(_ job: WorkerJob) async throws -> Int {
                    Int(try await f.scalar("SELECT coalesce(max(fence), 0) FROM job_fences WHERE job = $1", [job.rawValue]) ?? "0") ?? 0
                }
                let retention = try await newest(.retention)
                _ = try await jobs.retention(fence: JobFence(job: .retention, token: retention + 2))
                let newest = try await newest(.trends)
                #expect(try await jobs.trends(fence: JobFence(job: .trends, token: newest + 2)) > 0)
                let before = try await f.scalar(
                    "SELECT string_agg(package_id::text || computed_at::text, ',' ORDER BY package_id) FROM package_trends")
                // The holder before it resumes late: refused, whatever it computed.
                await #expect(throws: JobFence.FencedOut.self) { try await jobs.trends(fence: JobFence(job: .trends, token: newest + 1)) }
                await #expect(throws: JobFence.FencedOut.self) { try await jobs.retention(fence: JobFence(job: .retention, token: retention + 1)) }
                #expect(
                    try await f.scalar("SELECT string_agg(package_id::text || computed_at::text, ',' ORDER BY package_id) FROM package_trends")
                        == before)
                #expect(try await f.scalar("SELECT fence FROM job_fences WHERE job = 'trends'") == String(newest + 2))
                // The same token again (a retry within one lease) is fine.
                #expect(try await jobs.trends(fence: JobFence(job: .trends, token: newest + 2)) > 0)
            }
        }

        @Test func trendsUseTheLastSevenCompleteUTCDays() async throws {
            let (worker, deps) = try await makeWorker()
            try await withCleanup({ await deps.shutdown() }) {
                let f = Fixture(postgres: deps.postgres)
                let user = try await f.user("trend")
                let (rising, falling, fresh) = (try await f.package("rising"), try await f.package("falling"), try await f.package("new"))
                func rows(_ package: UUID, _ spec: [(daysAgo: Int, hour: Int, count: Int)]) -> [Fixture.Usage] {
                    spec.flatMap { item in
                        (0..<item.count).map { _ in
                            var row = Fixture.Usage(user: user, package: package)
                            row.daysAgo = item.daysAgo
                            row.hour = item.hour
                            return row
                        }
                    }
                }
                // rising: this week 12, last week 10; today and day 15 are ignored.
                try await f.usage(
                    rows(rising.id, [(7, 0, 6), (1, 23, 6), (0, 1, 50), (8, 23, 5), (14, 0, 5), (15, 12, 40)])
                        + rows(falling.id, [(3, 5, 8), (10, 5, 10)]) + rows(fresh.id, [(2, 2, 3)]))
                let runsBefore = Int(await WorkerMetrics.fetch(deps.redis)?["runs:trends"] ?? "0") ?? 0
                #expect(await worker.runOnce(.trends))
                // Published for every API replica's /metrics.
                let fields = try #require(await WorkerMetrics.fetch(deps.redis))
                #expect(Int(fields["runs:trends"] ?? "") == runsBefore + 1)
                #expect(WorkerMetrics.render(fields).contains("prpm_worker_job_duration_seconds_count{job=\"trends\"} \(runsBefore + 1)"))
                let client = try await deps.queries.trending(limit: 100)
                let byName = Dictionary(uniqueKeysWithValues: client.packages.map { ($0.name, $0) })
                let r = try #require(byName[rising.name])
                #expect((r.thisWeek, r.lastWeek, r.changePct, r.trend) == (12, 10, 20, "rising"))
                let fa = try #require(byName[falling.name])
                #expect((fa.thisWeek, fa.lastWeek, fa.changePct, fa.trend) == (8, 10, -20, "falling"))
                let n = try #require(byName[fresh.name])
                #expect((n.thisWeek, n.lastWeek, n.changePct, n.trend) == (3, 0, nil, "new"))
                // Ordered by (this − last) desc, then name.
                let names = client.packages.map(\.name).filter { [rising.name, falling.name, fresh.name].contains($0) }
                #expect(names == [fresh.name, rising.name, falling.name])
                #expect(client.computedAt?.hasSuffix("Z") == true)
                // The package response carries it as weekOverWeek.
                let stats = try await deps.queries.packageStats(PackageRef(id: rising.id, name: rising.name), window: AnalyticsWindow(days: 30))
                #expect(stats.weekOverWeek?.trend == "rising")
                #expect(stats.weekOverWeek?.changePct == 20)
            }
        }

        @Test func retentionFoldsDeletesClearsAndAnonymizes() async throws {
            let (worker, deps) = try await makeWorker { $0.retentionBatchSize = 2 }
            try await withCleanup({ await deps.shutdown() }) {
                let f = Fixture(postgres: deps.postgres)
                let user = try await f.user("old-timer")
                let gone = try await f.user("gone", deletedAt: Date().addingTimeInterval(-31 * 86_400))
                let recentlyGone = try await f.user("recently-gone", deletedAt: Date().addingTimeInterval(-29 * 86_400))
                // Two deleted users whose ids share their first 8 hex digits: both names stay unique.
                let twins = (1...2).map { UUID(uuidString: "abcdef12-0000-4000-8000-00000000000\($0)")! }
                for (index, id) in twins.enumerated() {
                    try await f.exec(
                        "INSERT INTO users (id, username, email, deleted_at) VALUES ($1, $2, 'twin@example.com', now() - interval '40 days') ON CONFLICT (id) DO UPDATE SET username = excluded.username, email = excluded.email",
                        [id, "twin-\(index)-\(UUID().uuidString.prefix(6))"])
                }
                let package = try await f.package("ancient")
                let ids = try await f.usage((0..<5).map { _ in Fixture.Usage(user: gone, package: package.id) })
                // Ages: 12 months + 1 day (goes), 12 months − 1 day (stays), 7 months with feedback text (text cleared).
                try await f.exec(
                    "UPDATE playground_usage SET created_at = now() - interval '12 months' - interval '1 day', user_rating = 4 WHERE id = ANY($1::uuid[])",
                    [PostgresArray([ids[0], ids[1], ids[2]])])
                try await f.exec("UPDATE playground_usage SET created_at = now() - interval '12 months' + interval '1 day' WHERE id = $1", [ids[3]])
                try await f.exec(
                    "UPDATE playground_usage SET created_at = now() - interval '7 months', user_feedback = 'old words', user_rating = 2, was_helpful = true WHERE id = $1",
                    [ids[4]])
                _ = user
                let rollupBefore = try await f.rollupScalar(
                    "SELECT sum(runs)::text || '/' || sum(rating_sum)::text FROM package_daily_stats WHERE package_id = $1", [package.id])

                let (oldKey, newKey) = ("retention-old-\(f.tag)", "retention-new-\(f.tag)")
                try await f.exec(
                    """
                    INSERT INTO ingest_requests (key, body_sha256, ids, created_at)
                    VALUES ($1, '\\x00', '{}', now() - interval '25 hours'), ($2, '\\x00', '{}', now() - interval '23 hours')
                    """, [oldKey, newKey])

                let userRuns = "SELECT sum(runs)::text FROM user_daily_stats WHERE user_id = $1"
                #expect(try await f.rollupScalar(userRuns, [gone]) == "5")

                #expect(await worker.runOnce(.retention))
                #expect(try await f.scalar("SELECT count(*)::text FROM playground_usage WHERE package_id = $1", [package.id]) == "2")
                // The user rollups keep the days retention keeps (migration 16).
                #expect(try await f.rollupScalar(userRuns, [gone]) == "2")
                #expect(
                    try await f.scalar("SELECT string_agg(key, ',') FROM ingest_requests WHERE key IN ($1, $2)", [oldKey, newKey]) == newKey)
                #expect(
                    try await f.scalar(
                        "SELECT sum(runs)::text || '/' || sum(rating_sum)::text FROM usage_daily_archive WHERE package_id = $1", [package.id])
                        == "3/12")
                // The per-package daily aggregates are kept: public figures do not change.
                #expect(
                    try await f.rollupScalar(
                        "SELECT sum(runs)::text || '/' || sum(rating_sum)::text FROM package_daily_stats WHERE package_id = $1", [package.id])
                        == rollupBefore)
                #expect(
                    try await f.scalar(
                        "SELECT coalesce(user_feedback, 'NULL') || '/' || user_rating || '/' || was_helpful FROM playground_usage WHERE id = $1",
                        [ids[4]]
                    )
                        == "NULL/2/true")
                let expectedName = "deleted-" + gone.uuidString.lowercased().replacingOccurrences(of: "-", with: "")
                #expect(
                    try await f.scalar("SELECT username || '/' || coalesce(email, 'NULL') FROM users WHERE id = $1", [gone])
                        == "\(expectedName)/NULL"
                )
                #expect(try await f.scalar("SELECT username FROM users WHERE id = $1", [recentlyGone])?.hasPrefix("recently-gone") == true)
                for id in twins {
                    #expect(
                        try await f.scalar("SELECT username || '/' || coalesce(email, 'NULL') FROM users WHERE id = $1", [id])
                            == "deleted-\(id.canonical.replacingOccurrences(of: "-", with: ""))/NULL")
                }
                // Idempotent: a second run changes nothing.
                #expect(await worker.runOnce(.retention))
                #expect(try await f.scalar("SELECT sum(runs)::text FROM usage_daily_archive WHERE package_id = $1", [package.id]) == "3")
            }
        }

        /// Rows of `monthsAgo` whole months back, in a partition of their own (moved there from
        /// the default partition), for the retention tests.
        func expiredMonth(_ f: Fixture, monthsAgo: Int, package: UUID, user: UUID, rows: Int) async throws -> String {
            let ids = try await f.usage((0..<rows).map { _ in Fixture.Usage(user: user, package: package) })
            try await f.exec(
                """
                UPDATE playground_usage SET created_at = date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                  - make_interval(months => $2) + interval '3 days', user_rating = 3 WHERE id = ANY($1::uuid[])
                """, [PostgresArray(ids), monthsAgo])
            let month = try #require(
                try await f.scalar("SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY_MM') FROM playground_usage WHERE id = $1", [ids[0]]))
            try await f.exec("SELECT usage_partition_create(to_date($1, 'YYYY_MM'))", [month])
            #expect(
                try await f.scalar("SELECT count(*)::text FROM playground_usage_p\(month) WHERE package_id = $1", [package]) == "\(rows)")
            return "playground_usage_p\(month)"
        }

        @Test func retentionRetiresWholeExpiredMonthsAndCreatesMonthsAhead() async throws {
            let (worker, deps) = try await makeWorker()
            try await withCleanup({ await deps.shutdown() }) {
                let f = Fixture(postgres: deps.postgres)
                let package = try await f.package("retired-month")
                let user = try await f.user("retired-month")
                let partition = try await expiredMonth(f, monthsAgo: 20, package: package.id, user: user, rows: 7)
                let rollup = "SELECT sum(runs)::text || '/' || sum(rating_sum)::text FROM package_daily_stats WHERE package_id = $1"
                let rollupBefore = try await f.rollupScalar(rollup, [package.id])
                #expect(rollupBefore == "7/21")
                try await f.exec("DROP TABLE IF EXISTS playground_usage_p\(partitionMonth(monthsAhead: 3))")

                let result = try await Jobs(deps: worker.deps).retention()

                #expect(result.partitionsRetired >= 1)
                #expect(result.partitionsBusy == 0)
                #expect(result.partitionsCreated >= 1, "the third month ahead was dropped above and is created again")
                #expect(try await f.scalar("SELECT to_regclass($1)::text", [partition]) == nil)
                #expect(try await f.scalar("SELECT count(*)::text FROM playground_usage WHERE package_id = $1", [package.id]) == "0")
                #expect(
                    try await f.scalar(
                        "SELECT sum(runs)::text || '/' || sum(rating_sum)::text FROM usage_daily_archive WHERE package_id = $1", [package.id])
                        == "7/21")
                #expect(try await f.rollupScalar(rollup, [package.id]) == rollupBefore, "the package rollups are kept")
                #expect(try await f.scalar("SELECT to_regclass($1)::text", ["playground_usage_p\(partitionMonth(monthsAhead: 3))"]) != nil)
                // A second run finds nothing more to retire and counts nothing twice.
                let again = try await Jobs(deps: worker.deps).retention()
                #expect(again.partitionsRetired == 0)
                #expect(try await f.scalar("SELECT sum(runs)::text FROM usage_daily_archive WHERE package_id = $1", [package.id]) == "7")
            }
        }

        @Test func aBusyExpiredMonthIsLeftUntouchedAndRetiredByTheNextRun() async throws {
            let (worker, deps) = try await makeWorker {
                $0.partitionLockTimeout = .milliseconds(100)
                $0.retentionBatchSize = 1_000_000  // so the row-by-row path does not take the rows either
            }
            try await withCleanup({ await deps.shutdown() }) {
                let f = Fixture(postgres: deps.postgres)
                let package = try await f.package("busy-month")
                let user = try await f.user("busy-month")
                let partition = try await expiredMonth(f, monthsAgo: 22, package: package.id, user: user, rows: 4)
                // A long reader of that month holds it until retention has run (not for a fixed
                // time: on a loaded machine the reader may start late, retention may run long).
                let reader = try await HeldLock.take(deps.postgres, "SELECT count(*) FROM \(partition)", on: partition)
                try await withCleanup({ try? await reader.release() }) {
                    let busy = try await Jobs(deps: worker.deps).retention()

                    #expect(busy.partitionsBusy >= 1)
                    #expect(try await f.scalar("SELECT count(*)::text FROM \(partition) WHERE package_id = $1", [package.id]) == "4")
                    #expect(try await f.scalar("SELECT count(*)::text FROM usage_daily_archive WHERE package_id = $1", [package.id]) == "0")
                }

                let next = try await Jobs(deps: worker.deps).retention()

                #expect(next.partitionsBusy == 0)
                #expect(try await f.scalar("SELECT to_regclass($1)::text", [partition]) == nil)
                #expect(try await f.scalar("SELECT sum(runs)::text FROM usage_daily_archive WHERE package_id = $1", [package.id]) == "4")
            }
        }

        /// Issue 27, item 6: a month larger than `partitionRetireMaxRows` is folded in batches of
        /// `retentionBatchSize` rows (each transaction short whatever the month's size), then its
        /// empty table is dropped; nothing is counted twice.
        @Test func aLargeExpiredMonthIsFoldedInBatchesThenDropped() async throws {
            let (worker, deps) = try await makeWorker {
                $0.partitionRetireMaxRows = 2
                $0.retentionBatchSize = 3
            }
            try await withCleanup({ await deps.shutdown() }) {
                let f = Fixture(postgres: deps.postgres)
                let package = try await f.package("large-month")
                let user = try await f.user("large-month")
                let partition = try await expiredMonth(f, monthsAgo: 21, package: package.id, user: user, rows: 7)

                let result = try await Jobs(deps: worker.deps).retention()

                #expect(result.failed.isEmpty)
                #expect(result.partitionsRetired >= 1)
                #expect(try await f.scalar("SELECT to_regclass($1)::text", [partition]) == nil)
                #expect(
                    try await f.scalar(
                        "SELECT sum(runs)::text || '/' || sum(rating_sum)::text FROM usage_daily_archive WHERE package_id = $1", [package.id])
                        == "7/21")
            }
        }

        /// Issue 27, item 6: a maintenance step that fails (here the archive it writes is locked
        /// past its statement timeout) is logged and counted with its step; the privacy steps and
        /// the steps after it still run, and the job as a whole reports failure.
        @Test func aFailingMaintenanceStepSkipsNoOtherStepAndFailsTheJob() async throws {
            let (worker, deps) = try await makeWorker { $0.retentionStatementTimeout = .milliseconds(300) }
            try await withCleanup({ await deps.shutdown() }) {
                let f = Fixture(postgres: deps.postgres)
                let gone = try await f.user("gone-while-broken", deletedAt: Date().addingTimeInterval(-31 * 86_400))
                let row = try await f.usage([Fixture.Usage(user: gone)])[0]
                try await f.exec(
                    "UPDATE playground_usage SET created_at = now() - interval '7 months', user_feedback = 'old words' WHERE id = $1", [row])
                let oldKey = "broken-retention-\(f.tag)"
                try await f.exec(
                    "INSERT INTO ingest_requests (key, body_sha256, ids, created_at) VALUES ($1, '\\x00', '{}', now() - interval '25 hours')",
                    [oldKey])
                func published(_ field: String) async -> Double { Double(await WorkerMetrics.fetch(deps.redis)?[field] ?? "0") ?? 0 }
                let (stepFailures, jobFailures) = (await published("step_failures:archive_usage"), await published("failures:retention"))
                let started = Date().timeIntervalSince1970

                let lock = try await HeldLock.take(
                    deps.postgres, "LOCK TABLE usage_daily_archive IN ACCESS EXCLUSIVE MODE", on: "usage_daily_archive")
                let succeeded = try await withCleanup({ try? await lock.release() }) { await worker.runOnce(.retention) }

                #expect(!succeeded, "the job reports the failed step")
                // The privacy steps ran…
                #expect(
                    try await f.scalar("SELECT username || '/' || coalesce(email, 'NULL') FROM users WHERE id = $1", [gone])
                        == "deleted-\(gone.canonical.replacingOccurrences(of: "-", with: ""))/NULL")
                #expect(try await f.scalar("SELECT coalesce(user_feedback, 'NULL') FROM playground_usage WHERE id = $1", [row]) == "NULL")
                // …and so did the steps after the failing one.
                #expect(try await f.scalar("SELECT count(*)::text FROM ingest_requests WHERE key = $1", [oldKey]) == "0")
                // Counted per step and per job, for every API replica's /metrics.
                #expect(await published("step_failures:archive_usage") == stepFailures + 1)
                #expect(await published("failures:retention") == jobFailures + 1)
                for step in ["anonymize_users", "clear_feedback_text", "partitions", "expire_user_days", "idempotency_keys"] {
                    #expect(await published("step_last_success:\(step)") >= started.rounded(.down), "\(step)")
                }
                #expect(await published("step_last_success:archive_usage") < started)
                let text = WorkerMetrics.render(try #require(await WorkerMetrics.fetch(deps.redis)))
                #expect(text.contains("prpm_worker_job_failures_total{job=\"retention\",step=\"archive_usage\"} \(Int(stepFailures) + 1)\n"))
                #expect(text.contains("# TYPE prpm_worker_retention_step_last_success_seconds gauge\n"))
                #expect(text.contains("prpm_worker_retention_step_last_success_seconds{step=\"anonymize_users\"} "))
                #expect(text.components(separatedBy: "# TYPE prpm_worker_job_failures_total").count == 2, "one family")
            }
        }

        /// The partition name of the UTC month `monthsAhead` after this one.
        func partitionMonth(monthsAhead: Int) -> String {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let date = calendar.date(byAdding: .month, value: monthsAhead, to: Date())!
            let parts = calendar.dateComponents([.year, .month], from: date)
            return String(format: "%04d_%02d", parts.year!, parts.month!)
        }

        @Test func refreshTasksOfADeadConsumerAreClaimedAndCompleted() async throws {
            let (worker, deps) = try await makeWorker { config in
                config.leaseTTL = .milliseconds(100)  // tasks idle > 2 × TTL are claimed
                config.hotPackages = 5
                config.refreshWindows = [7, 30]
            }
            try await withCleanup({ await deps.shutdown() }) {
                try await deps.redis.command("DEL", Jobs.stream, RedisKeyspace.hotPackages)
                let f = Fixture(postgres: deps.postgres)
                let packages = [try await f.package("hot-a"), try await f.package("hot-b")]
                for (index, package) in packages.enumerated() {
                    try await deps.redis.command("ZADD", RedisKeyspace.hotPackages, String(10 - index), package.id.uuidString.lowercased())
                }
                #expect(try await Jobs(deps: worker.deps).enqueueRefresh() == 4)
                try await deps.redis.command("XGROUP", "CREATE", Jobs.stream, Jobs.group, "0", "MKSTREAM")
                // A consumer reads every task and dies before acknowledging (as after SIGKILL).
                let read = try await deps.redis.command("XREADGROUP", "GROUP", Jobs.group, "dead-worker", "COUNT", "100", "STREAMS", Jobs.stream, ">")
                #expect(AnalyticsWorker.entries(read.array?.first?.array?.last).count == 4)
                #expect(try await deps.redis.command("XPENDING", Jobs.stream, Jobs.group).array?.first?.int == 4)
                try await Task.sleep(for: .milliseconds(250))
                try await worker.drainStream()
                #expect(try await deps.redis.command("XPENDING", Jobs.stream, Jobs.group).array?.first?.int == 0)
                for package in packages {
                    for days in [7, 30] {
                        let key = CacheKey(endpoint: .package, entityId: package.id, days: days).description
                        #expect(try await deps.redis.command("EXISTS", key) == .integer(1), "\(key)")
                    }
                }
                #expect(try await Jobs(deps: worker.deps).refreshLag() < 5)
            }
        }

        /// A cycle's tasks are due over the first half of the interval, hottest first; the
        /// running consumer starts none before it is due; a visit leaves an entry that stays
        /// fresh and shows every write, and recomputes one that misses a write.
        @Test func refreshSpreadsACycleAndRecomputesOnlyWhatNeedsIt() async throws {
            let (worker, deps) = try await makeWorker { config in
                config.hotPackages = 3
                config.refreshWindows = [30]
                config.refreshInterval = .seconds(2)  // spread over 1 s
            }
            try await withCleanup({ await deps.shutdown() }) {
                try await deps.redis.command("DEL", Jobs.stream, RedisKeyspace.hotPackages)
                try await deps.redis.command("XGROUP", "CREATE", Jobs.stream, Jobs.group, "0", "MKSTREAM")
                let f = Fixture(postgres: deps.postgres)
                let packages = [try await f.package("spread-a"), try await f.package("spread-b"), try await f.package("spread-c")]
                for (index, package) in packages.enumerated() {
                    try await deps.redis.command("ZADD", RedisKeyspace.hotPackages, String(10 - index), package.id.uuidString.lowercased())
                }
                let jobs = Jobs(deps: worker.deps)
                let start = Date()
                #expect(try await jobs.enqueueRefresh(now: start) == 3)
                let tasks = AnalyticsWorker.entries(try await deps.redis.command("XRANGE", Jobs.stream, "-", "+"))
                let startMillis = Int64((start.timeIntervalSince1970 * 1000).rounded(.down))
                #expect(tasks.map(\.package) == packages.map { $0.id.uuidString.lowercased() })
                #expect(tasks.map(\.due) == [startMillis, startMillis + 333, startMillis + 666])

                func published(_ result: String) async -> Int {
                    Int(await WorkerMetrics.fetch(deps.redis)?["refresh_results:\(result)"] ?? "0") ?? 0
                }
                let (computedPublished, freshPublished) = (await published("computed"), await published("fresh"))
                let computedBefore = deps.cache.computationCount
                #expect(try await worker.consumeBatch(paced: true) == 3)
                // The last task was due 666 ms after the cycle started.
                #expect(Date().timeIntervalSince(start) >= 0.666)
                #expect(deps.cache.computationCount == computedBefore + 3)
                for package in packages {
                    let key = CacheKey(endpoint: .package, entityId: package.id, days: 30).description
                    #expect(try await deps.redis.command("EXISTS", key) == .integer(1), "\(key)")
                }

                // Next cycle: all three stay fresh for longer than the horizon (TTL 300 s, 4 s).
                var written = AffectedEntities()
                written.packageIds = [packages[1].id]
                await deps.cache.recordWrite(written)
                try await Task.sleep(for: .milliseconds(5))
                #expect(try await jobs.enqueueRefresh() == 3)
                try await worker.drainStream()
                // Only the package with a write it did not show was recomputed.
                #expect(deps.cache.computationCount == computedBefore + 4)
                #expect(await published("computed") == computedPublished + 4)
                #expect(await published("fresh") == freshPublished + 2)
                let text = WorkerMetrics.render(try #require(await WorkerMetrics.fetch(deps.redis)))
                #expect(text.contains("prpm_worker_refresh_results_total{result=\"fresh\"} \(freshPublished + 2)"))
                #expect(text.contains("# TYPE prpm_worker_refresh_tasks_total counter"))
                #expect(try await deps.redis.command("XPENDING", Jobs.stream, Jobs.group).array?.first?.int == 0)
            }
        }

        @Test func twoWorkersRunEachJobOncePerInterval() async throws {
            let runs = Mutex<[WorkerJob: Int]>([:])
            let count: @Sendable (WorkerJob) -> Void = { job in runs.withLock { $0[job, default: 0] += 1 } }
            let configure: (inout WorkerConfig) -> Void = { config in
                config.trendsInterval = .seconds(2)
                config.refreshInterval = .seconds(60)
                config.retentionInterval = .seconds(60)
                config.leaseTTL = .seconds(5)
            }
            let (a, depsA) = try await makeWorker(name: "a", configure, onJob: count)
            let (b, depsB) = try await makeWorker(name: "b", configure, onJob: count)
            try await withCleanup({
                await depsA.shutdown(); await depsB.shutdown()
            }) {
                for job in WorkerJob.allCases { try await depsA.redis.command("DEL", RedisKeyspace.lease(job.rawValue)) }
                let running = Task {
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask { try? await a.run() }
                        group.addTask { try? await b.run() }
                    }
                }
                try await Task.sleep(for: .milliseconds(5_000))
                running.cancel()
                _ = await running.value
                let counted = runs.withLock { $0 }
                // 5 s with a 2 s interval: runs at ≈0, 2, 4 s — never one per worker per interval.
                #expect((2...3).contains(counted[.trends] ?? 0), "trends ran \(counted[.trends] ?? 0) times")
                #expect(counted[.refresh] == 1)
                #expect(counted[.retention] == 1)
            }
        }

        @Test func workerKeepsWorkingAfterRedisRestart() async throws {
            let (worker, deps) = try await makeWorker { config in
                config.hotPackages = 3
                config.refreshWindows = [30]
            }
            try await withCleanup({ await deps.shutdown() }) {
                let package = try await Fixture(postgres: deps.postgres).package("after-restart")
                try TestEnvironment.svc("redis", "restart")
                // The restart broke the pooled connections (the eviction watch keeps one): a
                // call on each may fail once, and the next one reconnects. The worker works
                // again from its next run on.
                try await TestEnvironment.eventually("the worker refreshes again after the restart", timeout: .seconds(5)) {
                    guard (try? await deps.redis.command("ZADD", RedisKeyspace.hotPackages, "5", package.id.uuidString.lowercased())) != nil
                    else { return false }
                    return await worker.runOnce(.refresh)
                }
                let key = CacheKey(endpoint: .package, entityId: package.id, days: 30).description
                #expect(try await deps.redis.command("EXISTS", key) == .integer(1))
            }
        }
    }
}

/// A lock taken by `statement` in a transaction of its own, on one of `postgres`'s connections,
/// held until `release()` (not for a fixed time: on a loaded machine the code under test may
/// run late).
struct HeldLock: Sendable {
    private final class Flag: Sendable { let released = Atomic<Bool>(false) }
    private let flag: Flag
    private let holder: Task<Void, any Error>

    /// Returns once another connection holds a granted lock on `relation`.
    static func take(_ postgres: PostgresClient, _ statement: String, on relation: String) async throws -> HeldLock {
        let flag = Flag()
        let holder = Task {
            try await postgres.withConnection { c in
                try c.transaction { c in
                    try c.execute(statement)
                    let giveUp = ContinuousClock.now + .seconds(60)
                    while !flag.released.load(ordering: .acquiring), ContinuousClock.now < giveUp { _ = try c.query("SELECT pg_sleep(0.02)") }
                }
            }
        }
        let lock = HeldLock(flag: flag, holder: holder)
        let f = Fixture(postgres: postgres)
        let held = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = to_regclass($1) AND pid <> pg_backend_pid() AND granted)::text"
        try await TestEnvironment.eventually("the lock on \(relation) is taken", timeout: .seconds(30)) {
            try await f.scalar(held, [relation]) == "true"
        }
        return lock
    }

    /// Ends the holder's transaction and waits for it.
    func release() async throws {
        flag.released.store(true, ordering: .releasing)
        try await holder.value
    }
}
