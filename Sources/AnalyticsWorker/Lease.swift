import AnalyticsCache
import Foundation
import Postgres
import Redis

/// A Redis lease with a fencing token. The lease is taken and its token drawn in one script
/// (`SET key token NX PX ttl`, then `INCR`), so a later holder always has a larger token;
/// renewed and released by scripts that check the holder's token.
///
/// The token is enforced where the job writes: see `JobFence`.
public struct Lease: Sendable {
    public let key: String
    public let token: String
    public let fence: Int

    static let acquireScript = """
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end
        return 0
        """
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
    /// Raises the token counter to at least ARGV[1] (after Redis lost it: a flush, a failover).
    static let raiseScript = """
        if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
        return 1
        """

    static func keys(_ name: String) -> (lease: String, fence: String) {
        (RedisKeyspace.lease(name), RedisKeyspace.fence(name))
    }

    /// Takes the lease when free; nil when another worker holds it (or it is cooling down).
    public static func acquire(_ name: String, ttl: Duration, redis: RedisClient) async throws -> Lease? {
        let (key, fenceKey) = keys(name)
        let token = UUID().uuidString
        let fence = try await redis.command("EVAL", acquireScript, "2", key, fenceKey, token, String(milliseconds(ttl))).int ?? 0
        return fence > 0 ? Lease(key: key, token: token, fence: fence) : nil
    }

    /// Extends the lease; false when it was lost (expired and taken by another worker).
    public func renew(ttl: Duration, redis: RedisClient) async throws -> Bool {
        try await redis.command("EVAL", Self.renewScript, "1", key, token, String(Self.milliseconds(ttl))).int == 1
    }

    /// Gives the lease back; with `cooldown` > 0 nobody takes it again before then.
    public func release(redis: RedisClient, cooldown: Duration = .zero) async throws {
        try await redis.command("EVAL", Self.releaseScript, "1", key, token, String(Self.milliseconds(cooldown)))
    }

    /// The token counter of `name` continues above `fence` (see `JobFence.fencedOut`).
    static func raiseFence(_ name: String, to fence: Int, redis: RedisClient) async throws {
        try await redis.command("EVAL", raiseScript, "1", keys(name).fence, String(fence))
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// A job's lease token, checked in each of the job's write transactions: the transaction
/// first raises `job_fences` to its token and is refused (rolled back) when a newer holder
/// wrote there already. A holder paused past its lease therefore cannot overwrite the work of
/// the holder after it, however late it resumes.
struct JobFence: Sendable {
    let job: WorkerJob
    let token: Int

    struct FencedOut: Error, CustomStringConvertible {
        let job: WorkerJob
        let token: Int
        let newer: Int
        var description: String { "job \(job.rawValue): lease token \(token) is older than the token \(newer) that wrote last" }
    }

    /// Call first in the write transaction; it holds the job's fence row until commit.
    func check(_ connection: PostgresConnection) throws {
        let rows = try connection.query(
            """
            INSERT INTO job_fences AS f (job, fence) VALUES ($1, $2)
            ON CONFLICT (job) DO UPDATE SET fence = excluded.fence, written_at = now() WHERE f.fence <= excluded.fence
            RETURNING fence
            """, [job.rawValue, token], prepare: true)
        guard rows.isEmpty else { return }
        let newer = try connection.query("SELECT fence FROM job_fences WHERE job = $1", [job.rawValue]).first?.decode("fence", as: Int.self)
        throw FencedOut(job: job, token: token, newer: newer ?? 0)
    }
}
