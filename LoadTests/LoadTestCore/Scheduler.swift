/// Intended send times of an open-loop (constant arrival rate) phase: request `g` is due at `start + g / rate`.
/// With several shards, shard `k` of `S` owns the global indices `g = i * S + k`.
public struct ArrivalSchedule: Sendable, Equatable {
    public let startNs: UInt64
    public let rate: Double
    public let shardIndex: Int
    public let shardCount: Int
    /// Number of requests this shard issues (intended time < start + duration).
    public let count: Int

    public init(startNs: UInt64, rate: Double, durationNs: UInt64, shardIndex: Int = 0, shardCount: Int = 1) {
        precondition(rate > 0 && shardCount > 0 && shardIndex < shardCount)
        self.startNs = startNs
        self.rate = rate
        self.shardIndex = shardIndex
        self.shardCount = shardCount
        let total = Int((Double(durationNs) * rate / 1e9 - 1e-9).rounded(.up))
        count = Swift.max(0, (total - shardIndex + shardCount - 1) / shardCount)
    }

    /// Intended send time of this shard's `i`-th request.
    @inline(__always)
    public func intendedTime(_ i: Int) -> UInt64 {
        startNs + UInt64((Double(i * shardCount + shardIndex) * 1e9 / rate).rounded())
    }
}

/// Connections the scheduler drives. Implemented over SwiftNIO (`NIOShard`) and by fakes in tests.
/// All calls happen on one thread (the shard's event loop).
public protocol LoadTransport: AnyObject {
    /// Writes `request` on `connection`, which is connected and idle. The outcome comes back through
    /// `ShardCore.complete` or `ShardCore.connectionLost`.
    func send(_ request: PreparedRequest, on connection: Int, intendedNs: UInt64)
    /// Gives up on the request in flight on `connection` (timeout): close it; reconnect later
    /// and report through `ShardCore.connectionEstablished`.
    func abort(connection: Int)
}

public enum LoadMode: Sendable, Equatable {
    /// Constant arrival rate, requests/s (coordinated-omission corrected: latency counts from the intended time).
    case open(rate: Double)
    /// Each connection sends the next request as soon as the previous one completes.
    case closed
}

/// One shard's view of a phase.
public struct ShardPhase: Sendable {
    public var mode: LoadMode
    public var startNs: UInt64
    public var durationNs: UInt64
    /// Stop issuing after this many requests on this shard.
    public var maxRequests: Int
    public var shardIndex: Int
    public var shardCount: Int

    public init(mode: LoadMode, startNs: UInt64, durationNs: UInt64, maxRequests: Int = .max, shardIndex: Int = 0, shardCount: Int = 1) {
        self.mode = mode
        self.startNs = startNs
        self.durationNs = durationNs
        self.maxRequests = maxRequests
        self.shardIndex = shardIndex
        self.shardCount = shardCount
    }

    public var endNs: UInt64 { startNs + durationNs }
}

/// The scheduling state machine of one shard, independent of I/O and of the clock: every entry point takes `now`
/// (monotonic nanoseconds). Not thread-safe: confine to one thread (an event loop).
public final class ShardCore<Transport: LoadTransport> {
    enum ConnState: UInt8 { case disconnected, idle, busy }

    struct InFlight {
        var scenario: Scenario = .path
        var intendedNs: UInt64 = 0
    }

    public let connectionCount: Int
    public let timeoutNs: UInt64
    public let sweepIntervalNs: UInt64
    unowned let transport: Transport
    public var generator: RequestGenerator

    var states: [ConnState]
    var idle: [Int] = []
    var inflight: [InFlight]
    public private(set) var inflightCount = 0

    var phase: ShardPhase?
    var schedule: ArrivalSchedule?
    var nextIndex = 0
    var issued = 0
    var nextSweepNs: UInt64 = 0
    public private(set) var recorder: PhaseRecorder?
    public var timeline: TimelineRecorder
    /// Requests written to a connection over the whole run.
    public private(set) var sentTotal = 0
    var onFinished: ((PhaseRecorder) -> Void)?

