import NIOCore
import NIOPosix

/// Monotonic nanoseconds (the clock of every timestamp in the engine).
@inline(__always)
public func monotonicNanos() -> UInt64 {
    NIODeadline.now().uptimeNanoseconds
}

/// What a phase sends, built on the shard's thread.
public enum GeneratorSpec: Sendable {
    case fixed(path: String, scenario: Scenario)
    case mix(MixPlan, seed: UInt64)
    /// Every package page and a badge of each, in turn (each shard from its own offset).
    case prime(MixPlan)

    func make(hostHeader: String, shardIndex: Int) -> RequestGenerator {
        switch self {
        case .fixed(let path, let scenario): RequestGenerator.fixed(path: path, hostHeader: hostHeader, scenario: scenario)
        case .mix(let plan, let seed): RequestGenerator.mix(plan, seed: seed &+ UInt64(shardIndex) &* 0x9E37_79B9)
        case .prime(let plan): RequestGenerator.sweep(plan.primingRequests(), offset: shardIndex * 7919)
        }
    }
}

/// The load generator: `threads` event loops, each running one shard with its share of the keep-alive connections.
public final class LoadEngine: Sendable {
    public let target: Target
    public let connections: Int
    public let runStartNs: UInt64
    let group: MultiThreadedEventLoopGroup
    let shards: [NIOShard]

    public init(target: Target, connections: Int, threads: Int, timeoutSeconds: Double, runStartNs: UInt64) throws {
        precondition(connections > 0 && threads > 0)
        self.target = target
        self.connections = connections
        self.runStartNs = runStartNs
        let threads = min(threads, connections)
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let address = try SocketAddress.makeAddressResolvingHost(target.host, port: target.port)
        var loops = group.makeIterator()
        var shards: [NIOShard] = []
        for index in 0..<threads {
            let count = connections / threads + (index < connections % threads ? 1 : 0)
            shards.append(
                NIOShard(
                    loop: loops.next()!, address: address, hostHeader: target.hostHeader, connections: count,
                    timeoutNs: UInt64(timeoutSeconds * 1e9), runStartNs: runStartNs
                )
            )
        }
        self.shards = shards
    }

    /// Opens all connections; returns how many succeeded.
    public func connect() async throws -> Int {
        var total = 0
        for shard in shards { total += try await shard.connectAll().get() }
        return total
    }

    /// Runs one phase on all shards (start aligned to `startNs`) and returns the merged recorder after the drain.
    public func run(mode: LoadMode, startNs: UInt64, durationNs: UInt64, maxRequests: Int, generator: GeneratorSpec) async throws
        -> PhaseRecorder
    {
        let count = shards.count
        let futures = shards.enumerated().map { index, shard in
            let phase = ShardPhase(
                mode: mode, startNs: startNs, durationNs: durationNs, maxRequests: max(1, maxRequests / count), shardIndex: index,
                shardCount: count
            )
            return shard.run(phase, generator: generator)
        }
        var merged: PhaseRecorder?
        for future in futures {
            let recorder = try await future.get()
            if merged == nil { merged = recorder } else { merged!.merge(recorder) }
        }
        return merged!
    }

    /// Removes and merges the per-second buckets of seconds before `second`.
    public func takeSeconds(before second: Int) async throws -> [SecondBucket] {
        var merged: [Int: SecondBucket] = [:]
        for shard in shards {
            for bucket in try await shard.takeSeconds(before: second).get() {
                if merged[bucket.second] == nil { merged[bucket.second] = bucket } else { merged[bucket.second]!.merge(bucket) }
            }
        }
        return merged.values.sorted { $0.second < $1.second }
    }

    /// Requests written over the whole run, connections currently up.
    public func counters() async throws -> (sent: Int, connected: Int, inflight: Int) {
        var sent = 0, connected = 0, inflight = 0
        for shard in shards {
            let c = try await shard.loop.submit { (shard.core.sentTotal, shard.core.connectedCount, shard.core.inflightCount) }.get()
            sent += c.0
            connected += c.1
            inflight += c.2
        }
        return (sent, connected, inflight)
    }

