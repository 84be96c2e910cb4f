import Synchronization

/// Timeouts without a sleeping task each: actions are kept in buckets of `tick` and run by
/// one sweeping task, which exists only while some action is pending.
///
/// A cancelled `Task.sleep` keeps its timer in the runtime until its deadline passes, so a
/// timer per request or per pool waiter holds memory for the whole timeout even when the
/// work ended long before. Here cancelling an action removes it at once.
public final class TimerWheel: Sendable {
    public static let shared = TimerWheel(tick: .milliseconds(5))

    public struct Token: Sendable, Hashable {
        fileprivate let id: UInt64
    }

    private struct State {
        var actions: [UInt64: @Sendable () -> Void] = [:]
        /// Tick number → ids due in it (ids of cancelled actions are skipped).
        var buckets: [Int64: [UInt64]] = [:]
        var nextID: UInt64 = 0
        var lastSwept: Int64
        var sweeping = false
    }

    private let tick: Duration
    private let origin = ContinuousClock.now
    private let state: Mutex<State>

    public init(tick: Duration) {
        self.tick = tick
        state = Mutex(State(lastSwept: 0))
    }

    /// Pending actions (for tests and metrics).
    public var pending: Int { state.withLock { $0.actions.count } }

    /// Runs `action` once `delay` has passed (rounded up to the next tick), unless cancelled.
    @discardableResult
    public func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> Token {
        let now = tickNumber(of: .now)
        let due = tickNumber(of: ContinuousClock.now + delay) + 1
        let (id, startSweeper) = state.withLock { state -> (UInt64, Bool) in
            // An idle wheel has not swept for a while: it resumes from now, not from then.
            if !state.sweeping { state.lastSwept = max(state.lastSwept, now - 1) }
            state.nextID += 1
            state.actions[state.nextID] = action
            state.buckets[max(due, state.lastSwept + 1), default: []].append(state.nextID)
            if state.sweeping { return (state.nextID, false) }
            state.sweeping = true
            return (state.nextID, true)
        }
        if startSweeper { Task { await sweep() } }
        return Token(id: id)
    }

    /// Drops a pending action; true when it had not run yet.
    @discardableResult
    public func cancel(_ token: Token) -> Bool {
        state.withLock { $0.actions.removeValue(forKey: token.id) != nil }
    }

    /// Sleeps for `duration`; throws `CancellationError` at once when the task is cancelled.
    public func sleep(for duration: Duration) async throws {
        let slot = Mutex<(token: Token?, continuation: CheckedContinuation<Void, any Error>?, cancelled: Bool)>((nil, nil, false))
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = slot.withLock { slot -> Bool in
                    slot.continuation = continuation
                    return slot.cancelled
                }
                if cancelled { return continuation.resume(throwing: CancellationError()) }
                let token = schedule(after: duration) {
                    slot.withLock { slot in
                        defer { slot.continuation = nil }
                        return slot.continuation
                    }?.resume()
                }
                // Cancelled while scheduling: the handler found no token to drop.
                if slot.withLock({ slot in
                    slot.token = token
                    return slot.cancelled
                }) {
                    cancel(token)
                }
            }
        } onCancel: {
            let (token, continuation) = slot.withLock { slot in
                slot.cancelled = true
                defer { slot.continuation = nil }
                return (slot.token, slot.continuation)
            }
            if let token { cancel(token) }
            continuation?.resume(throwing: CancellationError())
        }
    }

    private func tickNumber(of instant: ContinuousClock.Instant) -> Int64 {
        let elapsed = instant - origin
        let tickNanos = tick.components.seconds * 1_000_000_000 + tick.components.attoseconds / 1_000_000_000
        let nanos = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        return nanos / max(1, tickNanos)
    }

    private func sweep() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = tickNumber(of: .now)
            let (due, stop) = state.withLock { state -> ([@Sendable () -> Void], Bool) in
                var due: [@Sendable () -> Void] = []
                while state.lastSwept < now {
                    state.lastSwept += 1
                    for id in state.buckets.removeValue(forKey: state.lastSwept) ?? [] {
                        if let action = state.actions.removeValue(forKey: id) { due.append(action) }
                    }
                }
                guard state.actions.isEmpty else { return (due, false) }
                // Nothing pending: this sweeper ends; the next `schedule` starts another.
                state.buckets = [:]
                state.sweeping = false
                return (due, true)
            }
            for action in due { action() }
            if stop { return }
        }
    }
}
