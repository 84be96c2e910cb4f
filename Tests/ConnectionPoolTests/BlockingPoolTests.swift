import ConnectionPool
import NIOPosix
import Synchronization
import TestSupport
import Testing

/// A connection that records whether two callers ever used it at once.
final class ProbeConnection: BlockingConnection, @unchecked Sendable {
    let inUse = Atomic<Int>(0)
    let overlaps = Atomic<Int>(0)
    let uses = Atomic<Int>(0)
    let usable = Atomic<Bool>(true)
    let interrupted = Atomic<Bool>(false)
    var isUsable: Bool { usable.load(ordering: .relaxed) }
    func close() {}
    func interrupt() { interrupted.store(true, ordering: .relaxed) }

    func use(_ work: () throws -> Void) rethrows {
        if inUse.add(1, ordering: .relaxed).newValue > 1 { overlaps.add(1, ordering: .relaxed) }
        defer { inUse.subtract(1, ordering: .relaxed) }
        uses.add(1, ordering: .relaxed)
        try work()
    }
}

struct Boom: Error {}

final class Created: Sendable {
    let list = Mutex<[ProbeConnection]>([])
    var all: [ProbeConnection] { list.withLock { $0 } }
}

@Suite("Blocking connection pool")
struct BlockingPoolTests {
    static let threads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    func makePool(max: Int, created: Created, timeout: Duration = .seconds(5), maxWaiters: Int = .max) -> BlockingPool<ProbeConnection> {
        BlockingPool(
            name: "probe", configuration: .init(maxConnections: max, acquireTimeout: timeout, maxWaiters: maxWaiters), threadPool: Self.threads
        ) {
            let connection = ProbeConnection()
            created.list.withLock { $0.append(connection) }
            return connection
        }
    }

