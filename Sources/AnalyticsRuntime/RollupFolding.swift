import Analytics
import Logging
import Metrics

/// The background fold of the rollup queue (migration 17): every `interval`, each API process
/// and worker asks Postgres to fold the queued inserts into the rollups unless another process
/// is folding (`usage_fold_try()`). Reads fold what they need themselves, so this only keeps
/// the queue short: a miss then rarely finds rows to fold and pays for at most one interval of
/// writes when it does.
enum RollupFolding {
    static func run(queries: AnalyticsQueries, interval: Duration, logger: Logger) async {
        let rows = Counter(label: "prpm_rollup_fold_rows_total")
        let failures = Counter(label: "prpm_rollup_fold_failures_total")
        let duration = Metrics.Timer(label: "prpm_rollup_fold_duration_seconds")
        var failing = false
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { return }
            let started = ContinuousClock.now
            do {
                let folded = try await queries.foldUnlessBusy()
                if folded > 0 {
                    rows.increment(by: folded)
                    duration.record(duration: ContinuousClock.now - started)
                }
                if failing { logger.info("rollup fold works again") }
                failing = false
            } catch is CancellationError {
                return
            } catch {
                failures.increment()
                // Postgres down: one warning until it answers again (reads and writes fail loudly themselves).
                if !failing { logger.warning("rollup fold failed", metadata: ["error": "\(error)"]) }
                failing = true
            }
        }
    }
}
