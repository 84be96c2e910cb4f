import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import NIOCore
import NIOHTTPTypes
import Synchronization

/// What one client connection may hold, so slow or idle clients cannot take the server down
/// (`HTTP_IDLE_TIMEOUT_S`, `HTTP_BODY_TIMEOUT_S`, `HTTP_MAX_CONNECTIONS`).
public struct ConnectionLimits: Sendable {
    /// A connection must deliver a complete request head within this of opening or of its
    /// previous response (covers keep-alive idling and a half-sent request line).
    public var idleTimeout: Duration = .seconds(30)
    /// A request body must arrive completely within this of its head.
    public var bodyTimeout: Duration = .seconds(30)
    /// Open connections; the one beyond is closed at once. Also bounded by the open-file limit.
    public var maxConnections = 10_000
    /// Open connections of one client address (an IPv6 one by its /64), except from the
    /// exempt blocks and the trusted proxies (`HTTP_MAX_CONNECTIONS_PER_CLIENT`): one address
    /// cannot take every connection. A browser opens 6; an HTTP/1 crawler a few.
    public var maxPerClient = 64
    /// Addresses the per-client cap does not apply to (`RATE_LIMIT_EXEMPT`, `TRUSTED_PROXIES`).
    var exempt: AddressRanges = .loopback

    public init() {}
}

/// The HTTP/1 server with the connection limits applied.
enum GuardedHTTPServer {
    static func builder(_ limits: ConnectionLimits, logger: Logger) -> HTTPServerBuilder {
        let files = FileLimit.raiseToHard()
        // File descriptors are also needed for Postgres, Redis and the process itself.
        let allowed = max(16, min(limits.maxConnections, files - 256))
        if allowed < limits.maxConnections {
            logger.notice("connection limit lowered to fit the open-file limit", metadata: ["limit": "\(allowed)", "files": "\(files)"])
        }
        let counter = ConnectionCounter(limit: allowed, perClient: limits.maxPerClient, exempt: limits.exempt)
        let bodyTimeout = TimeAmount(limits.bodyTimeout)
        return .http1(
            configuration: .init(
                additionalChannelHandlers: [ConnectionLimitHandler(counter: counter), BodyTimeoutHandler(timeout: bodyTimeout)],
                idleTimeout: TimeAmount(limits.idleTimeout)))
    }
}

/// The open connections of the server, in all and per client address.
final class ConnectionCounter: Sendable {
    let limit: Int
    let perClient: Int
    let exempt: AddressRanges
    private let open = Atomic<Int>(0)
    /// Open connections per counted client; a client leaves the table with its last connection.
    private let clients = Mutex<[String: Int]>([:])
    private let gauge = Gauge(label: "prpm_http_connections")
    private let refused = Counter(label: "prpm_http_connections_refused_total", dimensions: [("reason", "limit")])
    private let refusedPerClient = Counter(label: "prpm_http_connections_refused_total", dimensions: [("reason", "per_client")])

    init(limit: Int, perClient: Int = .max, exempt: AddressRanges = .loopback) {
        self.limit = limit
        self.perClient = perClient
        self.exempt = exempt
    }

    /// The key `peer` is counted under, or nil when it is not capped.
    func client(_ peer: SocketAddress?) -> String? {
        perClient < .max ? CountedClients.key(peer, exempt: exempt) : nil
    }

    /// Counts a new connection of `client` (from `client(_:)`); false (and not counted) when
    /// a limit is reached.
    func admit(client: String? = nil) -> Bool {
        let now = open.add(1, ordering: .relaxed).newValue
        guard now <= limit else {
            open.subtract(1, ordering: .relaxed)
            refused.increment()
            return false
        }
        if let client {
            let admitted = clients.withLock { table in
                let count = table[client, default: 0]
                guard count < perClient else { return false }
                table[client] = count + 1
                return true
            }
            guard admitted else {
                open.subtract(1, ordering: .relaxed)
                refusedPerClient.increment()
                return false
            }
        }
        gauge.record(now)
        return true
    }

    func leave(client: String? = nil) {
        if let client {
            clients.withLock { table in
                let count = (table[client] ?? 1) - 1
                table[client] = count > 0 ? count : nil
            }
        }
        gauge.record(open.subtract(1, ordering: .relaxed).newValue)
    }

    /// Clients with open connections (for tests and metrics).
    var clientsOpen: Int { clients.withLock { $0.count } }
}

/// Closes a connection beyond the limit as soon as it is accepted.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let counter: ConnectionCounter
    private var counted = false
    private var client: String?

    init(counter: ConnectionCounter) { self.counter = counter }

    func handlerAdded(context: ChannelHandlerContext) {
        let client = counter.client(context.channel.remoteAddress)
        if counter.admit(client: client) {
            counted = true
            self.client = client
        } else {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if counted { counter.leave(client: client) }
        counted = false
    }
}

/// Closes a connection whose request body does not arrive completely within the timeout of
/// its head (a client trickling a byte every few seconds would otherwise hold its handler).
final class BodyTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            timer?.cancel()
            let channel = context.channel
            timer = context.eventLoop.scheduleTask(in: timeout) {
                Counter(label: "prpm_http_body_timeouts_total").increment()
                channel.close(promise: nil)
            }
        case .end:
            timer?.cancel()
            timer = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }
}

/// The process's open-file limit.
enum FileLimit {
    /// Raises the soft limit to the hard one (many systems default to 1,024 soft); returns
    /// the soft limit in force.
    @discardableResult
    static func raiseToHard() -> Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    #if canImport(Glibc)
        private static let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
    #endif
}