    @Test func aConnectionIsNeverSharedAndFailuresReleaseItOnce() async throws {
        let created = Created()
        let pool = makePool(max: 3, created: created)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<300 {
                group.addTask {
                    do {
                        try await pool.withConnection { connection in
                            try connection.use { if index % 3 == 0 { throw Boom() } }
                        }
                    } catch is Boom {}
                }
            }
            try await group.waitForAll()
        }
        let connections = created.all
        #expect(connections.count <= 3)
        #expect(connections.allSatisfy { $0.overlaps.load(ordering: .relaxed) == 0 })
        #expect(connections.reduce(0) { $0 + $1.uses.load(ordering: .relaxed) } == 300)
        let stats = pool.stats
        #expect(stats.open == connections.count)
        #expect(stats.idle == connections.count)
        #expect(stats.waiting == 0)
    }

    @Test func unusableConnectionsAreReplaced() async throws {
        let created = Created()
        let pool = makePool(max: 1, created: created)
        try await pool.withConnection { connection in connection.usable.store(false, ordering: .relaxed) }
        try await pool.withConnection { connection in #expect(connection.isUsable) }
        #expect(created.all.count == 2)
        #expect(pool.stats.open == 1)
    }

    @Test func waitersTimeOutAndShutdownFailsNewCalls() async throws {
        let created = Created()
        let pool = makePool(max: 1, created: created, timeout: .milliseconds(100))
        let holder = Task { try await pool.withConnection { _ in _ = usleep(400_000) } }
        try await Task.sleep(for: Duration.milliseconds(50))
        await #expect(throws: PoolError.acquireTimeout) { try await pool.withConnection { _ in } }
        try await holder.value
        pool.shutdown()
        await #expect(throws: PoolError.shutdown) { try await pool.withConnection { _ in } }
    }

    /// Holds the pool's only connection on a pool thread until `release` is set.
    static func hold(_ pool: BlockingPool<ProbeConnection>, until release: Gate) -> Task<Void, any Error> {
        Task { try await pool.withConnection(onCancel: .awaitOutcome) { _ in release.wait() } }
    }

    /// Starts a call on `pool`; returns once its body runs on a pool thread.
    static func started<T: Sendable>(
        _ pool: BlockingPool<ProbeConnection>, onCancel: CancellationPolicy = .interrupt,
        _ body: @escaping @Sendable (ProbeConnection) throws -> T
    ) async throws -> Task<T, any Error> {
        let running = Gate()
        let call = Task {
            try await pool.withConnection(onCancel: onCancel) { connection in
                running.open()
                return try body(connection)
            }
        }
        try await waitUntil { running.isOpen }
        return call
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        try await TestEnvironment.eventually("the pool reaches the expected state") { condition() }
    }

    @Test func callersBeyondTheWaiterBoundAreRefusedWithoutWaiting() async throws {
        let pool = makePool(max: 1, created: Created(), maxWaiters: 2)
        let gate = Gate()
        let holder = Self.hold(pool, until: gate)
        try await Self.waitUntil { pool.stats.open == 1 }
        let waiters = (0..<2).map { _ in Task { try await pool.withConnection { _ in 1 } } }
        try await Self.waitUntil { pool.stats.waiting == 2 }
        await #expect(throws: PoolError.overloaded) { try await pool.withConnection { _ in 1 } }
        // Refused while the connection was still held: the call did not queue.
        #expect(!gate.isOpen)
        gate.open()
        try await holder.value
        for waiter in waiters { #expect(try await waiter.value == 1) }
        #expect(pool.stats.idle == 1 && pool.stats.waiting == 0)
    }

    @Test func aQueueThatDoesNotDrainRefusesNewcomersUntilItDoes() async throws {
        let pool = BlockingPool(
            name: "probe", configuration: .init(maxConnections: 1, maxQueueDelay: .milliseconds(50)), threadPool: Self.threads
        ) { ProbeConnection() }
        let gate = Gate()
        let holder = Self.hold(pool, until: gate)
        try await Self.waitUntil { pool.stats.open == 1 }
        // A newcomer queues while the queue is young …
        let early = Task { try await pool.withConnection { _ in 1 } }
        try await Self.waitUntil { pool.stats.waiting == 1 }
        try await Task.sleep(for: .milliseconds(80))
        // … and is refused once its oldest waiter has waited longer than the bound.
        await #expect(throws: PoolError.overloaded) { try await pool.withConnection { _ in 1 } }
        gate.open()
        try await holder.value
        #expect(try await early.value == 1)
        #expect(try await pool.withConnection { _ in 2 } == 2)
    }

    @Test func aCancelledWaiterLeavesTheQueueAtOnce() async throws {
        let pool = makePool(max: 1, created: Created(), timeout: .seconds(60))
        let gate = Gate()
        let holder = Self.hold(pool, until: gate)
        try await Self.waitUntil { pool.stats.open == 1 }
        let waiter = Task { try await pool.withConnection { _ in 1 } }
        try await Self.waitUntil { pool.stats.waiting == 1 }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(pool.stats.waiting == 0)
        #expect(!gate.isOpen)
        gate.open()
        try await holder.value
    }

    @Test func aCancelledCallIsInterruptedAndItsConnectionComesBackWhenItEnds() async throws {
        let created = Created()
        let pool = makePool(max: 1, created: created)
        let gate = Gate()
        let call = try await Self.started(pool) { connection in
            // Runs until the server (here: the probe) is asked to stop it.
            while !connection.interrupted.load(ordering: .relaxed) { usleep(1000) }
            gate.wait()
            return 1
        }
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        #expect(try #require(created.all.first).interrupted.load(ordering: .relaxed))
        // The thread still runs the call: its connection is not handed to anyone meanwhile.
        #expect(pool.stats.idle == 0)
        gate.open()
        try await Self.waitUntil { pool.stats.idle == 1 }
        #expect(try await pool.withConnection { _ in 2 } == 2)
        #expect(created.all.count == 1)
    }

    @Test func aCallerThatAwaitsTheOutcomeGetsItDespiteCancellation() async throws {
        let created = Created()
        let pool = makePool(max: 1, created: created)
        let gate = Gate()
        let call = try await Self.started(pool, onCancel: .awaitOutcome) { _ in
            gate.wait()
            return "committed"
        }
        call.cancel()
        try await Task.sleep(for: .milliseconds(50))
        gate.open()
        #expect(try await call.value == "committed")
        #expect(try #require(created.all.first).interrupted.load(ordering: .relaxed) == false)
    }

    @Test func waitTimersEndWithTheirWaits() async throws {
        // 20,000 waits (after as many to warm up) that are each served within microseconds, with a 30 s acquire timeout:
        // a timer that outlived its wait would keep a sleeping task per wait for 30 s.
        let pool = makePool(max: 1, created: Created(), timeout: .seconds(30))
        func contend() async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask { for _ in 0..<5000 { try await pool.withConnection { _ in } } }
                }
                try await group.waitForAll()
            }
        }
        try await contend()  // warms the allocator's arenas up
        let before = MemoryProbe.residentBytes()
        try await contend()
        let grown = MemoryProbe.residentBytes() - before
        #expect(grown < 8 << 20, "resident memory grew by \(grown) bytes over 20,000 waits")
        #expect(TimerWheel.shared.pending == 0)
    }
}

/// A one-way gate a pool thread can block on.
final class Gate: Sendable {
    private let opened = Atomic<Bool>(false)
    var isOpen: Bool { opened.load(ordering: .acquiring) }
    func open() { opened.store(true, ordering: .releasing) }
    func wait() { while !isOpen { usleep(500) } }
}
