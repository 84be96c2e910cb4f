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
    /// Deletes the lease, or (with a cooldown) turns it into a marker that keeps every
    /// worker from taking it again until the job's interval has passed.
    static let releaseScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        if tonumber(ARGV[2]) > 0 then return redis.call('SET', KEYS[1], 'cooldown:' .. ARGV[1], 'PX', ARGV[2]) end
        return redis.call('DEL', KEYS[1])
        """

    /// Takes the lease when free; nil when another worker holds it (or it is cooling down).
    public static func acquire(_ name: String, ttl: Duration, redis: RedisClient) async throws -> Lease? {
        let key = "analytics:v1:lease:\(name)"
        let token = UUID().uuidString
        let reply = try await redis.command("SET", key, token, "NX", "PX", String(milliseconds(ttl)))
        guard reply == .status("OK") else { return nil }
        // The fencing number grows with every acquisition.
        let fence = try await redis.command("INCR", "analytics:v1:fence:\(name)").int ?? 0
        return Lease(key: key, token: token, fence: fence)
    }

    /// Extends the lease; false when it was lost (expired and taken by another worker).
    public func renew(ttl: Duration, redis: RedisClient) async throws -> Bool {
        try await redis.command("EVAL", Self.renewScript, "1", key, token, String(Self.milliseconds(ttl))).int == 1
    }

    /// Gives the lease back; with `cooldown` > 0 nobody takes it again before then.
    public func release(redis: RedisClient, cooldown: Duration = .zero) async throws {
        try await redis.command("EVAL", Self.releaseScript, "1", key, token, String(Self.milliseconds(cooldown)))
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
