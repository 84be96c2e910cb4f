import NIOCore

/// Commands for one connection: written in order, their replies matched to them in order.
struct RedisRequest: Sendable {
    var commands: [[[UInt8]]]
    var promise: EventLoopPromise<[RedisReply]>
    var timeout: TimeAmount
}

/// The request queue of one connection. Concurrent requests are written as they come and
/// answered in order: they pipeline on the connection. A request not answered within its
/// timeout fails alone: it keeps its place in the queue, so its late reply is read and dropped
/// and every later reply still reaches its own request. Only a connection that answers nothing
/// at all for `deadAfter` after a timeout is closed (every pending request fails; the client
/// reconnects on the next call). Failing every pending request at the first slow reply would
/// turn one slow moment of Redis into dozens of failures, and open the breaker.
///
/// Replies that arrive with nothing pending (pub/sub messages) go to `onPush`.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = RedisReply
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        let id: UInt64
        var remaining: Int
        var replies: [RedisReply]
        let promise: EventLoopPromise<[RedisReply]>
        var timer: Scheduled<Void>?
        /// Timed out: its caller was answered; its replies are read and dropped.
        var abandoned = false
    }

    private var pending = CircularBuffer<Pending>(initialCapacity: 16)
    private let onPush: (@Sendable (RedisReply) -> Void)?
    private let deadAfter: TimeAmount
    private var closedError: RedisError?
    private var nextID: UInt64 = 0
    /// Replies read so far: a dead-connection check compares it with its own start.
    private var received: UInt64 = 0
    private var deadCheck: Scheduled<Void>?

    init(deadAfter: TimeAmount = .seconds(1), onPush: (@Sendable (RedisReply) -> Void)? = nil) {
        self.deadAfter = deadAfter
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
        nextID &+= 1
        let id = nextID
        let timer: Scheduled<Void>?
        if request.timeout > .zero {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            timer = context.eventLoop.assumeIsolated().scheduleTask(in: request.timeout) {
                // A busy loop runs due timers before it reads the socket again: the reply may be
                // there already. One more turn of the loop (its reads come first) before failing.
                context.eventLoop.assumeIsolated().execute {
                    let (handler, context) = loopBound.value
                    handler.timedOut(id, after: request.timeout, context: context)
                }
            }
        } else {
            timer = nil
        }
        pending.append(Pending(id: id, remaining: request.commands.count, replies: [], promise: request.promise, timer: timer))
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
        received &+= 1
        pending[pending.startIndex].replies.append(reply)
        pending[pending.startIndex].remaining -= 1
        guard pending[pending.startIndex].remaining == 0 else { return }
        let done = pending.removeFirst()
        done.timer?.cancel()
        if done.abandoned { return }
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

    /// A request's timeout: its caller gets the error now. When nothing at all is read for
    /// `deadAfter` from then, the connection is taken for dead and closed.
    private func timedOut(_ id: UInt64, after timeout: TimeAmount, context: ChannelHandlerContext) {
        guard let index = pending.firstIndex(where: { $0.id == id }), !pending[index].abandoned else { return }
        pending[index].abandoned = true
        pending[index].timer = nil
        pending[index].promise.fail(RedisError.connection("no reply within \(timeout.nanoseconds / 1_000_000) ms"))
        guard deadCheck == nil else { return }
        let seen = received
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadCheck = context.eventLoop.assumeIsolated().scheduleTask(in: deadAfter) {
            let (handler, context) = loopBound.value
            handler.deadCheck = nil
            if handler.received == seen, !handler.pending.isEmpty {
                handler.fail(RedisError.connection("no reply for \(handler.deadAfter.nanoseconds / 1_000_000) ms"), context: context)
            }
        }
    }

    /// Fails every pending request and closes the connection: it cannot be trusted any more.
    private func fail(_ error: RedisError, context: ChannelHandlerContext) {
        guard closedError == nil else { return }
        closedError = error
        failPending(error)
        context.close(promise: nil)
    }

    private func failPending(_ error: RedisError) {
        deadCheck?.cancel()
        deadCheck = nil
        while let request = pending.popFirst() {
            request.timer?.cancel()
            if !request.abandoned { request.promise.fail(error) }
        }
    }
}
