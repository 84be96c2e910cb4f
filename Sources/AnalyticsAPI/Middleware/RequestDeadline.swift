import Foundation
import HTTPTypes
import Synchronization

/// Bounds the wait of one request: past `timeout` it answers 503 with `Retry-After` and the
/// work is cancelled (`REQUEST_TIMEOUT_MS`, default 10 s; 0 disables). The answer does not
/// wait for blocking C calls in flight: they finish on their thread pool and are discarded.
struct RequestDeadline: Sendable {
    let timeout: Duration

    static let timedOut = APIError(.serviceUnavailable, code: "timeout", message: "the request took too long", headers: [.retryAfter: "1"])

    /// Resumes a continuation once, whichever of the work and the timer comes first.
    final class Once<T: Sendable>: Sendable {
        let continuation: CheckedContinuation<T, any Error>
        let resumed = Atomic<Bool>(false)

        init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = continuation }

        func finish(_ result: Result<T, any Error>) -> Bool {
            guard resumed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return false }
            continuation.resume(with: result)
            return true
        }
    }

    func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        guard timeout > .zero else { return try await work() }
        let worker = Task { try await work() }
        let timeout = self.timeout
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let once = Once(continuation)
            let timer = Task {
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled, once.finish(.failure(Self.timedOut)) { worker.cancel() }
            }
            Task {
                let result = await worker.result
                timer.cancel()
                _ = once.finish(result)
            }
        }
    }
}
