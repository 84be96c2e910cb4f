import Foundation
import NIOCore
import Redis
import TestSupport
import Testing

@Suite("Redis client (SwiftNIO) against the real server", .serialized)
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
        let slow = RedisClient(configuration: try RedisConfiguration(url: TestEnvironment.redisURL, commandTimeout: .milliseconds(100)))
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

    /// The blocking client failed a call on every pooled connection a restart had broken; a NIO
    /// connection learns of the close when it happens, so no call after the restart fails.
    @Test func noCallFailsAfterAServerRestart() async throws {
        let redis = try TestEnvironment.redis()
        defer { redis.shutdown() }
        // A connection on every event loop.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 { group.addTask { try await redis.command("PING") } }
            try await group.waitForAll()
        }
        let before = redis.openConnections
        #expect(before >= 1)
        try TestEnvironment.svc("redis", "restart")
        try await TestEnvironment.eventually("the client saw its connections close", timeout: .seconds(5)) { redis.openConnections == 0 }
        for _ in 0..<8 { #expect(try await redis.command("PING") == .status("PONG")) }
    }

    @Test func concurrentCommandsPipelineOnOneConnectionPerEventLoop() async throws {
        let redis = try TestEnvironment.redis()
        defer { redis.shutdown() }
        let key = "test:pipelined:\(UUID().uuidString)"
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<500 { group.addTask { try await redis.command("INCR", key).int ?? -1 } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        // Every command ran once, each reply went to its own caller.
        #expect(counts.sorted() == Array(1...500))
        // However many callers, the client holds one connection per event loop of the group.
        #expect(redis.openConnections <= System.coreCount)
        _ = try await redis.command("DEL", key)
    }

    @Test func aBlackHoledCallTimesOutAndTheNextConnectsAgain() async throws {
        let redis = try TestEnvironment.redis()
        defer { redis.shutdown() }
        #expect(try await redis.command("PING") == .status("PONG"))
        // Redis stopped (SIGSTOP): connected but silent. The command timeout (200 ms) answers.
        try TestEnvironment.svc("redis", "pause")
        let start = ContinuousClock.now
        await #expect(throws: RedisError.self) { try await redis.command("PING") }
        #expect(ContinuousClock.now - start < .seconds(2))
        try TestEnvironment.svc("redis", "resume")
        try await TestEnvironment.eventually("calls succeed again", timeout: .seconds(5)) {
            (try? await redis.command("PING")) == .status("PONG")
        }
    }
}