    var eventLoopGroup: MultiThreadedEventLoopGroup { group }

    public func shutdown() async {
        for shard in shards { try? await shard.close().get() }
        try? await group.shutdownGracefully()
    }
}

/// One event loop's share: NIO channels driven by a `ShardCore`. Every member is touched on `loop` only.
final class NIOShard: LoadTransport, NIOScheduledCallbackHandler, @unchecked Sendable {
    let loop: any EventLoop
    let address: SocketAddress
    let hostHeader: String
    private(set) var core: ShardCore<NIOShard>!
    var handlers: [ConnectionHandler?]
    var generations: [Int]
    var backoffMs: [Int64]
    var closing = false
    var scheduled: NIOScheduledCallback?
    var scheduledAt = UInt64.max
    var pendingConnects = 0
    var awaitingFirst: [Bool]
    var connectPromise: EventLoopPromise<Int>?

    init(loop: any EventLoop, address: SocketAddress, hostHeader: String, connections: Int, timeoutNs: UInt64, runStartNs: UInt64) {
        self.loop = loop
        self.address = address
        self.hostHeader = hostHeader
        handlers = [ConnectionHandler?](repeating: nil, count: connections)
        generations = [Int](repeating: 0, count: connections)
        backoffMs = [Int64](repeating: 0, count: connections)
        awaitingFirst = [Bool](repeating: false, count: connections)
        core = ShardCore(
            connections: connections, transport: self, generator: RequestGenerator.fixed(path: "/", hostHeader: hostHeader),
            timeoutNs: timeoutNs, runStartNs: runStartNs
        )
    }

    func connectAll() -> EventLoopFuture<Int> {
        loop.flatSubmit {
            let promise = self.loop.makePromise(of: Int.self)
            self.connectPromise = promise
            self.pendingConnects = self.handlers.count
            for connection in 0..<self.handlers.count { self.awaitingFirst[connection] = true }
            for connection in 0..<self.handlers.count { self.connect(connection) }
            return promise.futureResult
        }
    }

