import AnalyticsCache
import Foundation
import Redis

/// Each worker's process figures (resident memory, CPU, descriptors, threads): the worker has no
/// HTTP port, so it publishes them every `interval` to a Redis hash, and every API replica's
/// `/metrics` renders the fresh ones as `prpm_worker_process_…{consumer="…"}` (the load
/// harness's soak profile samples the worker's memory from there).
public enum WorkerProcesses {
    public static let interval: Duration = .seconds(5)
    /// Figures older than this are not rendered (the worker stopped); far older ones are removed.
    static let freshFor: Double = 60
    static let keptFor: Double = 3600

    /// Publishes this process's figures under `consumer` (best effort).
    public static func publish(consumer: String, redis: RedisClient, now: Date = Date()) async {
        guard let current = ProcessMetrics.current() else { return }
        _ = try? await redis.command("HSET", RedisKeyspace.workerProcesses, consumer, current.published(at: now.timeIntervalSince1970))
    }

    /// Publishes every `interval` until the task is cancelled.
    public static func run(consumer: String, redis: RedisClient) async {
        while !Task.isCancelled {
            await publish(consumer: consumer, redis: redis)
            try? await Task.sleep(for: interval)
        }
    }

    /// Prometheus text of the workers' fresh figures; removes the figures of workers gone for
    /// over an hour (a restarted worker has a new consumer name).
    public static func render(_ fields: [String: String], redis: RedisClient? = nil, now: Date = Date()) async -> String {
        let now = now.timeIntervalSince1970
        var fresh: [String: ProcessMetrics] = [:]
        var gone: [String] = []
        for (consumer, value) in fields {
            guard let (figures, time) = ProcessMetrics.parsePublished(value) else { continue }
            if now - time <= freshFor { fresh[consumer] = figures } else if now - time > keptFor { gone.append(consumer) }
        }
        if let redis, !gone.isEmpty { _ = try? await redis.command(["HDEL", RedisKeyspace.workerProcesses] + gone) }
        return ProcessMetrics.prometheusText(fresh, prefix: "prpm_worker_", label: "consumer")
    }
}
