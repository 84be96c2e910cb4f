import Logging
import NIOPosix
import Synchronization

/// A connection to a server made through a blocking C client.
///
/// Such a connection is not thread-safe: the pool hands it to one caller at a time
/// and runs that caller's work on its own `NIOThreadPool`, never on an event loop
/// or on the cooperative pool.
public protocol BlockingConnection: AnyObject, Sendable {
    /// False once the connection saw a connection-level failure; the pool then drops it.
    var isUsable: Bool { get }
    func close()
}

/// Errors of the pool itself.
public enum PoolError: Error, Equatable, Sendable {
    /// No connection became free within the acquire timeout.
    case acquireTimeout
    /// The pool was shut down.
    case shutdown
}

/// A bounded pool of blocking connections, run on a dedicated thread pool.
///
/// Connections are created lazily, reused LIFO (the warmest first), and discarded when
/// they report `isUsable == false`, so a restarted server is reconnected to on the next
/// use without restarting the process.
public final class BlockingPool<Connection: BlockingConnection>: Sendable {
    public struct Configuration: Sendable {
        public var maxConnections: Int
        public var acquireTimeout: Duration
        public init(maxConnections: Int = 8, acquireTimeout: Duration = .seconds(5)) {
            self.maxConnections = maxConnections
            self.acquireTimeout = acquireTimeout
        }
    }

    public struct Stats: Sendable, Equatable {
        public var open: Int
        public var idle: Int
        public var waiting: Int
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Connection?, any Error>
    }

    private struct State {
        var idle: [Connection] = []
        var open = 0
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var isShutdown = false
    }

    public let name: String
    public let configuration: Configuration
    private let threadPool: NIOThreadPool
    private let factory: @Sendable () throws -> Connection
    private let state = Mutex(State())

    /// - Parameter factory: opens one connection (blocking; runs on `threadPool`).
    public init(
        name: String,
        configuration: Configuration,
        threadPool: NIOThreadPool,
        factory: @escaping @Sendable () throws -> Connection
    ) {
        self.name = name
        self.configuration = configuration
        self.threadPool = threadPool
        self.factory = factory
    }

    public var stats: Stats {
        state.withLock { Stats(open: $0.open, idle: $0.idle.count, waiting: $0.waiters.count) }
    }

    /// Runs `body` with a connection of the pool on the pool's thread pool.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        let connection = try await acquire()
        let result: (Connection, Result<T, any Error>)
        do {
            result = try await threadPool.runIfActive {
                let existing: Connection
                if let connection { existing = connection } else { existing = try self.factory() }
                do {
                    return (existing, Result<T, any Error>.success(try body(existing)))
                } catch {
                    return (existing, Result<T, any Error>.failure(error))
                }
            }
        } catch {
            // The factory failed or the thread pool is gone: the slot is free again.
            if let connection { release(connection) } else { releaseSlot() }
            throw error
        }
        // Released exactly once, whether `body` succeeded or threw.
        release(result.0)
        return try result.1.get()
    }

    /// Closes idle connections and fails waiters; connections in use are closed when returned.
    public func shutdown() {
        let (idle, waiters) = state.withLock { state -> ([Connection], [Waiter]) in
            state.isShutdown = true
            defer {
                state.open -= state.idle.count
                state.idle = []
                state.waiters = []
            }
            return (state.idle, state.waiters)
        }
        for connection in idle { connection.close() }
        for waiter in waiters { waiter.continuation.resume(throwing: PoolError.shutdown) }
    }

    /// Drops every idle connection (for example after the server was restarted).
    public func drainIdle() {
        let idle = state.withLock { state -> [Connection] in
            defer {
                state.open -= state.idle.count
                state.idle = []
            }
            return state.idle
        }
        for connection in idle { connection.close() }
    }

    // MARK: - Acquire and release

    private enum Immediate {
        case connection(Connection)
        case create
        case wait(UInt64)
        case shutdown
    }

    /// Returns an idle connection, or nil when the caller may open a new one.
    private func acquire() async throws -> Connection? {
        // Fast path without a suspension: an idle connection, or a free slot.
        let immediate = state.withLock { state -> Immediate? in
            if state.isShutdown { return .shutdown }
            if let connection = state.idle.popLast() { return .connection(connection) }
            if state.open < configuration.maxConnections {
                state.open += 1
                return .create
            }
            return nil
        }
        switch immediate {
        case .connection(let connection): return connection
        case .create: return nil
        case .shutdown: throw PoolError.shutdown
        case .wait, nil: break
        }
        let timeout = configuration.acquireTimeout
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Connection?, any Error>) in
            let action = state.withLock { state -> Immediate in
                if state.isShutdown { return .shutdown }
                if let connection = state.idle.popLast() { return .connection(connection) }
                if state.open < configuration.maxConnections {
                    state.open += 1
                    return .create
                }
                state.nextWaiterID += 1
                state.waiters.append(Waiter(id: state.nextWaiterID, continuation: continuation))
                return .wait(state.nextWaiterID)
            }
            switch action {
            case .connection(let connection): continuation.resume(returning: connection)
            case .create: continuation.resume(returning: nil)
            case .shutdown: continuation.resume(throwing: PoolError.shutdown)
            case .wait(let id):
                Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    self?.timeOut(waiter: id)
                }
            }
        }
    }

    private func timeOut(waiter id: UInt64) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: PoolError.acquireTimeout)
    }

    private enum Next {
        case handOver(Waiter)
        case close
        case keep
    }

    private func release(_ connection: Connection) {
        guard connection.isUsable else {
            connection.close()
            releaseSlot()
            return
        }
        let next = state.withLock { state -> Next in
            if state.isShutdown {
                state.open -= 1
                return .close
            }
            if !state.waiters.isEmpty { return .handOver(state.waiters.removeFirst()) }
            state.idle.append(connection)
            return .keep
        }
        switch next {
        case .handOver(let waiter): waiter.continuation.resume(returning: connection)
        case .close: connection.close()
        case .keep: break
        }
    }

    /// A connection slot became free without a connection to hand over.
    private func releaseSlot() {
        let waiter = state.withLock { state -> Waiter? in
            if !state.isShutdown, !state.waiters.isEmpty {
                // The slot passes to the waiter, which opens its own connection.
                return state.waiters.removeFirst()
            }
            state.open -= 1
            return nil
        }
        waiter?.continuation.resume(returning: nil)
    }
}
