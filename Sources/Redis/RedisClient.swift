import NIOCore
import NIOPosix
import Synchronization

/// Redis on SwiftNIO: one multiplexed connection per event loop (more with
/// `connectionsPerLoop`). A call made on an event loop uses that loop's connection, so its
/// reply is read on the thread that waits for it; concurrent calls pipeline on the connection.
///
/// A broken connection is noticed when it closes (a Redis restart closes every connection at
/// once) and the next call reconnects; after a failed connect, calls fail at once for a short
/// backoff (50 ms, doubling to 1 s) instead of each waiting for the connect timeout.
///
/// With Sentinel (`configuration.sentinels`, `sentinelMaster`) the client asks the sentinels
/// where the primary is, checks it (`ROLE`), and listens for `+switch-master`: when the
/// sentinels name another primary every connection is closed, so the next call reaches the
/// new one.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let slots: [ConnectionSlot]
    /// The slots of each event loop of the group, by the loop's identity.
    private let slotsByLoop: [ObjectIdentifier: [Int]]
    private let nextSlot = Atomic<Int>(0)
    private let sentinel: SentinelPrimary?
    private let watcher: Task<Void, Never>?

    public init(
        configuration: RedisConfiguration, connectionsPerLoop: Int = 1,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        var slots: [ConnectionSlot] = []
        var byLoop: [ObjectIdentifier: [Int]] = [:]
        for loop in eventLoopGroup.makeIterator() {
            for _ in 0..<max(1, connectionsPerLoop) {
                byLoop[ObjectIdentifier(loop), default: []].append(slots.count)
                slots.append(ConnectionSlot(eventLoop: loop))
            }
        }
        self.slots = slots
        slotsByLoop = byLoop
        if let master = configuration.sentinelPrimary {
            let sentinel = SentinelPrimary(master: master, configuration: configuration)
            self.sentinel = sentinel
            watcher = Task.detached { [slots] in
                await sentinel.watch(eventLoop: slots[0].eventLoop) { generation in
                    for slot in slots { slot.drop(olderThan: generation) }
                }
            }
        } else {
            sentinel = nil
            watcher = nil
        }
    }

    /// One command; an error reply is thrown as `RedisError.server`.
    @discardableResult
    public func command(_ arguments: String...) async throws -> RedisReply {
        try await command(arguments)
    }

    @discardableResult
    public func command(_ arguments: [String]) async throws -> RedisReply {
        try await command(bytes: arguments.map { Array($0.utf8) })
    }

    @discardableResult
    public func command(bytes arguments: [[UInt8]]) async throws -> RedisReply {
        try RedisConnection.single(try await pipeline(bytes: [arguments]))
    }

    /// Several commands in one round trip; error replies are returned in place.
    public func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        try await pipeline(bytes: commands.map { $0.map { Array($0.utf8) } })
    }

    public func pipeline(bytes commands: [[[UInt8]]]) async throws -> [RedisReply] {
        let connection = try await connection()
        do {
            return try await connection.pipeline(commands)
        } catch RedisError.connection(let message) where message.hasPrefix("READONLY") {
            // A demoted primary: ask the sentinels again on the next connect.
            sentinel?.forget()
            throw RedisError.connection(message)
        }
    }

    /// Open connections (at most one per slot).
    public var openConnections: Int { slots.reduce(0) { $0 + ($1.isOpen ? 1 : 0) } }

    /// The connection of the caller's event loop (any loop's for a caller on none).
    private func connection() async throws -> RedisConnection {
        let slot = pickSlot()
        let generation = sentinel?.generation ?? 0
        if let ready = slot.ready(generation: generation) { return ready }
        return try await slot.connect(generation: generation) { [configuration, sentinel] loop in
            guard let sentinel else {
                let connection = try await RedisConnection.connect(
                    to: .init(host: configuration.host, port: configuration.port), configuration: configuration, on: loop)
                try await Self.prepare(connection, configuration: configuration, requirePrimary: false)
                return connection
            }
            return try await sentinel.connect(on: loop) { connection in
                try await Self.prepare(connection, configuration: configuration, requirePrimary: true)
            }
        }
    }

    private func pickSlot() -> ConnectionSlot {
        if let loop = MultiThreadedEventLoopGroup.currentEventLoop, let own = slotsByLoop[ObjectIdentifier(loop)] {
            return slots[own.count == 1 ? own[0] : own[nextSlot.add(1, ordering: .relaxed).newValue % own.count]]
        }
        return slots[nextSlot.add(1, ordering: .relaxed).newValue % slots.count]
    }

    /// A new connection's set-up: only a primary will do under Sentinel (a sentinel's answer may
    /// be a moment old), then the database.
    private static func prepare(_ connection: RedisConnection, configuration: RedisConfiguration, requirePrimary: Bool) async throws {
        do {
            if requirePrimary {
                guard case .array(let role) = try await connection.command(["ROLE"]), role.first?.string == "master" else {
                    throw RedisError.connection("\(connection.channel.remoteAddress.map { "\($0)" } ?? "?") is not the primary (yet)")
                }
            }
            if configuration.database != 0 {
                _ = try await connection.command(["SELECT", String(configuration.database)])
            }
        } catch {
            connection.close()
            throw error
        }
    }

    public func shutdown() {
        watcher?.cancel()
        for slot in slots { slot.close() }
    }
}

