import Analytics
import AnalyticsCache
import Logging
import Postgres
import Redis
import ServiceLifecycle

/// One background loop of `serve` or `worker` (`Runtime.backgroundServices`) as a `Service` of
/// the process's one `ServiceGroup`: its `run()` loops until graceful shutdown (or the group's
/// cancellation) and then returns, so the group knows when it has stopped.
public struct BackgroundLoop: Service, CustomStringConvertible {
    public let description: String
    let loop: @Sendable () async -> Void

    public init(_ name: String, _ loop: @escaping @Sendable () async -> Void) {
        description = name
        self.loop = loop
    }

    public func run() async {
        await cancelWhenGracefulShutdown(loop)
    }

    /// Watches Redis' evictions (`EvictionWatch`) every `interval`.
    static func evictionWatch(
        _ watch: EvictionWatch, redis: RedisClient, breaker: CircuitBreaker, interval: Duration, logger: Logger
    ) -> BackgroundLoop {
        BackgroundLoop("EvictionWatchService") { await watch.run(redis: redis, breaker: breaker, interval: interval, logger: logger) }
    }

    /// Measures the hot standby's lag into its gate (`StandbyMonitor`).
    static func standbyMonitor(_ standby: PostgresClient, gate: StandbyGate, logger: Logger) -> BackgroundLoop {
        BackgroundLoop("StandbyMonitorService") { await StandbyMonitor.run(standby: standby, gate: gate, logger: logger) }
    }

    /// Folds the rollup queue every `interval` (`RollupFolding`). A fold in progress when
    /// graceful shutdown begins is cancelled (the queue stays as it was: the next fold, here or
    /// in another process, takes it).
    static func rollupFold(_ queries: AnalyticsQueries, redis: RedisClient, interval: Duration, logger: Logger) -> BackgroundLoop {
        BackgroundLoop("RollupFoldService") { await RollupFolding.run(queries: queries, redis: redis, interval: interval, logger: logger) }
    }
}
