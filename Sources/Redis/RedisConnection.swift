import CHiredis
import ConnectionPool
import Foundation
import Synchronization

/// Where Redis is and how long to wait for it.
public struct RedisConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var database: Int
    public var connectTimeout: Duration
    public var commandTimeout: Duration
    /// With Sentinel: the sentinels to ask (in order) and the name of the primary they watch.
    /// Every new connection asks them where the primary is and checks that it is one
    /// (`ROLE`); `host`/`port` are then not used.
    public var sentinels: [Endpoint] = []
    public var sentinelMaster: String?

    /// The primary's name when the sentinels are to be asked (both are set).
    var sentinelPrimary: String? { sentinels.isEmpty ? nil : sentinelMaster }
    /// Set by `RedisClient` with Sentinel: bumped when the sentinels name another primary, which
    /// makes every connection made before unusable (the pool drops them).
    public var primaryWatch: RedisPrimaryWatch?

    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `host:port,host:port` (as `REDIS_SENTINELS`); nil when an entry is malformed.
        public static func list(_ text: String) -> [Endpoint]? {
            var endpoints: [Endpoint] = []
            for item in text.split(separator: ",") {
                let parts = item.trimmingCharacters(in: .whitespaces).split(separator: ":")
                guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
                endpoints.append(Endpoint(host: String(parts[0]), port: port))
            }
            return endpoints.isEmpty ? nil : endpoints
        }
    }

    public init(
        host: String = "127.0.0.1", port: Int = 6379, database: Int = 0, connectTimeout: Duration = .milliseconds(200),
        commandTimeout: Duration = .milliseconds(200)
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    /// Parses `redis://host:port/db` (port 6379 and db 0 by default).
    public init(url: String, connectTimeout: Duration = .milliseconds(200), commandTimeout: Duration = .milliseconds(200)) throws {
        guard let components = URLComponents(string: url), components.scheme == "redis", let host = components.host, !host.isEmpty else {
            throw RedisError.invalidURL(url)
        }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard path.isEmpty || Int(path) != nil else { throw RedisError.invalidURL(url) }
        self.init(
            host: host, port: components.port ?? 6379, database: Int(path) ?? 0, connectTimeout: connectTimeout,
            commandTimeout: commandTimeout)
    }
}

/// The primary's generation under Sentinel: one more each time the sentinels name another primary.
public final class RedisPrimaryWatch: Sendable {
    private let counter = Atomic<Int>(0)
    public init() {}
    public var generation: Int { counter.load(ordering: .relaxed) }
    public func bump() { counter.add(1, ordering: .relaxed) }
}

/// One hiredis connection. Not thread-safe, and unusable after an error: the pool drops it.
public final class RedisConnection: BlockingConnection, @unchecked Sendable {
    private var context: UnsafeMutablePointer<redisContext>?
    private var broken = false
    private var watch: RedisPrimaryWatch?
    private var generation = 0

    public convenience init(configuration: RedisConfiguration) throws {
        let generation = configuration.primaryWatch?.generation ?? 0
        var target = RedisConfiguration.Endpoint(host: configuration.host, port: configuration.port)
        let master = configuration.sentinelPrimary
        if let master {
            target = try Self.primary(named: master, sentinels: configuration.sentinels, configuration: configuration)
        }
        try self.init(endpoint: target, configuration: configuration)
        watch = configuration.primaryWatch
        self.generation = generation
        if master != nil {
            // A sentinel's answer may be a moment old (a failover under way): only a primary will do.
            guard case .array(let role)? = try? command(["ROLE"]), role.first?.string == "master" else {
                close()
                throw RedisError.connection("\(target.host):\(target.port) is not the primary (yet)")
            }
        }
        if configuration.database != 0 {
            _ = try command(["SELECT", String(configuration.database)])
        }
    }

    private init(endpoint: RedisConfiguration.Endpoint, configuration: RedisConfiguration) throws {
        let context = redisConnectWithTimeout(endpoint.host, Int32(endpoint.port), timeval(configuration.connectTimeout))
        guard let context else { throw RedisError.connection("out of memory") }
        self.context = context
        if context.pointee.err != 0 {
            let message = Self.errorString(context)
            redisFree(context)
            self.context = nil
            throw RedisError.connection(message)
        }
        redisSetTimeout(context, timeval(configuration.commandTimeout))
    }

    /// Asks the sentinels in turn where the primary `name` is (`SENTINEL get-master-addr-by-name`).
    static func primary(
        named name: String, sentinels: [RedisConfiguration.Endpoint], configuration: RedisConfiguration
    ) throws -> RedisConfiguration.Endpoint {
        var problems: [String] = []
        for sentinel in sentinels {
            do {
                let connection = try RedisConnection(endpoint: sentinel, configuration: configuration)
                defer { connection.close() }
                if case .array(let address) = try connection.command(["SENTINEL", "get-master-addr-by-name", name]), address.count == 2,
                    let host = address[0].string, let port = address[1].string.flatMap(Int.init)
                {
                    return RedisConfiguration.Endpoint(host: host, port: port)
                }
                problems.append("\(sentinel.host):\(sentinel.port) knows no primary \(name)")
            } catch {
                problems.append("\(sentinel.host):\(sentinel.port): \(error)")
            }
        }
        throw RedisError.connection("no sentinel named the primary: " + problems.joined(separator: "; "))
    }

