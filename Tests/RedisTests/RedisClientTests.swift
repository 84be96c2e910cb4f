import Foundation
import NIOCore
import NIOPosix
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

    /// A slow reply fails only its own call: the connection stays, the late reply is dropped, and
    /// the next call on the same connection gets its own reply (not the late one). Failing every
    /// pending call at the first timeout opened the breaker under load (issue 25 measurements).
    @Test func aTimeoutFailsOnlyItsOwnCallAndTheConnectionStays() async throws {
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)  // one connection for every call
        let slow = RedisClient(
            configuration: try RedisConfiguration(url: TestEnvironment.redisURL, commandTimeout: .milliseconds(300)), eventLoopGroup: loop)
        var failure: (any Error)?
        do {
            #expect(try await slow.command("PING") == .status("PONG"))
            // BLPOP on an empty list answers after 0.4 s: a slow reply on this connection alone, and
            // Redis answers the connection's next commands only after it. A call sent while it
            // waits, on the same connection: the slow one's timeout (at 300 ms) must not fail it.
            let queued = Task {
                try await Task.sleep(for: .milliseconds(200))
                return try await slow.command("ECHO", "queued")
            }
            // The timeout's error, not BLPOP's empty reply (which comes at 400 ms).
            await #expect(throws: RedisError.connection("no reply within 300 ms")) {
                try await slow.command("BLPOP", "test:empty:\(UUID().uuidString)", "0.4")
            }
            #expect(try await queued.value == .bulk(Array("queued".utf8)))
            // The late BLPOP reply was dropped: the next call gets its own reply on the same connection.
            #expect(try await slow.command("ECHO", "mine") == .bulk(Array("mine".utf8)))
            #expect(slow.openConnections == 1)
        } catch { failure = error }
        slow.shutdown()
        try await loop.shutdownGracefully()
        if let failure { throw failure }
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
