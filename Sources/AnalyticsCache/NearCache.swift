import Foundation
import Synchronization

/// A small in-process copy of the hottest fresh shared entries, kept for at most `ttl` (1 s
/// by default, never more than `CACHE_PUBLIC_LAG_S`) and never past the entry's own
/// freshness, so the hottest keys skip the Redis round trip. No other replica needs to be
/// told of writes: shared answers may lag a write by `CACHE_PUBLIC_LAG_S`, and a user's own
/// answers are never kept here. While the store is unreachable it also keeps the answers
/// computed without it (`bypassed`), so a Redis outage costs Postgres one computation per hot
/// key and process each `ttl`, not one per request.
public final class NearCache: Sendable {
    /// A kept entry and until when (ms since 1970) it is fresh: what `Cache-Control` is made of.
    public struct Hit: Sendable, Equatable {
        public let entry: CacheEntry
        public let freshUntil: Int64
        /// Computed while the store was unreachable (answered as `BYPASS`, not `HIT`).
        public let bypassed: Bool

        public init(entry: CacheEntry, freshUntil: Int64, bypassed: Bool = false) {
            self.entry = entry
            self.freshUntil = freshUntil
            self.bypassed = bypassed
        }
    }

    public let ttl: Duration
    public let capacity: Int
    private let items: TTLCache<String, Hit>

    /// - Parameter maxBytes: the bodies kept, at most (a few hundred of the largest answers).
    public init(ttl: Duration, capacity: Int = 10_000, maxBytes: Int = 32 << 20) {
        self.ttl = ttl
        self.capacity = capacity
        items = TTLCache(
            ttl: ttl, capacity: capacity, maxBytes: maxBytes, name: "near_cache",
            cost: { key, hit in key.utf8.count + hit.entry.body.count + hit.entry.etag.utf8.count + 64 })
    }

    public var isEnabled: Bool { ttl > .zero }

    public func get(_ key: String) -> Hit? {
        guard isEnabled else { return nil }
        return items[key]
    }

    /// Keeps an entry that is fresh until `freshUntil` (ms) for `min(ttl, what is left of that)`.
    public func put(_ key: String, _ entry: CacheEntry, freshUntil: Int64, bypassed: Bool = false, now: Int64 = CacheClock.snapshot()) {
        guard isEnabled, freshUntil > now else { return }
        items.set(key, Hit(entry: entry, freshUntil: freshUntil, bypassed: bypassed), lifetime: .milliseconds(freshUntil - now))
    }

    public func removeAll() { items.removeAll() }

    /// Entries kept now.
    public var count: Int { items.count }
}