    func connect(_ connection: Int) {
        guard !closing else { return }
        generations[connection] += 1
        let generation = generations[connection]
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(3))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ConnectionHandler(shard: self, connection: connection, generation: generation)
                    )
                }
            }
            .connect(to: address)
            .whenComplete { result in
                if case .failure = result { self.connectFailed(connection, generation: generation) }
            }
    }

    private func attemptDone(_ connection: Int) {
        guard connectPromise != nil, awaitingFirst[connection] else { return }
        awaitingFirst[connection] = false
        pendingConnects -= 1
        if pendingConnects == 0 {
            connectPromise?.succeed(core.connectedCount)
            connectPromise = nil
        }
    }

    func connectFailed(_ connection: Int, generation: Int) {
        guard generation == generations[connection] else { return }
        attemptDone(connection)
        core.connectFailed(connection, now: monotonicNanos())
        backoffMs[connection] = min(max(20, backoffMs[connection] * 2), 1000)
        scheduleReconnect(connection)
        reschedule()
    }

    func scheduleReconnect(_ connection: Int) {
        guard !closing else { return }
        let delay = backoffMs[connection]
        if delay == 0 {
            loop.execute { self.connect(connection) }
        } else {
            loop.scheduleTask(in: .milliseconds(delay)) { self.connect(connection) }
        }
    }

    // MARK: events from ConnectionHandler

    func active(_ handler: ConnectionHandler) {
        guard handler.generation == generations[handler.connection] else { return }
        handlers[handler.connection] = handler
        backoffMs[handler.connection] = 0
        core.connectionEstablished(handler.connection, now: monotonicNanos())
        attemptDone(handler.connection)
        reschedule()
    }

    /// The handler closes the channel itself when `keepAlive` is false (after it finished parsing).
    @inline(__always)
    func responded(_ handler: ConnectionHandler, status: Int, cache: CacheResult, keepAlive: Bool) {
        guard handler.generation == generations[handler.connection] else { return }
        core.complete(connection: handler.connection, status: status, cache: cache, keepAlive: keepAlive, now: monotonicNanos())
        reschedule()
    }

    func inactive(_ handler: ConnectionHandler) {
        guard handler.generation == generations[handler.connection] else { return }
        handlers[handler.connection] = nil
        core.connectionLost(handler.connection, now: monotonicNanos())
        // Invalidate so late events of this channel are ignored, then reconnect.
        generations[handler.connection] += 1
        scheduleReconnect(handler.connection)
        reschedule()
    }

    // MARK: LoadTransport

    @inline(__always)
    func send(_ request: PreparedRequest, on connection: Int, intendedNs: UInt64) {
        handlers[connection]?.write(request.bytes)
    }

    func abort(connection: Int) {
        let handler = handlers[connection]
        handlers[connection] = nil
        generations[connection] += 1
        handler?.close()
        scheduleReconnect(connection)
    }

    // MARK: timer

    func handleScheduledCallback(eventLoop: some EventLoop) {
        scheduled = nil
        scheduledAt = .max
        if let wake = core.tick(now: monotonicNanos()) { schedule(at: wake) }
    }

    @inline(__always)
    func reschedule() {
        guard let wake = core.nextWake(now: 0), wake < scheduledAt else { return }
        schedule(at: wake)
    }

    func schedule(at wake: UInt64) {
        if let scheduled { scheduled.cancel() }
        scheduledAt = wake
        scheduled = try? loop.assumeIsolated().scheduleCallback(at: NIODeadline.uptimeNanoseconds(wake), handler: self)
    }

    // MARK: phases

    func run(_ phase: ShardPhase, generator: GeneratorSpec) -> EventLoopFuture<PhaseRecorder> {
        loop.flatSubmit {
            let promise = self.loop.makePromise(of: PhaseRecorder.self)
            self.core.generator = generator.make(hostHeader: self.hostHeader, shardIndex: phase.shardIndex)
            self.core.begin(phase, now: monotonicNanos()) { recorder in promise.succeed(recorder) }
            self.reschedule()
            return promise.futureResult
        }
    }

    func takeSeconds(before second: Int) -> EventLoopFuture<[SecondBucket]> {
        loop.submit { self.core.timeline.take(before: second) }
    }

    func close() -> EventLoopFuture<Void> {
        loop.submit {
            self.closing = true
            self.scheduled?.cancel()
            self.scheduled = nil
            for index in 0..<self.handlers.count {
                self.generations[index] += 1
                self.handlers[index]?.close()
                self.handlers[index] = nil
            }
        }
    }
}

/// Per-connection channel handler: writes prepared request bytes, parses responses.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    unowned let shard: NIOShard
    let connection: Int
    let generation: Int
    var context: ChannelHandlerContext?
    var parser = HTTPResponseParser()
    var closed = false
    var inFeed = false

    init(shard: NIOShard, connection: Int, generation: Int) {
        self.shard = shard
        self.connection = connection
        self.generation = generation
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        shard.active(self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        var close = false
        // A close inside `feed` (e.g. a failed write of the next request) must not re-enter the parser.
        inFeed = true
        defer { inFeed = false }
        do {
            try parser.feed(buffer) { response in
                if close { return }  // bytes after a `Connection: close` response are ignored
                shard.responded(self, status: response.status, cache: response.cache, keepAlive: response.keepAlive)
                if !response.keepAlive { close = true }
            }
        } catch {
            close = true
        }
        if close {
            closed = true
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closed && !inFeed {
            parser.finishAtEOF { response in
                shard.responded(self, status: response.status, cache: response.cache, keepAlive: false)
            }
        }
        self.context = nil
        shard.inactive(self)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    @inline(__always)
    func write(_ bytes: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    func close() {
        closed = true
        context?.close(promise: nil)
    }
}
