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

/// One hiredis connection. Not thread-safe, and unusable after an error: the pool drops it.
public final class RedisConnection: BlockingConnection, @unchecked Sendable {
    private var context: UnsafeMutablePointer<redisContext>?
    private var broken = false

    public init(configuration: RedisConfiguration) throws {
        let context = redisConnectWithTimeout(configuration.host, Int32(configuration.port), timeval(configuration.connectTimeout))
        guard let context else { throw RedisError.connection("out of memory") }
        self.context = context
        if context.pointee.err != 0 {
            let message = Self.errorString(context)
            redisFree(context)
            self.context = nil
            throw RedisError.connection(message)
        }
        redisSetTimeout(context, timeval(configuration.commandTimeout))
        if configuration.database != 0 {
            _ = try command(["SELECT", String(configuration.database)])
        }
    }

    deinit { close() }

    public var isUsable: Bool { context != nil && !broken }

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
