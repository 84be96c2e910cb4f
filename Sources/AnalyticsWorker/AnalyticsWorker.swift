import Analytics
import AnalyticsCache
import AnalyticsRuntime
import Foundation
import Logging
import Metrics
import Redis
import ServiceLifecycle

/// `prpm-analytics worker`: schedules the jobs (each on one worker at a time through a
/// Redis lease) and consumes refresh tasks from a Redis Stream consumer group (a crashed
/// worker's pending tasks are claimed by another). SIGTERM: stops taking work, finishes
/// the task in hand (unacknowledged ones stay pending for others), exits.
public struct AnalyticsWorker: Service {
    let deps: WorkerDependencies
    let jobs: Jobs

    public init(dependencies: WorkerDependencies) {
        self.deps = dependencies
        self.jobs = Jobs(deps: dependencies)
    }

    /// Runs one job now (no lease: for cron and tests). True when it succeeded.
    public func runOnce(_ job: WorkerJob) async -> Bool {
        do {
            try await execute(job)
            if job == .refresh { try await drainStream() }
            return true
        } catch {
            return false
        }
    }

    public func run() async throws {
        deps.logger.info("worker started", metadata: ["consumer": "\(deps.config.consumerName)"])
        await withDiscardingTaskGroup { group in
            for job in WorkerJob.allCases where deps.config.jobs.contains(job) {
                group.addTask { await schedule(job, every: deps.config.interval(of: job)) }
            }
            group.addTask { await consume() }
            group.addTask { await WorkerProcesses.run(consumer: deps.config.consumerName, redis: deps.redis) }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        deps.logger.info("worker stopped")
    }

    // MARK: - Scheduling

    /// Every worker polls the job's lease; the one that takes it runs the job, then leaves
    /// a cooldown marker for the rest of the interval, so the job runs once per interval
    /// across all workers. A holder that dies stops renewing: its lease expires after
    /// `leaseTTL` and another worker takes over.
    private func schedule(_ job: WorkerJob, every interval: Duration) async {
        let poll = max(.milliseconds(100), min(interval / 10, .seconds(5)))
        while !Task.isCancelled {
            let started = ContinuousClock.now
            if await runLeased(job, interval: interval) {
                let remaining = interval - (ContinuousClock.now - started)
                try? await Task.sleep(for: max(poll, remaining))
            } else {
                try? await Task.sleep(for: poll)
            }
        }
    }

    /// Runs `job` when this worker takes its lease; renews the lease while running.
    /// Returns whether this worker ran it.
    @discardableResult
    func runLeased(_ job: WorkerJob, interval: Duration = .zero, retryWhenFencedOut: Bool = true) async -> Bool {
        let ttl = deps.config.leaseTTL
        let lease: Lease?
        do {
            lease = try await Lease.acquire(job.rawValue, ttl: ttl, redis: deps.redis)
        } catch {
            deps.logger.warning("lease unavailable", metadata: ["job": "\(job.rawValue)", "error": "\(error)"])
            return false
        }
        guard let lease else { return false }
        let started = ContinuousClock.now
        // The job and the lease's renewal run side by side; when the lease is lost, the job is
        // cancelled (its Postgres statement gets a cancel request and its transaction rolls
        // back). Whatever it still tries to write is refused by the fence.
        let fencedOut = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    try await execute(job, fence: JobFence(job: job, token: lease.fence))
                } catch let fenced as JobFence.FencedOut {
                    // Redis lost the token counter (a flush, a failover) while the lease was
                    // ours: the counter continues above the newest token, and the lease is
                    // given back and taken again at once, with a valid token.
                    try? await Lease.raiseFence(job.rawValue, to: fenced.newer, redis: deps.redis)
                    return true
                } catch {
                    // Logged and counted in execute.
                }
                return false
            }
            group.addTask {
                await keepRenewing(lease, of: job)
                return false
            }
            let fencedOut = await group.next() ?? false
            group.cancelAll()
            return fencedOut
        }
        if fencedOut {
            try? await lease.release(redis: deps.redis)
            return retryWhenFencedOut ? await runLeased(job, interval: interval, retryWhenFencedOut: false) : false
        }
        let cooldown = interval - (ContinuousClock.now - started)
        try? await lease.release(redis: deps.redis, cooldown: cooldown > .milliseconds(50) ? cooldown : .zero)
        return true
    }

    /// Renews `lease` every third of its TTL until cancelled; returns when the lease is lost:
    /// taken by another worker, or not renewed for a whole TTL (Redis unreachable: another
    /// worker may hold it by now).
    private func keepRenewing(_ lease: Lease, of job: WorkerJob) async {
        let ttl = deps.config.leaseTTL
        var renewed = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: ttl / 3)
            if Task.isCancelled { return }
            switch try? await lease.renew(ttl: ttl, redis: deps.redis) {
            case true?: renewed = .now
            case false?:
                deps.logger.warning("lease lost: job stopped", metadata: ["job": "\(job.rawValue)", "fence": "\(lease.fence)"])
                Counter(label: "prpm_worker_leases_lost_total", dimensions: [("job", job.rawValue)]).increment()
                return
            case nil where ContinuousClock.now - renewed >= ttl:
                deps.logger.warning("lease not renewed for its TTL: job stopped", metadata: ["job": "\(job.rawValue)"])
                Counter(label: "prpm_worker_leases_lost_total", dimensions: [("job", job.rawValue)]).increment()
                return
            case nil: continue
            }
        }
    }

    func execute(_ job: WorkerJob, fence: JobFence? = nil) async throws {
        let start = ContinuousClock.now
        let dimensions = [("job", job.rawValue)]
        do {
            var metadata: Logger.Metadata = ["job": "\(job.rawValue)"]
            switch job {
            case .refresh:
                metadata["tasks"] = "\(try await jobs.enqueueRefresh())"
                let lag = try await jobs.refreshLag()
                Metrics.Gauge(label: "prpm_worker_refresh_lag_seconds").record(lag)
                metadata["refresh_lag_s"] = "\(lag)"
            case .trends:
                metadata["packages"] = "\(try await jobs.trends(fence: fence))"
            case .retention:
                let result = try await jobs.retention(fence: fence)
                metadata["partitions_created"] = "\(result.partitionsCreated)"
                metadata["partitions_retired"] = "\(result.partitionsRetired)"
                metadata["partitions_busy"] = "\(result.partitionsBusy)"
                metadata["archived"] = "\(result.rowsArchived)"
                metadata["rollup_rows_expired"] = "\(result.rollupRowsExpired)"
                metadata["user_day_rows_expired"] = "\(result.userDayRowsExpired)"
                metadata["feedback_cleared"] = "\(result.feedbackCleared)"
                metadata["anonymized"] = "\(result.usersAnonymized)"
                metadata["idempotency_keys_expired"] = "\(result.idempotencyKeysExpired)"
                await record(result.succeeded, result.failed)
                // Every step ran; the job failed if any of them did.
                if !result.failed.isEmpty { throw RetentionStepsFailed(steps: result.failed.map(\.step.rawValue)) }
            }
            let elapsed = ContinuousClock.now - start
            Metrics.Timer(label: "prpm_worker_job_duration_seconds", dimensions: dimensions).record(duration: elapsed)
            Counter(label: "prpm_worker_job_runs_total", dimensions: dimensions + [("result", "ok")]).increment()
            metadata["duration_ms"] = "\(elapsed.seconds * 1000)"
            deps.logger.info("job finished", metadata: metadata)
            await publish(job, seconds: elapsed.seconds, failed: false)
            deps.onJobFinished?(job)
        } catch {
            Counter(label: "prpm_worker_job_runs_total", dimensions: dimensions + [("result", "failed")]).increment()
            await publish(job, seconds: 0, failed: true)
            deps.logger.error("job failed", metadata: ["job": "\(job.rawValue)", "error": "\(error)"])
            throw error
        }
    }

    /// A retention run in which some steps failed (after all of them ran).
    struct RetentionStepsFailed: Error, CustomStringConvertible {
        let steps: [String]
        var description: String { "retention steps failed: \(steps.joined(separator: ", "))" }
    }

    /// Logs and counts each retention step's outcome: a failure (`prpm_worker_job_failures_total`
    /// with its step), a success (`prpm_worker_retention_step_last_success_seconds`, unix
    /// seconds: alert when a step has not succeeded for a while), here and, for every API
    /// replica's `/metrics`, in the worker hash (`step_failures:STEP`, `step_last_success:STEP`).
    private func record(_ succeeded: [Jobs.RetentionStep], _ failed: [Jobs.RetentionResult.Failure]) async {
        let key = WorkerMetrics.key
        let now = Date().timeIntervalSince1970
        var commands: [[String]] = []
        for failure in failed {
            let step = failure.step.rawValue
            deps.logger.error("retention step failed", metadata: ["job": "retention", "step": "\(step)", "error": "\(failure.error)"])
            Counter(label: "prpm_worker_job_failures_total", dimensions: [("job", WorkerJob.retention.rawValue), ("step", step)]).increment()
            commands.append(["HINCRBY", key, "step_failures:\(step)", "1"])
        }
        for step in succeeded {
            Metrics.Gauge(label: "prpm_worker_retention_step_last_success_seconds", dimensions: [("step", step.rawValue)]).record(now)
            commands.append(["HSET", key, "step_last_success:\(step.rawValue)", String(now)])
        }
        _ = try? await deps.redis.pipeline(commands)
    }

    /// The worker has no HTTP port: it publishes its figures to a Redis hash that every API
    /// replica renders in its `/metrics` (see `WorkerMetrics`). Best effort.
    private func publish(_ job: WorkerJob, seconds: Double, failed: Bool) async {
        var commands: [[String]] = []
        let key = WorkerMetrics.key
        if failed {
            commands.append(["HINCRBY", key, "failures:\(job.rawValue)", "1"])
        } else {
            commands.append(["HINCRBY", key, "runs:\(job.rawValue)", "1"])
            commands.append(["HINCRBYFLOAT", key, "duration_sum:\(job.rawValue)", String(seconds)])
            commands.append(["HSET", key, "last_success:\(job.rawValue)", String(Date().timeIntervalSince1970)])
        }
        if job == .refresh, !failed, let lag = try? await jobs.refreshLag() {
            commands.append(["HSET", key, "refresh_lag", String(lag)])
        }
        if let pending = try? await deps.redis.command("XPENDING", Jobs.stream, Jobs.group).array?.first?.int {
            commands.append(["HSET", key, "stream_pending", String(pending)])
        }
        _ = try? await deps.redis.pipeline(commands)
    }

    // MARK: - Refresh tasks (stream consumer group)

    private func ensureGroup() async throws {
        do {
            try await deps.redis.command("XGROUP", "CREATE", Jobs.stream, Jobs.group, "0", "MKSTREAM")
        } catch RedisError.server(let message) where message.hasPrefix("BUSYGROUP") {
            // Exists already.
        }
    }

    /// Reads tasks (first the ones of dead consumers, idle > 2 lease TTLs, then new ones)
    /// and acknowledges each after its entry was written.
    private func consume() async {
        while !Task.isCancelled {
            do {
                try await ensureGroup()
                while !Task.isCancelled {
                    let processed = try await consumeBatch(paced: true)
                    if processed == 0 { try await Task.sleep(for: .milliseconds(200)) }
                }
            } catch is CancellationError {
                return  // shutting down: unacknowledged tasks are claimed by another consumer
            } catch {
                deps.logger.warning("refresh consumer error; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Processes what is pending now and returns (for `--once refresh` and tests).
    func drainStream() async throws {
        try await ensureGroup()
        while try await consumeBatch() > 0 {}
    }

    /// One batch: claimed stale tasks first, then new ones. Returns how many were processed.
    /// Reads never block on the server (a blocking read would outlive the command timeout):
    /// the consumer polls instead. `paced`: a task is not started before it is due (the
    /// running worker; `--once` and tests run what is pending at once), and only 10 are taken
    /// at a time, so that a worker stopped while it waits holds few tasks (they are claimed by
    /// another consumer once idle for two lease TTLs).
    func consumeBatch(paced: Bool = false) async throws -> Int {
        let idleMs = String(Lease.milliseconds(deps.config.leaseTTL * 2))
        let count = paced ? "10" : "50"
        let claimed = try await deps.redis.command(
            "XAUTOCLAIM", Jobs.stream, Jobs.group, deps.config.consumerName, idleMs, "0-0", "COUNT", count)
        var entries = Self.entries(claimed.array.flatMap { $0.count > 1 ? $0[1] : nil })
        if entries.isEmpty {
            let reply = try await deps.redis.command(
                "XREADGROUP", "GROUP", Jobs.group, deps.config.consumerName, "COUNT", count, "STREAMS", Jobs.stream, ">")
            entries = Self.entries(reply.array?.first?.array?.last)
        }
        guard !entries.isEmpty else { return 0 }
        var computed = 0
        try await withThrowingTaskGroup(of: (id: String, computed: Bool).self) { group in
            var running = 0
            func finishOne() async throws {
                let done = try await group.next()!
                if done.computed { computed += 1 }
                try await deps.redis.command("XACK", Jobs.stream, Jobs.group, done.id)
                running -= 1
            }
            for entry in entries {
                if running >= 4 { try await finishOne() }
                if paced, let wait = entry.wait(now: Date()) { try await Task.sleep(for: wait) }
                group.addTask {
                    guard let package = UUID(uuidString: entry.package) else { return (entry.id, false) }
                    return (entry.id, try await jobs.refresh(packageId: package, days: entry.days))
                }
                running += 1
            }
            while running > 0 { try await finishOne() }
        }
        let key = WorkerMetrics.key
        _ = try? await deps.redis.pipeline([
            ["HINCRBY", key, "refresh_tasks", String(entries.count)],
            ["HINCRBY", key, "refresh_results:computed", String(computed)],
            ["HINCRBY", key, "refresh_results:fresh", String(entries.count - computed)],
        ])
        return entries.count
    }

    struct RefreshTask: Sendable {
        let id: String
        let package: String
        let days: Int
        /// When it is due (ms since 1970); nil: at once (tasks of older workers).
        var due: Int64? = nil

        /// How long to wait before starting it; nil when it is due.
        func wait(now: Date) -> Duration? {
            guard let due else { return nil }
            let left = due - Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
            return left > 0 ? .milliseconds(left) : nil
        }
    }

    static func entries(_ reply: RedisReply?) -> [RefreshTask] {
        (reply?.array ?? []).compactMap { entry in
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let fields = parts[1].array?.compactMap(\.string)
            else { return nil }
            var values: [String: String] = [:]
            var index = 0
            while index + 1 < fields.count {
                values[fields[index]] = fields[index + 1]
                index += 2
            }
            guard let package = values["package"], let days = values["days"].flatMap(Int.init) else { return nil }
            return RefreshTask(id: id, package: package, days: days, due: values["due"].flatMap { Int64($0) })
        }
    }
}
