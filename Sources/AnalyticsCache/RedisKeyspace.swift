import Analytics
import Foundation

/// Every Redis key of the system, built in one place. All live under `analytics:v1:` so that
/// a change of their formats is a new version prefix, and an operator can find them all.
public enum RedisKeyspace {
    public static let prefix = "analytics:v1:"

    /// A cached answer: `analytics:v1:{endpoint}:{entity}:{days}`.
    public static func entry(_ endpoint: CachedEndpoint, entity: String, days: Int) -> String {
        "\(prefix)\(endpoint.rawValue):\(entity):\(days)"
    }

    /// The cross-replica computation lock of a cached answer.
    public static func computationLock(_ endpoint: CachedEndpoint, entity: String, days: Int) -> String {
        "\(prefix)lock:\(endpoint.rawValue):\(entity):\(days)"
    }

    /// The time (ms) of the newest write to an entity (`{endpoint}:{entity}`).
    public static func writeMark(ofEntity entity: String) -> String { "\(prefix)written:\(entity)" }

    /// What a package name or id resolved to (`<uuid> <name>`).
    public static func packageRef(_ idOrName: String) -> String { "\(prefix)package-ref:\(idOrName)" }

    /// The sorted set of decayed package read counts (the worker's hot set).
    public static let hotPackages = "\(prefix)hot:packages"

    /// The stream of refresh tasks and its consumer group.
    public static let refreshStream = "\(prefix)refresh:tasks"
    public static let refreshGroup = "refreshers"

    /// A worker job's lease and its fencing-token counter.
    public static func lease(_ job: String) -> String { "\(prefix)lease:\(job)" }
    public static func fence(_ job: String) -> String { "\(prefix)fence:\(job)" }

    /// The hash the workers publish their metrics to.
    public static let workerMetrics = "\(prefix)worker:metrics"

    /// The hash of each worker's process figures (`consumer` → `ProcessMetrics.published`).
    public static let workerProcesses = "\(prefix)worker:processes"

    /// When an eviction was last noticed (ms): the write-mark floor of every process (`EvictionWatch`).
    public static let evictionFloor = "\(prefix)evicted-at"

    /// A client's token bucket of the rate limit.
    public static func rateLimit(client: String) -> String { "\(prefix)ratelimit:\(client)" }
}
