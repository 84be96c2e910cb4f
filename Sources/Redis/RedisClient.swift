import ConnectionPool
import NIOPosix

/// A pool of hiredis connections on a dedicated thread pool.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    public let pool: BlockingPool<RedisConnection>
    private let watcher: Task<Void, Never>?

    /// With Sentinel (`configuration.sentinels`, `sentinelMaster`), a watcher asks the sentinels
    /// every `sentinelPoll` where the primary is; when they name another one, every connection
    /// made before is dropped, so calls reach the new primary within about that time.
    public init(
        configuration: RedisConfiguration, pool poolConfiguration: BlockingPool<RedisConnection>.Configuration, threadPool: NIOThreadPool,
        sentinelPoll: Duration = .milliseconds(250)
    ) {
        var configuration = configuration
        let sentinel = configuration.sentinelPrimary
        let watch = sentinel.map { _ in RedisPrimaryWatch() }
        configuration.primaryWatch = watch
        let connect = configuration
        let pool = BlockingPool(name: "redis", configuration: poolConfiguration, threadPool: threadPool) {
            try RedisConnection(configuration: connect)
        }
        self.pool = pool
        self.configuration = configuration
        guard let master = sentinel, let watch else {
            watcher = nil
            return
        }
        watcher = Task.detached {
            var known: RedisConfiguration.Endpoint?
            while !Task.isCancelled {
                let named = try? await threadPool.runIfActive {
                    try RedisConnection.primary(named: master, sentinels: connect.sentinels, configuration: connect)
                }
                if let named {
                    if let known, known != named {
                        watch.bump()
                        pool.drainIdle()
                    }
                    known = named
                }
                try? await Task.sleep(for: sentinelPoll)
            }
        }
    }

    /// One command. A connection-level failure drops the connection: the next call reconnects.
    @discardableResult
    public func command(_ arguments: String...) async throws -> RedisReply {
        try await command(arguments)
    }

    @discardableResult
    public func command(_ arguments: [String]) async throws -> RedisReply {
        let bytes = arguments.map { Array($0.utf8) }
        return try await run { try $0.command(bytes) }
    }

    @discardableResult
    public func command(bytes arguments: [[UInt8]]) async throws -> RedisReply {
        try await run { try $0.command(arguments) }
    }

    /// Several commands in one round trip; error replies are returned in place.
    public func pipeline(_ commands: [[String]]) async throws -> [RedisReply] {
        let bytes = commands.map { $0.map { Array($0.utf8) } }
        return try await run { try $0.pipeline(bytes) }
    }

    public func pipeline(bytes commands: [[[UInt8]]]) async throws -> [RedisReply] {
        try await run { try $0.pipeline(commands) }
    }

    /// A call on a pooled connection. After a connection-level failure the idle connections are
    /// dropped too: a Redis restart broke them all, and each would otherwise fail one more call.
    private func run<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        do {
            return try await pool.withConnection(body)
        } catch RedisError.connection(let message) {
            pool.drainIdle()
            throw RedisError.connection(message)
        }
    }

    public func shutdown() {
        watcher?.cancel()
        pool.shutdown()
    }
}
