import Synchronization

/// Runs at most one computation per key at a time inside this process; concurrent callers
/// of the same key wait for that computation and share its result.
public final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let flights = Mutex<[Key: Task<Value, any Error>]>([:])

    public init() {}

    /// The result of the flight for `key`, started with `work` when none is running.
    /// Returns whether this caller started it (`leader`) or joined one (a waiter).
    public func run(_ key: Key, _ work: @escaping @Sendable () async throws -> Value) async throws -> (value: Value, leader: Bool) {
        let (task, leader) = flights.withLock { flights -> (Task<Value, any Error>, Bool) in
            if let running = flights[key] { return (running, false) }
            let task = Task { try await work() }
            flights[key] = task
            return (task, true)
        }
        if leader {
            defer { _ = flights.withLock { $0.removeValue(forKey: key) } }
            return (try await task.value, true)
        }
        return (try await task.value, false)
    }

    /// Whether a flight for `key` is running.
    public func isRunning(_ key: Key) -> Bool { flights.withLock { $0[key] != nil } }
}
