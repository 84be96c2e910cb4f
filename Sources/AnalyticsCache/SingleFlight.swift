import Synchronization

/// Runs at most one computation per key at a time inside this process; concurrent callers
/// of the same key wait for that computation and share its result. A flight leaves the table
/// as soon as its work ends, before anyone sees its result: a caller that comes after a
/// result was delivered starts (or joins) a newer flight.
public final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable, SizedStructure {
    private struct Flight {
        let id: UInt64
        let task: Task<Value, any Error>
    }

    private struct Table {
        var flights: [Key: Flight] = [:]
        var nextID: UInt64 = 0
    }

    private let table = Mutex(Table())

    public init() {}

    /// The result of the flight for `key`, started with `work` when none is running.
    /// Returns whether this caller started it (`leader`) or joined one (a waiter).
    public func run(_ key: Key, _ work: @escaping @Sendable () async throws -> Value) async throws -> (value: Value, leader: Bool) {
        let (task, leader) = table.withLock { table -> (Task<Value, any Error>, Bool) in
            if let running = table.flights[key] { return (running.task, false) }
            table.nextID += 1
            let id = table.nextID
            let task = Task { [self] in
                defer { finish(key, id: id) }
                return try await work()
            }
            table.flights[key] = Flight(id: id, task: task)
            return (task, true)
        }
        return (try await task.value, leader)
    }

    /// Flights running now (for `/metrics`: a table that only grows is a leak).
    public var size: StructureSize { StructureSize(entries: table.withLock { $0.flights.count }) }

    /// Whether a flight for `key` is running.
    public func isRunning(_ key: Key) -> Bool { table.withLock { $0.flights[key] != nil } }

    private func finish(_ key: Key, id: UInt64) {
        table.withLock { table in
            if table.flights[key]?.id == id { table.flights[key] = nil }
        }
    }
}
