import NIOCore
import NIOPosix
import Synchronization

/// One connection to Redis, owned by an event loop. Requests from any thread are written in
/// order and pipeline on it; each has the configured command timeout, kept as a scheduled
/// task on the loop (a late reply is dropped). A connection that answers nothing for five
/// timeouts (at least 1 s) after one, or that breaks, is closed for good: the client makes another.
public final class RedisConnection: Sendable {
    let channel: any Channel
    let commandTimeout: TimeAmount
    /// The Sentinel generation it was made in (0 without Sentinel); see `RedisClient`.
    let generation: Int

    private init(channel: any Channel, commandTimeout: TimeAmount, generation: Int) {
        self.channel = channel
        self.commandTimeout = commandTimeout
        self.generation = generation
    }

    public var eventLoop: any EventLoop { channel.eventLoop }
    public var isActive: Bool { channel.isActive }

    /// Connects to `endpoint` on `eventLoop`. Replies with no request pending (pub/sub
    /// messages) are passed to `onPush` on the loop.
    static func connect(
        to endpoint: RedisConfiguration.Endpoint, configuration: RedisConfiguration, on eventLoop: any EventLoop, generation: Int = 0,
        onPush: (@Sendable (RedisReply) -> Void)? = nil
    ) async throws -> RedisConnection {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(RESPReplyDecoder()),
                        RedisCommandHandler(deadAfter: max(.seconds(1), TimeAmount(configuration.commandTimeout) * 5), onPush: onPush),
                    ])
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            throw RedisError.connection("\(endpoint.host):\(endpoint.port): \(error)")
        }
        return RedisConnection(channel: channel, commandTimeout: TimeAmount(configuration.commandTimeout), generation: generation)
    }

    /// Sends all commands at once and completes with all replies (error replies in place).
    public func pipeline(_ commands: [[[UInt8]]]) -> EventLoopFuture<[RedisReply]> {
        let promise = channel.eventLoop.makePromise(of: [RedisReply].self)
        channel.writeAndFlush(RedisRequest(commands: commands, promise: promise, timeout: commandTimeout)).whenFailure { error in
            promise.fail(error as? RedisError ?? RedisError.connection("\(error)"))
        }
        return promise.futureResult
    }

    public func pipeline(_ commands: [[[UInt8]]]) async throws -> [RedisReply] {
        try await pipeline(commands).get()
    }

    /// One command; an error reply is thrown as `RedisError.server`.
    public func command(_ arguments: [String]) async throws -> RedisReply {
        try Self.single(try await pipeline([arguments.map { Array($0.utf8) }]))
    }

    static func single(_ replies: [RedisReply]) throws -> RedisReply {
        guard let reply = replies.first else { throw RedisError.unexpectedReply("no reply") }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    public func close() {
        channel.close(promise: nil)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// Counts of this process's Redis traffic (capacity figures: commands and round trips per request).
public enum RedisStatistics {
    /// Commands sent by every connection of the process (a pipeline counts each of its commands).
    public static let commands = Atomic<Int>(0)
    /// Round trips: one per pipeline (a single command is a pipeline of one).
    public static let roundTrips = Atomic<Int>(0)
}
