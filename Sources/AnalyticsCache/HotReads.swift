import Foundation
import Logging
import Redis
import Synchronization

/// Counts package reads in memory and flushes them to the hot-set sorted set every
/// `flushInterval` in one pipelined round trip, off the request path. The worker decays
/// the scores and refreshes the top packages ahead of expiry.
public final class HotReadRecorder: Sendable, SizedStructure {
    private let counts = Mutex<[UUID: Int]>([:])
    private let redis: RedisClient
    private let breaker: CircuitBreaker
    private let logger: Logger
    public let flushInterval: Duration

    public init(redis: RedisClient, breaker: CircuitBreaker, logger: Logger, flushInterval: Duration = .milliseconds(100)) {
        self.redis = redis
        self.breaker = breaker
        self.logger = logger
        self.flushInterval = flushInterval
        InProcessSizes.shared.register("hot_read_counts", self)
    }

    /// Packages counted since the last flush (for `/metrics`).
    public var size: StructureSize { StructureSize(entries: counts.withLock { $0.count }) }

    public func record(packageId: UUID) {
        counts.withLock { $0[packageId, default: 0] += 1 }
    }

    /// Flushes until the task is cancelled (then once more).
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: flushInterval)
            await flush()
        }
        await flush()
    }

    public func flush() async {
        let pending = counts.withLock { counts -> [UUID: Int] in
            defer { counts = [:] }
            return counts
        }
        guard !pending.isEmpty else { return }
        // Dropped when Redis is unusable: hot-set scores are advisory.
        let outcome = await breaker.call {
            try await redis.pipeline(pending.map { ["ZINCRBY", RedisKeyspace.hotPackages, String($0.value), $0.key.canonical] })
        }
        if case .failure(let error)? = outcome { logger.debug("hot-read flush failed", metadata: ["error": "\(error)"]) }
    }
}
