import ConnectionPool
import Foundation
import Synchronization

/// Guards calls to Redis: after `failureThreshold` consecutive failures it opens and calls
/// are skipped (the API answers from Postgres, `BYPASS`) for `openDuration`; then one probe
/// is let through (half-open): success closes it, failure opens it again.
public final class CircuitBreaker: Sendable {
    public enum State: String, Sendable {
        case closed
        case open
        case halfOpen = "half_open"
    }

    private struct Storage {
        var state: State = .closed
        var consecutiveFailures = 0
        var openedAt: ContinuousClock.Instant?
        var probeInFlight = false
    }

    public let failureThreshold: Int
    public let openDuration: Duration
    private let storage = Mutex(Storage())
    private let onChange: @Sendable (State) -> Void

    public init(failureThreshold: Int = 3, openDuration: Duration = .seconds(2), onChange: @escaping @Sendable (State) -> Void = { _ in }) {
        self.failureThreshold = failureThreshold
        self.openDuration = openDuration
        self.onChange = onChange
    }

    public var state: State { storage.withLock { $0.state } }

    /// Whether a call now would be refused without reaching Redis (open and not yet due for a
    /// probe, or a probe already in flight). Asking changes nothing.
    public var refusesCalls: Bool {
        storage.withLock { s in
            switch s.state {
            case .closed: return false
            case .open: return s.openedAt.map { ContinuousClock.now - $0 < openDuration } ?? true
            case .halfOpen: return s.probeInFlight
            }
        }
    }

    /// Whether a call may go to Redis now. In half-open state only one probe is allowed.
    public func allowRequest() -> Bool {
        let (allowed, changed) = storage.withLock { s -> (Bool, State?) in
            switch s.state {
            case .closed: return (true, nil)
            case .open:
                guard let openedAt = s.openedAt, ContinuousClock.now - openedAt >= openDuration else { return (false, nil) }
                s.state = .halfOpen
                s.probeInFlight = true
                return (true, .halfOpen)
            case .halfOpen:
                if s.probeInFlight { return (false, nil) }
                s.probeInFlight = true
                return (true, nil)
            }
        }
        if let changed { onChange(changed) }
        return allowed
    }

    public func recordSuccess() {
        let changed = storage.withLock { s -> Bool in
            s.consecutiveFailures = 0
            s.probeInFlight = false
            guard s.state != .closed else { return false }
            s.state = .closed
            s.openedAt = nil
            return true
        }
        if changed { onChange(.closed) }
    }

    /// A call that neither succeeded nor failed on Redis' account: frees a half-open probe slot.
    /// Runs one Redis call behind the breaker: nil when the breaker is open (the call is
    /// skipped), else the call's outcome. Every Redis caller goes through here, so that only
    /// failures of Redis itself count against it (`isLocalCongestion`).
    public func call<T: Sendable>(_ body: () async throws -> T) async -> Result<T, any Error>? {
        guard allowRequest() else { return nil }
        do {
            let value = try await body()
            recordSuccess()
            return .success(value)
        } catch {
            record(error)
            return .failure(error)
        }
    }

    /// Counts a failed Redis call, unless it failed for a local reason.
    public func record(_ error: any Error) {
        if Self.isLocalCongestion(error) { releaseProbe() } else { recordFailure() }
    }

    /// Every pooled connection busy, or the caller's task cancelled: this process is busy, Redis
    /// is not sick. Opening the breaker then would send all reads to Postgres exactly when the
    /// process is busiest.
    public static func isLocalCongestion(_ error: any Error) -> Bool {
        if error is CancellationError { return true }
        if let poolError = error as? PoolError { return poolError == .acquireTimeout || poolError == .overloaded }
        return false
    }

    public func releaseProbe() {
        storage.withLock { $0.probeInFlight = false }
    }

    public func recordFailure() {
        let changed = storage.withLock { s -> Bool in
            s.consecutiveFailures += 1
            s.probeInFlight = false
            if s.state == .halfOpen || (s.state == .closed && s.consecutiveFailures >= failureThreshold) {
                s.state = .open
                s.openedAt = .now
                return true
            }
            return false
        }
        if changed { onChange(.open) }
    }
}
