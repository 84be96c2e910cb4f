import NIOCore

/// Commands for one connection: written in order, their replies matched to them in order.
struct RedisRequest: Sendable {
    var commands: [[[UInt8]]]
    var promise: EventLoopPromise<[RedisReply]>
    var timeout: TimeAmount
}

/// The request queue of one connection. Concurrent requests are written as they come and
/// answered in order: they pipeline on the connection. A request not answered within its
/// timeout breaks the connection (every later reply would be matched to the wrong request),
/// and every pending request fails; the client reconnects on the next call.
///
/// Replies that arrive with nothing pending (pub/sub messages) go to `onPush`.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RedisReply
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var remaining: Int
        var replies: [RedisReply]
        let promise: EventLoopPromise<[RedisReply]>
        let timer: Scheduled<Void>?
    }

    private var pending = CircularBuffer<Pending>(initialCapacity: 16)
    private let onPush: (@Sendable (RedisReply) -> Void)?
    private var closedError: RedisError?

    init(onPush: (@Sendable (RedisReply) -> Void)? = nil) {
        self.onPush = onPush
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let closedError {
            request.promise.fail(closedError)
            promise?.fail(closedError)
            return
        }
        guard !request.commands.isEmpty else {
            request.promise.succeed([])
            promise?.succeed(())
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 64 * request.commands.count)
        for command in request.commands { RESP.write(command, into: &buffer) }
        let timer: Scheduled<Void>?
        if request.timeout > .zero {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            timer = context.eventLoop.assumeIsolated().scheduleTask(in: request.timeout) {
                let (handler, context) = loopBound.value
                handler.fail(RedisError.connection("no reply within \(request.timeout.nanoseconds / 1_000_000) ms"), context: context)
            }
        } else {
            timer = nil
        }
        pending.append(Pending(remaining: request.commands.count, replies: [], promise: request.promise, timer: timer))
        RedisStatistics.commands.add(request.commands.count, ordering: .relaxed)
        RedisStatistics.roundTrips.add(1, ordering: .relaxed)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        guard !pending.isEmpty else {
            onPush?(reply)
            return
        }
        pending[pending.startIndex].replies.append(reply)
        pending[pending.startIndex].remaining -= 1
        guard pending[pending.startIndex].remaining == 0 else { return }
        let done = pending.removeFirst()
        done.timer?.cancel()
        // A primary demoted by a failover answers writes with READONLY: this connection leads
        // nowhere any more (a new one asks the sentinels again).
        for case .error(let message) in done.replies where message.hasPrefix("READONLY") {
            let error = RedisError.connection(message)
            done.promise.fail(error)
            fail(error, context: context)
            return
        }
        done.promise.succeed(done.replies)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error = closedError ?? RedisError.connection("connection closed")
        closedError = error
        failPending(error)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error as? RedisError ?? RedisError.connection("\(error)"), context: context)
    }

    /// Fails every pending request and closes the connection: it cannot be trusted any more.
    private func fail(_ error: RedisError, context: ChannelHandlerContext) {
        guard closedError == nil else { return }
        closedError = error
        failPending(error)
        context.close(promise: nil)
    }

    private func failPending(_ error: RedisError) {
        while let request = pending.popFirst() {
            request.timer?.cancel()
            request.promise.fail(error)
        }
    }
}
