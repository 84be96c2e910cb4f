import Testing

@testable import LoadTestCore

/// Records what the scheduler asks of the transport; time is whatever the test passes as `now`.
final class FakeTransport: LoadTransport {
    var sent: [(connection: Int, intendedNs: UInt64)] = []
    var aborted: [Int] = []

    func send(_ request: PreparedRequest, on connection: Int, intendedNs: UInt64) {
        sent.append((connection, intendedNs))
    }

    func abort(connection: Int) {
        aborted.append(connection)
    }
}

private let ms: UInt64 = 1_000_000

private func makeCore(_ transport: FakeTransport, connections: Int, timeoutNs: UInt64 = 10_000 * ms, sweepNs: UInt64 = 10 * ms)
    -> ShardCore<FakeTransport>
{
    ShardCore(
        connections: connections, transport: transport, generator: .fixed(path: "/x", hostHeader: "127.0.0.1:1"),
        timeoutNs: timeoutNs, runStartNs: 0, sweepIntervalNs: sweepNs
    )
}

@Suite("Arrival-rate scheduler")
struct SchedulerTests {
    @Test("rate 1000 → intended times 0, 1 ms, 2 ms, …")
    func intendedTimes() {
        let schedule = ArrivalSchedule(startNs: 5_000, rate: 1000, durationNs: 10 * ms)
        #expect(schedule.count == 10)
        #expect((0..<10).map { schedule.intendedTime($0) } == (0..<10).map { 5_000 + UInt64($0) * ms })
        // Fractional interval: 3 rps over 1 s → 0, 333.33 ms, 666.67 ms.
        let thirds = ArrivalSchedule(startNs: 0, rate: 3, durationNs: 1_000 * ms)
        #expect(thirds.count == 3)
        #expect(thirds.intendedTime(1) == 333_333_333)
        #expect(thirds.intendedTime(2) == 666_666_667)
    }

    @Test("shards interleave the global schedule without gaps or overlaps")
    func shardedSchedule() {
        let a = ArrivalSchedule(startNs: 0, rate: 1000, durationNs: 5 * ms, shardIndex: 0, shardCount: 2)
        let b = ArrivalSchedule(startNs: 0, rate: 1000, durationNs: 5 * ms, shardIndex: 1, shardCount: 2)
        #expect(a.count == 3 && b.count == 2)
        let all = ((0..<a.count).map { a.intendedTime($0) } + (0..<b.count).map { b.intendedTime($0) }).sorted()
        #expect(all == [0, 1, 2, 3, 4].map { $0 * ms })
    }

    @Test("open loop sends each request at its intended time on a free connection")
    func dispatchAtIntendedTimes() {
        let transport = FakeTransport()
        let core = makeCore(transport, connections: 4)
        for c in 0..<4 { core.connectionEstablished(c, now: 0) }
        var finished: PhaseRecorder?
        core.begin(ShardPhase(mode: .open(rate: 1000), startNs: 0, durationNs: 4 * ms), now: 0) { finished = $0 }
        #expect(transport.sent.count == 1)
        #expect(core.nextWake(now: 0) == 1 * ms)
        // A tick slightly before the next intended time sends nothing.
        core.tick(now: 1 * ms - 1)
        #expect(transport.sent.count == 1)
        for t in 1...3 { core.tick(now: UInt64(t) * ms) }
        #expect(transport.sent.map(\.intendedNs) == [0, 1 * ms, 2 * ms, 3 * ms])
        #expect(Set(transport.sent.map(\.connection)).count == 4)  // all four busy
        for (i, request) in transport.sent.enumerated() {
            core.complete(connection: request.connection, status: 200, cache: .none, keepAlive: true, now: UInt64(i) * ms + 100_000)
        }
        let recorder = try! #require(finished)
        let stats = recorder.total
        #expect(stats.requests == 4 && stats.errors == 0)
        #expect(stats.histogram.max <= 101 && stats.histogram.min >= 99)  // 100 µs each
    }

