import Foundation
import Synchronization

/// A small in-process copy of the hottest fresh shared entries, kept for at most `ttl` (1 s
/// by default, never more than `CACHE_PUBLIC_LAG_S`) and never past the entry's own
/// freshness, so the hottest keys skip the Redis round trip. No other replica needs to be
/// told of writes: shared answers may lag a write by `CACHE_PUBLIC_LAG_S`, and a user's own
/// answers are never kept here.
public final class NearCache: Sendable {
    private struct Item {
        let entry: CacheEntry
        let expires: ContinuousClock.Instant
    }

    public let ttl: Duration
    public let capacity: Int
    private let items = Mutex<[String: Item]>([:])

    public init(ttl: Duration, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    public var isEnabled: Bool { ttl > .zero }

    public func get(_ key: String) -> CacheEntry? {
        guard isEnabled else { return nil }
        return items.withLock { items in
            guard let item = items[key] else { return nil }
            guard item.expires > .now else {
                items[key] = nil
                return nil
            }
            return item.entry
        }
    }

    /// Keeps a fresh entry for `min(ttl, what is left of its cache TTL)`.
    public func put(_ key: String, _ entry: CacheEntry, remaining: TimeInterval) {
        guard isEnabled, remaining > 0 else { return }
        let keep = min(ttl, .milliseconds(Int(remaining * 1000)))
        items.withLock { items in
            if items.count >= capacity { items.removeAll(keepingCapacity: true) }
            items[key] = Item(entry: entry, expires: .now + keep)
        }
    }

    public func remove(_ keys: [String]) {
        guard isEnabled else { return }
        items.withLock { items in for key in keys { items[key] = nil } }
    }

    public func removeAll() { items.withLock { $0.removeAll() } }
}
