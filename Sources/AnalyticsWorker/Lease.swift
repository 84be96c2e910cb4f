import Foundation
import Redis

/// A Redis lease with a fencing token: `SET key token NX PX ttl` to take it, renewed by a
/// script that checks the token, released by a script that checks the token. The fencing
/// number (INCR) increases with every acquisition, so a stale holder can be told apart.
public struct Lease: Sendable {
    public let key: String
    public let token: String
    public let fence: Int

    static let renewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end
        """
    static let releaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end
        """

    /// Takes the lease when free; nil when another worker holds it.
    public static func acquire(_ name: String, ttl: Duration, redis: RedisClient) async throws -> Lease? {
        let key = "analytics:v1:lease:\(name)"
        let fence = try await redis.command("INCR", "analytics:v1:fence:\(name)").int ?? 0
        let token = "\(fence):\(UUID().uuidString)"
        let reply = try await redis.command("SET", key, token, "NX", "PX", String(milliseconds(ttl)))
        guard reply == .status("OK") else { return nil }
        return Lease(key: key, token: token, fence: fence)
    }

    /// Extends the lease; false when it was lost (expired and taken by another worker).
    public func renew(ttl: Duration, redis: RedisClient) async throws -> Bool {
        try await redis.command("EVAL", Self.renewScript, "1", key, token, String(Self.milliseconds(ttl))).int == 1
    }

    public func release(redis: RedisClient) async throws {
        try await redis.command("EVAL", Self.releaseScript, "1", key, token)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
