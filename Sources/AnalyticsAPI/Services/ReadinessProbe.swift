import Synchronization

/// A probe's result reused for `maxAge` (`/readyz`): however often it is asked, the checks
/// behind it run at most once per `maxAge`, one at a time.
final class CachedProbe<Value: Sendable>: Sendable {
    private let maxAge: Duration
    private let check: @Sendable () async -> Value
    private let last = Mutex<(value: Value, at: ContinuousClock.Instant)?>(nil)
    private let running = Mutex<Task<Value, Never>?>(nil)

    init(maxAge: Duration, check: @escaping @Sendable () async -> Value) {
        self.maxAge = maxAge
        self.check = check
    }

    /// The last result when it is younger than `maxAge`; else the running check's, or a new one's.
    func value() async -> Value {
        if let last = last.withLock({ $0 }), ContinuousClock.now - last.at < maxAge { return last.value }
        let task = running.withLock { current in
            if let current { return current }
            let task = Task { [check, self] in
                let value = await check()
                self.last.withLock { $0 = (value, ContinuousClock.now) }
                self.running.withLock { $0 = nil }
                return value
            }
            current = task
            return task
        }
        return await task.value
    }
}
