import Analytics
import AnalyticsCache
import Logging
import Metrics
import Redis

/// The background fold of the rollup queue (migration 17): every `interval`, each API process
/// and worker asks Postgres to fold the queued inserts into the rollups unless another process
/// is folding (`usage_fold_try()`). The answers add what is still queued themselves, so this
/// only keeps the queue short and the write cost amortized.
///
/// Whichever process folds publishes the fold to the Redis hash that every API replica's
/// `/metrics` renders (`WorkerMetrics`: `prpm_rollup_fold_rows_total`,
/// `prpm_rollup_fold_duration_seconds`), so the figures are the cluster's whoever folded; a
/// process's failed attempts count in its own `prpm_rollup_fold_failures_total`.
enum RollupFolding {
    static func run(queries: AnalyticsQueries, redis: RedisClient, interval: Duration, logger: Logger) async {
        let failures = Counter(label: "prpm_rollup_fold_failures_total")
        var failing = false
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            let started = ContinuousClock.now
            do {
                let folded = try await queries.foldUnlessBusy()
                if folded > 0 { await publish(rows: folded, seconds: (ContinuousClock.now - started).seconds, redis: redis) }
                if failing { logger.info("rollup fold works again") }
                failing = false
            } catch is CancellationError where Task.isCancelled {
                // Stopped (graceful shutdown of its `BackgroundLoop`). Returning otherwise would
                // end the service, and with it the process's service group.
                return
            } catch {
                failures.increment()
                // Postgres down: one warning until it answers again (reads and writes fail loudly themselves).
                if !failing { logger.warning("rollup fold failed", metadata: ["error": "\(error)"]) }
                failing = true
            }
        }
    }

    /// Best effort: a Redis outage loses these figures, not the fold.
    private static func publish(rows: Int, seconds: Double, redis: RedisClient) async {
        let key = WorkerMetrics.key
        _ = try? await redis.pipeline([
            ["HINCRBY", key, "fold_rows", String(rows)], ["HINCRBY", key, "folds", "1"],
            ["HINCRBYFLOAT", key, "fold_seconds", String(seconds)],
        ])
    }
}
