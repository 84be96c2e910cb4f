import Foundation
import Redis
import TestSupport
import Testing

@Suite("Redis client (hiredis) against the real server", .serialized)
struct RedisClientTests {
    @Test func commandsAndBinarySafeValues() async throws {
        let redis = try TestEnvironment.redis()
        defer { redis.shutdown() }
        let key = "test:\(UUID().uuidString)"
        let value: [UInt8] = [0, 1, 2, 255, 10, 13, 0]
        #expect(try await redis.command(bytes: [Array("SET".utf8), Array(key.utf8), value]) == .status("OK"))
        #expect(try await redis.command("GET", key).bytes == value)
        #expect(try await redis.command("INCR", key + ":n") == .integer(1))
        #expect(try await redis.command("GET", key + ":missing") == .null)
        #expect(try await redis.command("DEL", key, key + ":n") == .integer(2))
    }

    @Test func pipelineReturnsRepliesInOrderWithErrorsInPlace() async throws {
        let redis = try TestEnvironment.redis()
        defer { redis.shutdown() }
        let key = "test:\(UUID().uuidString)"
        let replies = try await redis.pipeline([["SET", key, "a"], ["LPUSH", key, "x"], ["APPEND", key, "b"], ["GET", key], ["DEL", key]])
        #expect(replies.count == 5)
        #expect(replies[0] == .status("OK"))
        guard case .error(let message) = replies[1] else {
            Issue.record("expected WRONGTYPE")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        #expect(replies[2] == .integer(2))
        #expect(replies[3].string == "ab")
    }

    @Test func errorRepliesAreThrownTyped() async throws {
        let redis = try TestEnvironment.redis()
        defer { redis.shutdown() }
        await #expect(throws: RedisError.self) { try await redis.command("NOSUCHCOMMAND") }
        #expect(try await redis.command("PING") == .status("PONG"))
    }

    @Test func commandTimeoutBreaksOnlyThatConnection() async throws {
        let slow = RedisClient(
            configuration: try RedisConfiguration(url: TestEnvironment.redisURL, commandTimeout: .milliseconds(100)),
            pool: .init(maxConnections: 1), threadPool: TestEnvironment.threadPool)
        defer { slow.shutdown() }
        let start = ContinuousClock.now
        await #expect(throws: RedisError.self) { try await slow.command("DEBUG", "SLEEP", "0.5") }
        #expect(ContinuousClock.now - start < .milliseconds(450))
        try await Task.sleep(for: .milliseconds(500))
        // The broken connection was dropped; the next call reconnects.
        #expect(try await slow.command("PING") == .status("PONG"))
    }

    @Test func urlParsing() throws {
        let config = try RedisConfiguration(url: "redis://10.1.2.3:7000/4")
        #expect(config.host == "10.1.2.3")
        #expect(config.port == 7000)
        #expect(config.database == 4)
        #expect(try RedisConfiguration(url: "redis://localhost").port == 6379)
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "http://x:1/0") }
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://x:1/abc") }
    }

    @Test func reconnectsAfterServerRestart() async throws {
        let redis = try TestEnvironment.redis()
        defer { redis.shutdown() }
        #expect(try await redis.command("PING") == .status("PONG"))
        try TestEnvironment.svc("redis", "restart")
        // The first call may fail on the dead connection; the pool then reconnects.
        _ = try? await redis.command("PING")
        #expect(try await redis.command("PING") == .status("PONG"))
    }

    @Test func oneBrokenConnectionDropsTheOtherIdleOnesOfARestart() async throws {
        let redis = try TestEnvironment.redis()  // four connections
        defer { redis.shutdown() }
        // Four connections open at once (each blocked for 100 ms), then idle in the pool.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<4 { group.addTask { try await redis.command("BLPOP", "no-such-list-\(index)", "0.1") } }
            try await group.waitForAll()
        }
        #expect(redis.pool.stats.idle == 4)
        try TestEnvironment.svc("redis", "restart")
        // At most the first call fails on a dead connection; the next ones use new connections.
        _ = try? await redis.command("PING")
        for _ in 0..<3 { #expect(try await redis.command("PING") == .status("PONG")) }
    }
}
