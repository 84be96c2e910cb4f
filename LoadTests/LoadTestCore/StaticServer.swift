import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny in-process HTTP/1.1 server (SwiftNIO) for tests and for comparing the engine with wrk.
/// Routes: `/status/NNN` answers NNN; `/cached…` answers 200 with `X-Cache: HIT`; `/slow/MS` answers after MS ms;
/// `/close` answers with `Connection: close`; `/metrics` serves `prpm_http_requests_total`; anything else `200 ok`.
public final class StaticHTTPServer: Sendable {
    public let port: Int
    let channel: any Channel
    let group: MultiThreadedEventLoopGroup
    let counter: RequestCounter

    final class RequestCounter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Requests received, excluding `/metrics`.
    public var requestCount: Int { counter.value.load(ordering: .relaxed) }

    public static func start(host: String = "127.0.0.1", port: Int = 0, threads: Int = 1) async throws -> StaticHTTPServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let counter = RequestCounter()
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(StaticHandler(counter: counter))
                    }
                }
                .bind(host: host, port: port)
                .get()
            return StaticHTTPServer(port: channel.localAddress?.port ?? port, channel: channel, group: group, counter: counter)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    init(port: Int, channel: any Channel, group: MultiThreadedEventLoopGroup, counter: RequestCounter) {
        self.port = port
        self.channel = channel
        self.group = group
        self.counter = counter
    }

    public func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// Waits until the server is closed (for the `serve-static` command).
    public func wait() async throws {
        try await channel.closeFuture.get()
    }

    final class StaticHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let counter: RequestCounter
        var uri = ""
        var keepAlive = true
        let okBody: ByteBuffer

        init(counter: RequestCounter) {
            self.counter = counter
            okBody = ByteBuffer(string: "ok")
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                uri = head.uri
                keepAlive = head.isKeepAlive
                if uri != "/metrics" { counter.value.add(1, ordering: .relaxed) }
            case .body:
                break
            case .end:
                respond(context: context)
            }
        }

        func respond(context: ChannelHandlerContext) {
            var status = HTTPResponseStatus.ok
            var headers = HTTPHeaders()
            var body = okBody
            var close = !keepAlive
            var delayMs: Int64 = 0
            if uri.hasPrefix("/status/"), let code = Int(uri.dropFirst("/status/".count).prefix(3)) {
                status = HTTPResponseStatus(statusCode: code)
            } else if uri.hasPrefix("/cached") {
                headers.add(name: "X-Cache", value: "HIT")
            } else if uri.hasPrefix("/slow/"), let ms = Int64(uri.dropFirst("/slow/".count)) {
                delayMs = ms
            } else if uri == "/close" {
                close = true
            } else if uri == "/metrics" {
                let count = counter.value.load(ordering: .relaxed)
                body = ByteBuffer(
                    string: """
                        # TYPE prpm_http_requests_total counter
                        prpm_http_requests_total{route="static",method="GET",status="200"} \(count)

                        """
                )
            }
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            if close { headers.add(name: "Connection", value: "close") }
            let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
            if delayMs > 0 {
                let (body, close) = (body, close)
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(delayMs)) {
                    let (handler, context) = bound.value
                    handler.write(context: context, head: head, body: body, close: close)
                }
            } else {
                write(context: context, head: head, body: body, close: close)
            }
        }

        func write(context: ChannelHandlerContext, head: HTTPResponseHead, body: ByteBuffer, close: Bool) {
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            if close {
                context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            } else {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