    @Test("latency of a request queued behind a slow one counts from its intended time")
    func coordinatedOmissionCorrected() {
        let transport = FakeTransport()
        let core = makeCore(transport, connections: 1)
        core.connectionEstablished(0, now: 0)
        var finished: PhaseRecorder?
        core.begin(ShardPhase(mode: .open(rate: 1000), startNs: 0, durationNs: 5 * ms), now: 0) { finished = $0 }
        #expect(transport.sent.count == 1)
        // The first request is slow (5 ms); requests due at 1..4 ms wait for the only connection.
        for t in 1...4 { core.tick(now: UInt64(t) * ms) }
        #expect(transport.sent.count == 1)
        #expect(core.backlog(now: 4 * ms) == 4)
        // Completions at 5.0, 5.1, 5.2, 5.3, 5.4 ms: each frees the connection for the next queued request.
        for i in 0..<5 {
            core.complete(connection: 0, status: 200, cache: .none, keepAlive: true, now: 5 * ms + UInt64(i) * 100_000)
        }
        #expect(transport.sent.map(\.intendedNs) == [0, 1, 2, 3, 4].map { $0 * ms })
        let stats = try! #require(finished).total
        #expect(stats.requests == 5)
        // Latencies 5.0, 4.1, 3.2, 2.3, 1.4 ms — not the 0.1 ms service time of the queued ones.
        let recorded = stats.histogram.recordedValues().map { $0.value }
        #expect(recorded.count == 5)
        #expect(stats.histogram.min >= 1_399 && stats.histogram.min <= 1_401)
        #expect(stats.histogram.max >= 4_999 && stats.histogram.max <= 5_003)
        let summary = stats.summary(seconds: 0.005)
        #expect(abs(summary.latencyMs.p50 - 3.2) < 0.01)
        #expect(summary.throughputRps == 1000)
    }

    @Test("a request that waits past the timeout is a timeout error; the stuck connection is aborted")
    func timeouts() {
        let transport = FakeTransport()
        let core = makeCore(transport, connections: 1, timeoutNs: 2 * ms, sweepNs: 1 * ms)
        core.connectionEstablished(0, now: 0)
        var finished: PhaseRecorder?
        core.begin(ShardPhase(mode: .open(rate: 1000), startNs: 0, durationNs: 3 * ms), now: 0) { finished = $0 }
        core.tick(now: 1 * ms)
        core.tick(now: 2 * ms)  // request 0 (intended 0) times out in flight
        #expect(transport.aborted == [0])
        core.tick(now: 3 * ms)  // request 1 (intended 1 ms) timed out in the queue
        core.tick(now: 4 * ms)  // request 2 (intended 2 ms) too
        let stats = try! #require(finished).total
        #expect(stats.requests == 3 && stats.errors == 3)
        #expect(stats.summary(seconds: 0.003).errorsByStatus["timeout"] == 3)
        #expect(stats.histogram.totalCount == 0)
    }

    @Test("closed loop: each connection sends the next request when the previous completes, until the end")
    func closedLoop() {
        let transport = FakeTransport()
        let core = makeCore(transport, connections: 2)
        core.connectionEstablished(0, now: 0)
        core.connectionEstablished(1, now: 0)
        var finished: PhaseRecorder?
        core.begin(ShardPhase(mode: .closed, startNs: 0, durationNs: 10 * ms), now: 0) { finished = $0 }
        #expect(transport.sent.count == 2)
        core.complete(connection: 0, status: 200, cache: .hit, keepAlive: true, now: 4 * ms)
        #expect(transport.sent.count == 3)
        #expect(transport.sent[2].intendedNs == 4 * ms)  // closed loop: latency from the actual send
        core.complete(connection: 1, status: 503, cache: .none, keepAlive: true, now: 11 * ms)  // after the end: no new send
        core.complete(connection: 0, status: 200, cache: .miss, keepAlive: true, now: 12 * ms)
        #expect(transport.sent.count == 3)
        let summary = try! #require(finished).summary(seconds: 0.01)
        #expect(summary.requests == 3 && summary.errors == 1)
        #expect(summary.errorsByStatus["503"] == 1)
        #expect(summary.cache.hit == 1 && summary.cache.miss == 1 && summary.cache.hitRatio == 0.5)
    }

    @Test("a connection lost with a request in flight counts an io error; connect failures count when requests are due")
    func connectionFailures() {
        let transport = FakeTransport()
        let core = makeCore(transport, connections: 1)
        core.connectionEstablished(0, now: 0)
        var finished: PhaseRecorder?
        core.begin(ShardPhase(mode: .open(rate: 1000), startNs: 0, durationNs: 2 * ms), now: 0) { finished = $0 }
        core.connectionLost(0, now: 500_000)
        core.connectFailed(0, now: 1 * ms)  // request 1 is due: charged as a connect error
        let stats = try! #require(finished).summary(seconds: 0.002)
        #expect(stats.requests == 2)
        #expect(stats.errorsByStatus["io"] == 1 && stats.errorsByStatus["connect"] == 1)
    }

    @Test("the request cap stops issuing")
    func requestCap() {
        let transport = FakeTransport()
        let core = makeCore(transport, connections: 8)
        for c in 0..<8 { core.connectionEstablished(c, now: 0) }
        var finished: PhaseRecorder?
        core.begin(ShardPhase(mode: .closed, startNs: 0, durationNs: 1_000 * ms, maxRequests: 5), now: 0) { finished = $0 }
        #expect(transport.sent.count == 5)
        for request in transport.sent {
            core.complete(connection: request.connection, status: 200, cache: .none, keepAlive: true, now: 1 * ms)
        }
        #expect(transport.sent.count == 5)
        #expect(finished?.total.requests == 5)
    }
}
