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
    /// Asked (on the pool's thread) before an idle connection is handed out again: false when
    /// the server closed it meanwhile (a restart), so the caller gets a fresh one instead of a
    /// failure. Must not block.
    var isAlive: Bool { get }
    func close()
    /// Asks the server to stop the call running on this connection (Postgres: a cancel
    /// request). Called from another thread while that call runs; must be thread-safe.
    func interrupt()
}

extension BlockingConnection {
    public func interrupt() {}
    public var isAlive: Bool { isUsable }
}

/// What a caller whose task is cancelled gets while its call runs on a connection.
public enum CancellationPolicy: Sendable {
    /// The caller returns at once with `CancellationError`; the call is interrupted on the
    /// server and its connection comes back to the pool when the thread is done with it.
    case interrupt
    /// The caller waits for the outcome (a write must report what really happened).
    case awaitOutcome
}

/// Errors of the pool itself.
public enum PoolError: Error, Equatable, Sendable {
    /// No connection became free within the acquire timeout.
    case acquireTimeout
    /// As many callers as allowed already wait for a connection: refused without waiting.
    case overloaded
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
        /// At most this many callers wait for a connection; more are refused at once with
        /// `PoolError.overloaded` instead of queueing behind work that cannot finish in time.
        public var maxWaiters: Int
        /// When the longest waiter has waited this long, the queue is not draining: newcomers
        /// are refused at once (`PoolError.overloaded`) until it does. A burst of quick calls
        /// queues freely; a backlog of slow ones stops growing.
        public var maxQueueDelay: Duration?
        public init(
            maxConnections: Int = 8, acquireTimeout: Duration = .seconds(5), maxWaiters: Int = .max, maxQueueDelay: Duration? = nil
        ) {
            self.maxConnections = maxConnections
            self.acquireTimeout = acquireTimeout
            self.maxWaiters = maxWaiters
            self.maxQueueDelay = maxQueueDelay
        }
    }

    public struct Stats: Sendable, Equatable {
        public var open: Int
        public var idle: Int
        public var waiting: Int
    }

    private struct Waiter {
        let id: UInt64
        let since: ContinuousClock.Instant
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
    ///
    /// - Parameters:
    ///   - acquireTimeout: how long to wait for a free connection (the pool's setting by default).
    ///   - onCancel: what a cancelled caller gets while `body` runs (see `CancellationPolicy`).
    ///     Waiting for a connection always ends at once on cancellation.
    public func withConnection<T: Sendable>(
        acquireTimeout: Duration? = nil, onCancel: CancellationPolicy = .interrupt,
        _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws -> T {
        let connection = try await acquire(timeout: acquireTimeout ?? configuration.acquireTimeout)
        let call = Call<T>(policy: onCancel)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                call.attach(continuation)
                threadPool.submit { state in
                    var used = connection
                    let result: Result<T, any Error>
                    if state == .cancelled {
                        result = .failure(PoolError.shutdown)
                    } else {
                        do {
                            // An idle connection the server closed meanwhile is replaced here:
                            // writes, which are not retried, would otherwise fail on it after a restart.
                            var reused = connection
                            if let idle = reused, !idle.isAlive {
                                idle.close()
                                reused = nil
                            }
                            let existing = try reused ?? self.factory()
                            used = existing
                            result = call.start(on: existing) ? Result { try body(existing) } : .failure(CancellationError())
                        } catch {
                            result = .failure(error)
                        }
                    }
                    // The call ends before the connection goes back (an interrupt can only
                    // reach the call it was meant for), and the connection is back before its
                    // caller goes on (its next call finds it idle).
                    let caller = call.end()
                    if let used { self.release(used) } else { self.releaseSlot() }
                    caller?.resume(with: result)
                }
            }
        } onCancel: {
            call.cancel()
        }
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
        case overloaded
    }

    /// Returns an idle connection, or nil when the caller may open a new one.
    private func acquire(timeout: Duration) async throws -> Connection? {
        try Task.checkCancellation()
        // Fast path without a suspension: an idle connection, or a free slot.
        let immediate = state.withLock { claim(&$0) }
        switch immediate {
        case .connection(let connection): return connection
        case .create: return nil
        case .shutdown: throw PoolError.shutdown
        case .overloaded: throw PoolError.overloaded
        case .wait, nil: break
        }
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        // The timeout is dropped as soon as the waiter is served or leaves.
        let timer = TimerWheel.shared.schedule(after: timeout) { [weak self] in self?.leave(waiter: id, with: PoolError.acquireTimeout) }
        defer { TimerWheel.shared.cancel(timer) }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Connection?, any Error>) in
                let action = state.withLock { state -> Immediate in
                    if let immediate = claim(&state) { return immediate }
                    state.waiters.append(Waiter(id: id, since: .now, continuation: continuation))
                    return .wait(id)
                }
                switch action {
                case .connection(let connection): continuation.resume(returning: connection)
                case .create: continuation.resume(returning: nil)
                case .shutdown: continuation.resume(throwing: PoolError.shutdown)
                case .overloaded: continuation.resume(throwing: PoolError.overloaded)
                case .wait: break
                }
            }
        } onCancel: {
            leave(waiter: id, with: CancellationError())
        }
    }

    /// What a caller gets without waiting (an idle connection, a free slot, a refusal), or nil
    /// when it must wait.
    private func claim(_ state: inout State) -> Immediate? {
        if state.isShutdown { return .shutdown }
        if let connection = state.idle.popLast() { return .connection(connection) }
        if state.open < configuration.maxConnections {
            state.open += 1
            return .create
        }
        return isFull(state.waiters) ? .overloaded : nil
    }

    /// No room for one more waiter: too many, or the queue is not draining.
    private func isFull(_ waiters: [Waiter]) -> Bool {
        if waiters.count >= configuration.maxWaiters { return true }
        guard let oldest = waiters.first, let limit = configuration.maxQueueDelay else { return false }
        return ContinuousClock.now - oldest.since >= limit
    }

    /// Fails a waiter that is still waiting (timed out or cancelled).
    private func leave(waiter id: UInt64, with error: any Error) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
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

