import AnalyticsCache
import ConnectionPool
import Testing

/// One place judges Redis errors: local congestion never opens the breaker.
@Suite struct CircuitBreakerTests {
    struct RedisDown: Error {}

    @Test func localCongestionIsNotARedisFailure() async {
        let breaker = CircuitBreaker(failureThreshold: 2, openDuration: .seconds(60))
        for _ in 0..<10 {
            let outcome: Result<Int, any Error>? = await breaker.call { throw PoolError.acquireTimeout }
            #expect(outcome != nil)
            let cancelled: Result<Int, any Error>? = await breaker.call { throw CancellationError() }
            #expect(cancelled != nil)
        }
        #expect(breaker.state == .closed)
        _ = await breaker.call { () throws -> Int in throw RedisDown() }
        _ = await breaker.call { () throws -> Int in throw RedisDown() }
        #expect(breaker.state == .open)
        #expect(breaker.refusesCalls)
        // Open: calls are skipped.
        let skipped: Result<Int, any Error>? = await breaker.call { 1 }
        #expect(skipped == nil)
    }

    @Test func refusesCallsOnlyWhileOpenAndNotDueForAProbe() async throws {
        let breaker = CircuitBreaker(failureThreshold: 1, openDuration: .milliseconds(50))
        #expect(!breaker.refusesCalls)
        _ = await breaker.call { () throws -> Int in throw RedisDown() }
        #expect(breaker.refusesCalls)
        try await Task.sleep(for: .milliseconds(70))
        #expect(!breaker.refusesCalls, "due for a probe")
        #expect(breaker.state == .open, "asking does not take the probe")
        let probe: Result<Int, any Error>? = await breaker.call { 1 }
        #expect((try? probe?.get()) == 1)
        #expect(!breaker.refusesCalls)
    }

    @Test func aHalfOpenProbeIsReportedWhateverItsOutcome() async throws {
        let breaker = CircuitBreaker(failureThreshold: 1, openDuration: .milliseconds(20))
        _ = await breaker.call { () throws -> Int in throw RedisDown() }
        #expect(breaker.state == .open)
        try await Task.sleep(for: .milliseconds(30))
        // The probe fails for a local reason: the next caller may probe again.
        _ = await breaker.call { () throws -> Int in throw PoolError.acquireTimeout }
        let probe: Result<Int, any Error>? = await breaker.call { 7 }
        #expect((try? probe?.get()) == 7)
        #expect(breaker.state == .closed)
    }
}
