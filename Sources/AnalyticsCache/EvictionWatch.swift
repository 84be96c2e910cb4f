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
/// noticed (`floor`, shared through Redis): answers computed before then follow the freshness rule of an entity with
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

    /// Takes Redis' `evicted_keys` counter and the floor other processes stored (`stored`, ms;
    /// nil: none). A rise of the counter since the last figure moves the floor to `now`; the
    /// first figure only sets the baseline (evictions before it were noticed, and stored, by
    /// the processes that ran then). Returns whether this call noticed new evictions.
    @discardableResult
    public func observe(evictedKeys count: Int, stored: Int64? = nil, now: Int64 = CacheClock.snapshot()) -> Bool {
        evicted.record(count)
        if let stored, stored > floor { floorMillis.store(stored, ordering: .relaxed) }
        let rose = lastCount.withLock { last in
            defer { last = count }
            // A restarted Redis counts from 0 again (and lost everything: the outage replay covers it).
            guard let previous = last else { return false }
            return count > previous
        }
        guard rose else { return false }
        floorMillis.store(max(now, floor), ordering: .relaxed)
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
    /// breaker and the outage replay of write marks cover it). A noticed eviction is stored in
    /// Redis (`RedisKeyspace.evictionFloor`, no TTL: never evicted itself) for every other
    /// process, also those that start later.
    public func run(redis: RedisClient, breaker: CircuitBreaker, interval: Duration, logger: Logger) async {
        while !Task.isCancelled {
            let reply = await breaker.call { try await redis.pipeline([["INFO", "stats"], ["GET", RedisKeyspace.evictionFloor]]) }
            if case .success(let replies)? = reply, replies.count == 2, let text = replies[0].string,
                let count = Self.evictedKeys(inInfo: text),
                observe(evictedKeys: count, stored: replies[1].string.flatMap { Int64($0) })
            {
                logger.warning("redis evicted keys: answers computed before now count as missing a write", metadata: ["evicted_keys": "\(count)"])
                _ = await breaker.call { try await redis.command("EVAL", Self.storeFloor, "1", RedisKeyspace.evictionFloor, String(self.floor)) }
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// KEYS: the stored floor; ARGV: a floor. Keeps the later one.
    static let storeFloor = """
        if (tonumber(redis.call('GET', KEYS[1]) or '0') or 0) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
        return 1
        """
}