    public init(
        connections: Int, transport: Transport, generator: RequestGenerator, timeoutNs: UInt64, runStartNs: UInt64,
        sweepIntervalNs: UInt64 = 10_000_000
    ) {
        precondition(connections > 0)
        connectionCount = connections
        self.transport = transport
        self.generator = generator
        self.timeoutNs = timeoutNs
        self.sweepIntervalNs = sweepIntervalNs
        states = [ConnState](repeating: .disconnected, count: connections)
        inflight = [InFlight](repeating: InFlight(), count: connections)
        timeline = TimelineRecorder(runStartNs: runStartNs)
        idle.reserveCapacity(connections)
    }

    public var isPhaseActive: Bool { phase != nil }
    public var idleCount: Int { idle.count }
    public var connectedCount: Int { states.count(where: { $0 != .disconnected }) }

    /// Starts a phase; `finished` is called (on this thread) once issuing is over and nothing is in flight.
    public func begin(_ phase: ShardPhase, now: UInt64, finished: @escaping (PhaseRecorder) -> Void) {
        precondition(self.phase == nil, "phase already running")
        self.phase = phase
        if case .open(let rate) = phase.mode {
            schedule = ArrivalSchedule(
                startNs: phase.startNs, rate: rate, durationNs: phase.durationNs, shardIndex: phase.shardIndex, shardCount: phase.shardCount
            )
        } else {
            schedule = nil
        }
        nextIndex = 0
        issued = 0
        recorder = PhaseRecorder(startNs: phase.startNs)
        onFinished = finished
        nextSweepNs = now &+ sweepIntervalNs
        dispatch(now: now)
        finishIfDrained()
    }

    /// Issuing is over: all scheduled requests were sent or dropped (open) or the end time passed (closed), or the cap hit.
    func issuingOver(now: UInt64) -> Bool {
        guard let phase else { return true }
        if issued >= phase.maxRequests { return true }
        if let schedule { return nextIndex >= schedule.count }
        return now >= phase.endNs
    }

    /// Open loop: requests due but not yet sent (waiting for a free connection).
    public func backlog(now: UInt64) -> Int {
        guard let schedule else { return 0 }
        var due = nextIndex
        // Cheap upper estimate first, then exact.
        while due < schedule.count && schedule.intendedTime(due) <= now { due += 1 }
        return due - nextIndex
    }

    @inline(__always)
    func send(on connection: Int, intendedNs: UInt64) {
        let request = generator.next()
        states[connection] = .busy
        inflight[connection] = InFlight(scenario: request.scenario, intendedNs: intendedNs)
        inflightCount += 1
        issued += 1
        sentTotal += 1
        recorder!.sent += 1
        transport.send(request, on: connection, intendedNs: intendedNs)
    }

    func dispatch(now: UInt64) {
        guard let phase else { return }
        if let schedule {
            while nextIndex < schedule.count && issued < phase.maxRequests {
                let intended = schedule.intendedTime(nextIndex)
                if intended > now { break }
                if intended &+ timeoutNs <= now {
                    // Waited in the queue past the timeout without a free connection.
                    let request = generator.next()
                    issued += 1
                    nextIndex += 1
                    recordFailure(request.scenario, .timeout, now: now)
                    continue
                }
                guard let connection = idle.popLast() else { break }
                nextIndex += 1
                send(on: connection, intendedNs: intended)
            }
        } else {
            while now < phase.endNs && issued < phase.maxRequests, let connection = idle.popLast() {
                send(on: connection, intendedNs: now)
            }
        }
    }

    @inline(__always)
    func recordFailure(_ scenario: Scenario, _ kind: TransportError, now: UInt64) {
        recorder?.recordFailure(scenario, kind, now: now)
        timeline.record(now: now, latencyMicros: nil, error: true)
    }