/// One call on a pooled connection: its caller's continuation, resumed exactly once with
/// the outcome or, for an interruptible caller that was cancelled, with `CancellationError`.
private final class Call<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var cancelled = false
        var connection: (any BlockingConnection)?
        var done = false
    }

    private let policy: CancellationPolicy
    private let state = Mutex(State())

    init(policy: CancellationPolicy) { self.policy = policy }

    func attach(_ continuation: CheckedContinuation<T, any Error>) {
        let resume = state.withLock { state -> Result<T, any Error>? in
            if state.cancelled { return .failure(CancellationError()) }
            state.continuation = continuation
            return nil
        }
        if let resume { continuation.resume(with: resume) }
    }

    /// Registers the connection the call runs on; false when its caller already left.
    func start(on connection: any BlockingConnection) -> Bool {
        state.withLock { state in
            if state.cancelled { return false }
            state.connection = connection
            return true
        }
    }

    /// The call ended: no interrupt can reach it any more. Returns the caller to resume, if
    /// it still waits.
    func end() -> CheckedContinuation<T, any Error>? {
        state.withLock { state in
            state.done = true
            state.connection = nil
            defer { state.continuation = nil }
            return state.continuation
        }
    }

    func cancel() {
        guard policy == .interrupt else { return }
        let continuation = state.withLock { state -> CheckedContinuation<T, any Error>? in
            guard !state.done, !state.cancelled else { return nil }
            state.cancelled = true
            // Under the lock: the call cannot end and hand its connection to someone else meanwhile.
            state.connection?.interrupt()
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(throwing: CancellationError())
    }
}
