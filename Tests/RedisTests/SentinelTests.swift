import Foundation
import TestSupport
import Testing

@testable import Redis

/// Issue 14 item 2: through Sentinel the client finds the primary and follows a failover.
/// (`Scripts/svc sentinel start`: a primary and a replica of their own, 3 Sentinels.)
@Suite("Redis through Sentinel", .serialized)
struct SentinelTests {
    static var redisPort: Int { Int(ProcessInfo.processInfo.environment["PRPM_REDIS_PORT"] ?? "") ?? 63799 }

    static func client() throws -> RedisClient {
        var configuration = try RedisConfiguration(
            url: "redis://127.0.0.1:1/0", connectTimeout: .milliseconds(1000), commandTimeout: .milliseconds(2000))
        configuration.sentinels = (20...22).map { RedisConfiguration.Endpoint(host: "127.0.0.1", port: redisPort + $0) }
        configuration.sentinelMaster = "prpm"
        return RedisClient(configuration: configuration)
    }

    @Test func sentinelListsAreParsedStrictly() {
        #expect(RedisConfiguration.Endpoint.list("a:1, b:26379") == [.init(host: "a", port: 1), .init(host: "b", port: 26379)])
        for bad in ["", "a", "a:", ":1", "a:0", "a:70000", "a:1,b"] { #expect(RedisConfiguration.Endpoint.list(bad) == nil, "\(bad)") }
    }

    @Test func switchAnnouncementsAreReadForTheirPrimaryOnly() {
        func message(_ payload: String, channel: String = "+switch-master") -> RedisReply {
            .array([.bulk(Array("message".utf8)), .bulk(Array(channel.utf8)), .bulk(Array(payload.utf8))])
        }
        #expect(SentinelPrimary.announcedPrimary(message("prpm 10.0.0.1 6379 10.0.0.2 6380"), master: "prpm") == .init(host: "10.0.0.2", port: 6380))
        #expect(SentinelPrimary.announcedPrimary(message("other 10.0.0.1 6379 10.0.0.2 6380"), master: "prpm") == nil)
        #expect(SentinelPrimary.announcedPrimary(message("prpm 10.0.0.1 6379 10.0.0.2 x"), master: "prpm") == nil)
        #expect(SentinelPrimary.announcedPrimary(message("prpm 10.0.0.1 6379 10.0.0.2 6380", channel: "+sdown"), master: "prpm") == nil)
        #expect(
            SentinelPrimary.announcedPrimary(
                .array([.bulk(Array("subscribe".utf8)), .bulk(Array("+switch-master".utf8)), .integer(1)]), master: "prpm") == nil)
    }

    @Test func theClientFindsThePrimaryAndFollowsAFailover() async throws {
        try TestEnvironment.svc("sentinel", "start")
        defer { try? TestEnvironment.svc("sentinel", "stop") }
        let redis = try Self.client()
        defer { redis.shutdown() }
        // The configured host and port (nothing listens there) are not used: the sentinels name the primary.
        let first = try await redis.command("CONFIG", "GET", "port").array?.last?.string
        #expect(first == String(Self.redisPort + 10))
        #expect(try await redis.command("SET", "sentinel:before", "kept") == .status("OK"))
        // Replicated before the failover (replication is asynchronous: without WAIT it could be lost).
        #expect(try await redis.command("WAIT", "1", "1000").int == 1)

        try TestEnvironment.svc("sentinel", "failover")
        // For the moment it takes, calls may fail (the cache answers BYPASS) or still reach the old
        // primary until it is demoted (such writes are lost: replication is asynchronous); within
        // the watcher's poll the client is on the new primary.
        let newPort = String(Self.redisPort + 11)
        try await TestEnvironment.eventually("calls reach the new primary", timeout: .seconds(15)) {
            (try? await redis.command("CONFIG", "GET", "port"))?.array?.last?.string == newPort
        }
        #expect(try await redis.command("SET", "sentinel:after", "new") == .status("OK"))
        let kept = try await redis.command("GET", "sentinel:before")
        #expect(kept == .bulk(Array("kept".utf8)), "\(kept)")
        // Every pooled connection leads to the primary now: none answers READONLY.
        for _ in 0..<8 { #expect(try await redis.command("INCR", "sentinel:count").int != nil) }
    }
}