    /// A response for the request in flight on `connection`. `keepAlive` false: the transport closes the connection.
    @inline(__always)
    public func complete(connection: Int, status: Int, cache: CacheResult, keepAlive: Bool, now: UInt64) {
        guard states[connection] == .busy else { return }
        let request = inflight[connection]
        inflightCount -= 1
        let latencyMicros = now > request.intendedNs ? (now - request.intendedNs) / 1000 : 0
        recorder?.recordResponse(request.scenario, status: status, latencyMicros: latencyMicros, cache: cache, now: now)
        timeline.record(now: now, latencyMicros: latencyMicros, error: status >= 400 || status < 100)
        if keepAlive {
            states[connection] = .idle
            idle.append(connection)
            dispatch(now: now)
        } else {
            states[connection] = .disconnected
        }
        finishIfDrained(now: now)
    }

    /// The connection is usable (initially or after a reconnect).
    public func connectionEstablished(_ connection: Int, now: UInt64) {
        guard states[connection] == .disconnected else { return }
        states[connection] = .idle
        idle.append(connection)
        dispatch(now: now)
        finishIfDrained(now: now)
    }

    /// A connect attempt failed. While a phase is issuing, one request is charged as a `connect` error
    /// (for open loop only if one is due), so an unreachable server shows up as errors rather than silence.
    public func connectFailed(_ connection: Int, now: UInt64) {
        guard let phase, !issuingOver(now: now) else { return }
        if let schedule {
            guard nextIndex < schedule.count, schedule.intendedTime(nextIndex) <= now else { return }
            nextIndex += 1
        }
        let request = generator.next()
        issued += 1
        recordFailure(request.scenario, .connect, now: now)
        _ = phase.maxRequests
        finishIfDrained(now: now)
    }

    /// The connection closed (by the peer, an error or a malformed response). An in-flight request fails with `io`.
    public func connectionLost(_ connection: Int, now: UInt64) {
        switch states[connection] {
        case .disconnected: return
        case .idle:
            if let i = idle.firstIndex(of: connection) { idle.remove(at: i) }
        case .busy:
            inflightCount -= 1
            recordFailure(inflight[connection].scenario, .io, now: now)
        }
        states[connection] = .disconnected
        finishIfDrained(now: now)
    }

    /// Timer entry point: sends due requests, times out overdue ones, finishes the phase when drained.
    /// Returns when it wants to be called next (nil: no phase).
    @discardableResult
    public func tick(now: UInt64) -> UInt64? {
        guard phase != nil else { return nil }
        if now >= nextSweepNs {
            nextSweepNs = now &+ sweepIntervalNs
            for connection in 0..<connectionCount where states[connection] == .busy {
                let request = inflight[connection]
                if request.intendedNs &+ timeoutNs <= now {
                    inflightCount -= 1
                    states[connection] = .disconnected
                    recordFailure(request.scenario, .timeout, now: now)
                    transport.abort(connection: connection)
                }
            }
        }
        dispatch(now: now)
        finishIfDrained(now: now)
        return nextWake(now: now)
    }

    /// The earliest time `tick` has work to do.
    public func nextWake(now: UInt64) -> UInt64? {
        guard let phase else { return nil }
        var wake = UInt64.max
        if let schedule {
            if nextIndex < schedule.count && issued < phase.maxRequests {
                if !idle.isEmpty {
                    wake = schedule.intendedTime(nextIndex)
                } else {
                    wake = nextSweepNs  // queued requests may time out
                }
            }
        } else if now < phase.endNs {
            wake = phase.endNs
        }
        if inflightCount > 0 { wake = Swift.min(wake, nextSweepNs) }
        return wake == .max ? nil : wake
    }

    func finishIfDrained(now: UInt64 = 0) {
        guard phase != nil, inflightCount == 0 else { return }
        // For closed loop use the latest known time; `issuingOver` only needs it before the end.
        let current = Swift.max(now, recorder?.lastEventNs ?? 0)
        guard issuingOver(now: current) else { return }
        let finished = recorder!
        let callback = onFinished
        phase = nil
        schedule = nil
        recorder = nil
        onFinished = nil
        callback?(finished)
    }
}
