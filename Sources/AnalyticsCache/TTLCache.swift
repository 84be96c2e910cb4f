import DequeModule
import Synchronization

/// A bounded in-process cache whose entries expire `ttl` after they were stored.
///
/// Bounded three ways: by entries (`capacity`), by bytes (`maxBytes`, as `cost` counts an
/// entry) and by time. Every entry of a cache lives the same `ttl` (or less, see
/// `set(_:_:lifetime:)`), so the order of insertion is the order of expiry: a queue in that
/// order lets each insertion sweep the expired entries from its front (O(1) amortized), and
/// over a bound the oldest entries, which would expire first anyway, make room. An entry whose
/// key is never asked for again therefore leaves within `ttl` all the same. (The first version
/// removed an expired entry only when its own key was read again, and emptied the whole cache
/// at `capacity`: caches keyed by an answer's ETag grew by every answer ever rendered, about
/// 6 MB a minute under the full mix, until they were emptied at once.)
///
/// With a `name`, the cache reports its size in `/metrics` (`InProcessSizes`).
public final class TTLCache<Key: Hashable & Sendable, Value: Sendable>: Sendable, SizedStructure {
    private struct Entry {
        let value: Value
        let expires: ContinuousClock.Instant
        let sequence: UInt64
        let cost: Int
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Keys in insertion order, with the sequence number of that insertion (a key stored
        /// again leaves a stale item behind, skipped when it reaches the front).
        var order: Deque<(key: Key, sequence: UInt64)> = []
        var bytes = 0
        var sequence: UInt64 = 0

        mutating func remove(_ key: Key) {
            if let old = entries.removeValue(forKey: key) { bytes -= old.cost }
        }
    }

    private let state = Mutex(State())
    public let ttl: Duration
    public let capacity: Int
    public let maxBytes: Int
    private let cost: (@Sendable (Key, Value) -> Int)?
    private let now: @Sendable () -> ContinuousClock.Instant

    /// - Parameters:
    ///   - cost: an entry's size in bytes, as counted against `maxBytes` (and reported).
    ///   - now: the clock (tests move it).
    public init(
        ttl: Duration, capacity: Int, maxBytes: Int = .max, name: String? = nil, cost: (@Sendable (Key, Value) -> Int)? = nil,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.ttl = ttl
        self.capacity = max(1, capacity)
        self.maxBytes = maxBytes
        self.cost = cost
        self.now = now
        if let name { InProcessSizes.shared.register(name, self) }
    }

    public subscript(key: Key) -> Value? {
        get {
            let now = now()
            return state.withLock { state in
                guard let entry = state.entries[key] else { return nil }
                guard entry.expires > now else {
                    state.remove(key)
                    return nil
                }
                return entry.value
            }
        }
        set {
            if let newValue { set(key, newValue) } else { state.withLock { $0.remove(key) } }
        }
    }

    /// Stores `value` for `lifetime` (at most the cache's `ttl`).
    public func set(_ key: Key, _ value: Value, lifetime: Duration? = nil) {
        let now = now()
        let expires = now + min(ttl, lifetime ?? ttl)
        let size = cost?(key, value) ?? 0
        // An entry that cannot fit is not kept (it would evict everything else).
        guard size <= maxBytes else { return }
        state.withLock { state in
            state.remove(key)
            state.sequence += 1
            state.entries[key] = Entry(value: value, expires: expires, sequence: state.sequence, cost: size)
            state.order.append((key, state.sequence))
            state.bytes += size
            sweep(&state, now: now)
        }
    }

    /// Drops expired entries from the front, then the oldest while over a bound.
    private func sweep(_ state: inout State, now: ContinuousClock.Instant) {
        while let first = state.order.first {
            guard let entry = state.entries[first.key], entry.sequence == first.sequence else {
                state.order.removeFirst()  // replaced or removed since
                continue
            }
            guard entry.expires <= now || state.entries.count > capacity || state.bytes > maxBytes else { break }
            state.order.removeFirst()
            state.remove(first.key)
        }
        // Keys stored again and again leave stale items behind the live front: compact the
        // queue when they outnumber the entries.
        if state.order.count > 2 * state.entries.count + 64 {
            let entries = state.entries
            state.order = Deque(state.order.filter { entries[$0.key]?.sequence == $0.sequence })
        }
    }

    public func removeAll() {
        state.withLock { $0 = State() }
    }

    /// Entries kept now (expired ones not swept yet included).
    public var count: Int { state.withLock { $0.entries.count } }

    /// Entries, and bytes as `cost` counts them (nil without a `cost`).
    public var size: StructureSize { state.withLock { StructureSize(entries: $0.entries.count, bytes: cost == nil ? nil : $0.bytes) } }
}

/// A value kept with the version (an answer's ETag) it was made from: one entry per key, made
/// again when the version changes, so that the key space is that of the keys, not of their history.
public struct Versioned<Value: Sendable>: Sendable {
    public let version: String
    public let value: Value
}

extension TTLCache {
    /// The value kept for `key` when it was made from `version`; else `make()`'s, kept in its place.
    public func value<V>(_ key: Key, version: String, make: () throws -> V) rethrows -> V where Value == Versioned<V> {
        if let known = self[key], known.version == version { return known.value }
        let made = try make()
        set(key, Versioned(version: version, value: made))
        return made
    }
}
