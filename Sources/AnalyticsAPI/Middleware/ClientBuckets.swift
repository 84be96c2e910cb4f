import AnalyticsCache

/// Token buckets per client in this process, bounded in entries and bytes: a client gone for
/// as long as its bucket takes to refill is forgotten (it would start full anyway).
final class ClientBuckets: Sendable {
    let perSecond: Double
    let burst: Double
    private let buckets: TTLCache<String, Bucket>

    struct Bucket: Sendable {
        var tokens: Double
        var at: ContinuousClock.Instant
    }

    init(perSecond: Double, burst: Double, name: String) {
        self.perSecond = max(perSecond, 0.001)
        self.burst = max(1, burst)
        buckets = TTLCache(
            ttl: .seconds(max(1, self.burst / self.perSecond)), capacity: 100_000, maxBytes: 16 << 20, name: name,
            cost: { key, _ in key.utf8.count + 64 })
    }

    /// Takes a token of `client`'s bucket: nil when there was one, else the seconds until there is.
    func take(_ client: String, now: ContinuousClock.Instant = .now) -> Int? {
        var bucket = buckets[client] ?? Bucket(tokens: burst, at: now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) / .seconds(1) * perSecond)
        bucket.at = now
        defer { buckets.set(client, bucket) }
        guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up))) }
        bucket.tokens -= 1
        return nil
    }
}
