import Analytics
import ConnectionPool
import HTTPTypes

/// Bounds the wait of one request: past `timeout` it answers 503 with `Retry-After` and the
/// work is cancelled (`REQUEST_TIMEOUT_MS`, default 10 s; 0 disables).
///
/// Structured: the work and the timer are child tasks of the caller, so the caller's own
/// cancellation reaches the work too, and nothing outlives the call. Cancelled work returns
/// at once: waits for a pooled connection end, and a Postgres statement in flight gets a
/// cancel request (see `BlockingPool`'s `CancellationPolicy`).
struct RequestDeadline: Sendable {
    let timeout: Duration

    func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        guard timeout > .zero else { return try await work() }
        let timeout = self.timeout
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await TimerWheel.shared.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw AnalyticsError.timedOut }
            return value
        }
    }

    /// For writes: `write` gets the time it may wait for a connection (nil: the pool's
    /// default); running out of it is this deadline's 503 `timeout`, with nothing written.
    func waitingForConnection<T: Sendable>(_ write: (Duration?) async throws -> T) async throws -> T {
        do {
            return try await write(timeout > .zero ? timeout : nil)
        } catch PoolError.acquireTimeout where timeout > .zero {
            throw AnalyticsError.timedOut
        }
    }
}
