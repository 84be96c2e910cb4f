import Foundation
import Logging
import Metrics
import Redis
import Synchronization

/// Keeps the cache safe when Redis evicts keys (`maxmemory`, see README "Redis memory").
///
/// Entries, locks, package names and rate-limit buckets can be recomputed, so losing them
/// costs work only. A lost write mark is different: without it an answer computed before
/// that write would look fresh. So when Redis reports evictions (`evicted_keys` of `INFO
/// stats`, checked every `interval`), every entity counts as written at the moment they were
/// noticed (`floor`): answers computed before then follow the freshness rule of an entity with
/// a pending write (fresh for at most the lag after their snapshot, then refreshed), whichever
/// keys went. The safe side: evictions cost recomputations, never a stale answer served as
/// fresh, except in the time between an eviction and its notice (at most `interval`).
public final class EvictionWatch: Sendable {
    /// Milliseconds since 1970 of the last noticed eviction; 0: none.
    private let floorMillis = Atomic<Int64>(0)
    private let lastCount = Mutex<Int?>(nil)
    private let evicted = Gauge(label: "prpm_redis_evicted_keys")
    private let noticed = Counter(label: "prpm_cache_eviction_floors_total")

    public init() {}

    /// The write mark every entity has at least (0: none).
    public var floor: Int64 { floorMillis.load(ordering: .relaxed) }

    /// Takes Redis' `evicted_keys` counter. A rise (or evictions already counted when the first
    /// figure comes: their time is unknown) moves the floor to `now`. Returns whether it moved.
    @discardableResult
    public func observe(evictedKeys count: Int, now: Int64 = CacheClock.snapshot()) -> Bool {
        evicted.record(count)
        let rose = lastCount.withLock { last in
            defer { last = count }
            guard let previous = last else { return count > 0 }
            // A restarted Redis counts from 0 again (and lost everything: the outage replay covers it).
            return count > previous
        }
        guard rose else { return false }
        floorMillis.store(now, ordering: .relaxed)
        noticed.increment()
        return true
    }

    /// `evicted_keys` from the text of `INFO stats`.
    public static func evictedKeys(inInfo text: String) -> Int? {
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("evicted_keys:") {
            return Int(line.dropFirst("evicted_keys:".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// Checks Redis every `interval` until cancelled; an unreachable Redis is skipped (the
    /// breaker and the outage replay of write marks cover it).
    public func run(redis: RedisClient, breaker: CircuitBreaker, interval: Duration, logger: Logger) async {
        while !Task.isCancelled {
            let reply = await breaker.call { try await redis.command("INFO", "stats") }
            if case .success(let info)? = reply, let text = info.string, let count = Self.evictedKeys(inInfo: text),
                observe(evictedKeys: count)
            {
                logger.warning("redis evicted keys: answers computed before now count as missing a write", metadata: ["evicted_keys": "\(count)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
