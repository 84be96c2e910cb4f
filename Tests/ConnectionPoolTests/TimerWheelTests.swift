import ConnectionPool
import Synchronization
import Testing

@Suite("Timer wheel")
struct TimerWheelTests {
    @Test func actionsRunOnceAfterTheirDelayUnlessCancelled() async throws {
        let wheel = TimerWheel(tick: .milliseconds(2))
        let ran = Atomic<Int>(0)
        let start = ContinuousClock.now
        let finished = Mutex<ContinuousClock.Instant?>(nil)
        wheel.schedule(after: .milliseconds(30)) {
            ran.add(1, ordering: .relaxed)
            finished.withLock { $0 = .now }
        }
        let dropped = wheel.schedule(after: .milliseconds(10)) { ran.add(100, ordering: .relaxed) }
        #expect(wheel.cancel(dropped))
        #expect(wheel.pending == 1)
        for _ in 0..<200 where ran.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(ran.load(ordering: .relaxed) == 1)
        #expect(try #require(finished.withLock { $0 }) - start >= .milliseconds(30))
        #expect(wheel.pending == 0)
        #expect(!wheel.cancel(dropped))
    }

    @Test func sleepEndsAtOnceOnCancellationAndLeavesNothingPending() async throws {
        let wheel = TimerWheel(tick: .milliseconds(2))
        let sleeper = Task { try await wheel.sleep(for: .seconds(60)) }
        for _ in 0..<200 where wheel.pending == 0 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(wheel.pending == 1)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(wheel.pending == 0)
        try await wheel.sleep(for: .milliseconds(5))
        #expect(wheel.pending == 0)
    }
}
