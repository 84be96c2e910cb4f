/// A RESP2 reply.
public enum RedisReply: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int)
    case bulk([UInt8])
    case null
    case array([RedisReply])

    public var string: String? {
        switch self {
        case .status(let text): return text
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .integer(let value): return String(value)
        default: return nil
        }
    }

    public var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { return bytes }
        return string.map { Array($0.utf8) }
    }

    public var int: Int? {
        switch self {
        case .integer(let value): return value
        case .bulk, .status: return string.flatMap { Int($0) }
        default: return nil
        }
    }

    public var array: [RedisReply]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public var isNull: Bool { self == .null }
}

/// Typed errors of the Redis client.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Could not connect, the connection broke, or a command timed out.
    case connection(String)
    /// The server answered with an error reply (`-ERR …`).
    case server(String)
    /// The reply did not have the expected shape.
    case unexpectedReply(String)
    /// The URL is not `redis://host:port/db`.
    case invalidURL(String)

    public var description: String {
        switch self {
        case .connection(let message): return "redis connection error: \(message)"
        case .server(let message): return "redis error: \(message)"
        case .unexpectedReply(let message): return "unexpected redis reply: \(message)"
        case .invalidURL(let url): return "invalid redis url: \(url)"
        }
    }
}