    deinit { close() }

    public var isUsable: Bool { context != nil && !broken && (watch.map { $0.generation == generation } ?? true) }

    public func close() {
        if let context { redisFree(context) }
        context = nil
    }

    /// One command; an error reply is thrown as `RedisError.server`.
    public func command(_ arguments: [String]) throws -> RedisReply {
        try command(arguments.map { Array($0.utf8) })
    }

    /// One command with binary-safe arguments.
    public func command(_ arguments: [[UInt8]]) throws -> RedisReply {
        let reply = try pipeline([arguments])[0]
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    /// Sends all commands, then reads all replies (one round trip). Error replies are
    /// returned in place, not thrown; a connection failure throws.
    public func pipeline(_ commands: [[[UInt8]]]) throws -> [RedisReply] {
        guard let context, !broken else { throw RedisError.connection("connection closed") }
        RedisStatistics.commands.add(commands.count, ordering: .relaxed)
        RedisStatistics.roundTrips.add(1, ordering: .relaxed)
        for arguments in commands {
            let rc = withArgv(arguments) { argv, lengths in
                redisAppendCommandArgv(context, Int32(arguments.count), argv, lengths)
            }
            if rc != REDIS_OK { try fail() }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            if redisGetReply(context, &raw) != REDIS_OK || raw == nil { try fail() }
            let reply = raw!.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.convert(reply))
            freeReplyObject(raw)
        }
        // A primary demoted by a failover answers writes with READONLY: this connection leads
        // nowhere any more (the pool drops it; a new one asks the sentinels again).
        for case .error(let message) in replies where message.hasPrefix("READONLY") {
            broken = true
            throw RedisError.connection(message)
        }
        return replies
    }

    /// Waits for the next pushed reply (pub/sub); throws on timeout or a broken connection.
    public func readReply() throws -> RedisReply {
        guard let context, !broken else { throw RedisError.connection("connection closed") }
        var raw: UnsafeMutableRawPointer?
        if redisGetReply(context, &raw) != REDIS_OK || raw == nil { try fail() }
        defer { freeReplyObject(raw) }
        return Self.convert(raw!.assumingMemoryBound(to: redisReply.self))
    }

    private func fail() throws -> Never {
        broken = true
        let message = context.map(Self.errorString) ?? "connection closed"
        throw RedisError.connection(message)
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafePointer(to: context.pointee.errstr) { pointer in
            pointer.withMemoryRebound(to: CChar.self, capacity: 128) { String(cString: $0) }
        }
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STATUS: return .status(text(value))
        case REDIS_REPLY_ERROR: return .error(text(value))
        case REDIS_REPLY_INTEGER: return .integer(Int(value.integer))
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_STRING:
            guard let str = value.str else { return .bulk([]) }
            return .bulk(Array(UnsafeRawBufferPointer(start: str, count: Int(value.len))))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(Int(value.elements))
            for index in 0..<Int(value.elements) {
                if let element = value.element[index] { items.append(convert(element)) } else { items.append(.null) }
            }
            return .array(items)
        default: return .null
        }
    }

    private static func text(_ value: redisReply) -> String {
        guard let str = value.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: str, count: Int(value.len)), as: UTF8.self)
    }
}

private func timeval(_ duration: Duration) -> timeval {
    let (seconds, attoseconds) = duration.components
    return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
}

/// Calls `body` with argv/argvlen arrays over the arguments' bytes (binary safe).
private func withArgv<R>(_ arguments: [[UInt8]], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
    let total = arguments.reduce(0) { $0 + $1.count }
    let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(total, 1))
    defer { storage.deallocate() }
    var pointers: [UnsafePointer<CChar>?] = []
    var lengths: [Int] = []
    var offset = 0
    for argument in arguments {
        argument.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                if let base = chars.baseAddress { (storage + offset).update(from: base, count: chars.count) }
            }
        }
        pointers.append(UnsafePointer(storage + offset))
        lengths.append(argument.count)
        offset += argument.count
    }
    return pointers.withUnsafeMutableBufferPointer { argv in
        lengths.withUnsafeBufferPointer { body(argv.baseAddress!, $0.baseAddress!) }
    }
}

/// Counts of this process's Redis traffic (capacity figures: commands and round trips per request).
public enum RedisStatistics {
    /// Commands sent by every connection of the process (a pipeline counts each of its commands).
    public static let commands = Atomic<Int>(0)
    /// Round trips: one per pipeline (a single command is a pipeline of one).
    public static let roundTrips = Atomic<Int>(0)
}
