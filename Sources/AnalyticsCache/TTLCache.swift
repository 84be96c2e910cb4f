import Synchronization

/// A small bounded in-process cache whose entries expire after `ttl`.
public final class TTLCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        let value: Value
        let expires: ContinuousClock.Instant
    }

    private let storage = Mutex<[Key: Entry]>([:])
    private let ttl: Duration
    private let capacity: Int

    public init(ttl: Duration, capacity: Int) {
        self.ttl = ttl
        self.capacity = capacity
    }

    public subscript(key: Key) -> Value? {
        get {
            storage.withLock { entries in
                guard let entry = entries[key] else { return nil }
                guard entry.expires > .now else {
                    entries[key] = nil
                    return nil
                }
                return entry.value
            }
        }
        set {
            storage.withLock { entries in
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
                entries[key] = newValue.map { Entry(value: $0, expires: .now + ttl) }
            }
        }
    }

    public func removeAll() { storage.withLock { $0.removeAll() } }
}
