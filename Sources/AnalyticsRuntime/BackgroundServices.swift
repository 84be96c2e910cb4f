import Analytics
import AnalyticsCache
import Logging
import Postgres
import Redis
import ServiceLifecycle

// The background loops of `serve` and `worker` (`Runtime.backgroundServices`), each a
// `Service` of the process's one `ServiceGroup`: its `run()` loops until graceful shutdown
// (or the group's cancellation) and then returns, so the group knows when it has stopped.

/// Watches Redis' evictions (`EvictionWatch`) every `interval`.
public struct EvictionWatchService: Service, CustomStringConvertible {
    let watch: EvictionWatch
    let redis: RedisClient
    let breaker: CircuitBreaker
    let interval: Duration
    let logger: Logger

    public var description: String { "EvictionWatchService" }

    public func run() async {
        let (watch, redis, breaker, interval, logger) = (watch, redis, breaker, interval, logger)
        await cancelWhenGracefulShutdown { await watch.run(redis: redis, breaker: breaker, interval: interval, logger: logger) }
    }
}

/// Measures the hot standby's lag into its gate (`StandbyMonitor`).
public struct StandbyMonitorService: Service, CustomStringConvertible {
    let standby: PostgresClient
    let gate: StandbyGate
    let logger: Logger

    public var description: String { "StandbyMonitorService" }

    public func run() async {
        let (standby, gate, logger) = (standby, gate, logger)
        await cancelWhenGracefulShutdown { await StandbyMonitor.run(standby: standby, gate: gate, logger: logger) }
    }
}

/// Folds the rollup queue every `interval` (`RollupFolding`). A fold in progress when graceful
/// shutdown begins is cancelled (the queue stays as it was: the next fold, here or in another
/// process, takes it).
public struct RollupFoldService: Service, CustomStringConvertible {
    let queries: AnalyticsQueries
    let redis: RedisClient
    let interval: Duration
    let logger: Logger

    public var description: String { "RollupFoldService" }

    public func run() async {
        let (queries, redis, interval, logger) = (queries, redis, interval, logger)
        await cancelWhenGracefulShutdown { await RollupFolding.run(queries: queries, redis: redis, interval: interval, logger: logger) }
    }
}
