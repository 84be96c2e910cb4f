import ConnectionPool
import NIOPosix
import Synchronization
import Testing

/// A connection that records whether two callers ever used it at once.
final class ProbeConnection: BlockingConnection, @unchecked Sendable {
    let inUse = Atomic<Int>(0)
    let overlaps = Atomic<Int>(0)
    let uses = Atomic<Int>(0)
    let usable = Atomic<Bool>(true)
    var isUsable: Bool { usable.load(ordering: .relaxed) }
    func close() {}

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

    func makePool(max: Int, created: Created, timeout: Duration = .seconds(5)) -> BlockingPool<ProbeConnection> {
        BlockingPool(name: "probe", configuration: .init(maxConnections: max, acquireTimeout: timeout), threadPool: Self.threads) {
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
}