/// One connection's place on an event loop: idle, connecting (callers share the attempt), or
/// ready. A closed connection leaves it idle; a failed attempt keeps it failing fast for a backoff.
final class ConnectionSlot: Sendable {
    let eventLoop: any EventLoop

    private enum State {
        case idle(retryAt: ContinuousClock.Instant?, lastError: (any Error)?, failures: Int)
        case connecting(EventLoopFuture<RedisConnection>)
        case ready(RedisConnection)
    }

    private let state = Mutex<State>(.idle(retryAt: nil, lastError: nil, failures: 0))
    private let closed = Atomic<Bool>(false)

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    var isOpen: Bool {
        state.withLock { state in
            if case .ready(let connection) = state { return connection.isActive }
            return false
        }
    }

    /// The open connection of this generation, if there is one.
    func ready(generation: Int) -> RedisConnection? {
        state.withLock { state in
            if case .ready(let connection) = state, connection.isActive, connection.generation >= generation { return connection }
            return nil
        }
    }

    private enum Next {
        case ready(RedisConnection)
        case wait(EventLoopFuture<RedisConnection>)
        case start(EventLoopFuture<RedisConnection>, failures: Int)
        case fail(any Error)
    }

    func connect(
        generation: Int, _ make: @escaping @Sendable (any EventLoop) async throws -> RedisConnection
    ) async throws -> RedisConnection {
        let next: Next = state.withLock { state in
            switch state {
            case .ready(let connection) where connection.isActive && connection.generation >= generation:
                return .ready(connection)
            case .connecting(let attempt):
                return .wait(attempt)
            case .idle(let retryAt?, let lastError, _) where ContinuousClock.now < retryAt:
                return .fail(lastError ?? RedisError.connection("reconnecting"))
            case .ready(let connection):
                connection.close()
                fallthrough
            default:
                if closed.load(ordering: .relaxed) { return .fail(RedisError.connection("client shut down")) }
                let failures: Int
                if case .idle(_, _, let count) = state { failures = count } else { failures = 0 }
                let attempt = eventLoop.makeFutureWithTask { [eventLoop] in try await make(eventLoop) }
                state = .connecting(attempt)
                return .start(attempt, failures: failures)
            }
        }
        switch next {
        case .ready(let connection): return connection
        case .wait(let attempt): return try await attempt.get()
        case .start(let attempt, let failures):
            attempt.whenComplete { [self] result in settle(attempt, result, failures: failures) }
            return try await attempt.get()
        case .fail(let error): throw error
        }
    }

    private func settle(_ attempt: EventLoopFuture<RedisConnection>, _ result: Result<RedisConnection, any Error>, failures: Int) {
        state.withLock { state in
            guard case .connecting(let current) = state, current === attempt else { return }
            switch result {
            case .success(let connection):
                if closed.load(ordering: .relaxed) { connection.close() }
                state = .ready(connection)
                connection.channel.closeFuture.whenComplete { [self] _ in
                    self.state.withLock { state in
                        if case .ready(let current) = state, current === connection {
                            state = .idle(retryAt: nil, lastError: nil, failures: 0)
                        }
                    }
                }
            case .failure(let error):
                let backoff = Duration.milliseconds(min(50 << min(failures, 5), 1000))
                state = .idle(retryAt: .now + backoff, lastError: error, failures: failures + 1)
            }
        }
    }

    /// Closes a connection made before the sentinels named another primary.
    func drop(olderThan generation: Int) {
        let stale: RedisConnection? = state.withLock { state in
            if case .ready(let connection) = state, connection.generation < generation { return connection }
            return nil
        }
        stale?.close()
    }

    func close() {
        closed.store(true, ordering: .relaxed)
        let open: RedisConnection? = state.withLock { state in
            if case .ready(let connection) = state { return connection }
            return nil
        }
        open?.close()
    }
}
