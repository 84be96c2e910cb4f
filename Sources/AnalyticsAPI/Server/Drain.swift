import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A replica leaving a load balancer's rotation on SIGTERM: `/readyz` answers 503 `draining`
/// for `SHUTDOWN_DRAIN_S` while every request is still served, so the balancer's health checks
/// stop sending new ones; then the HTTP server's graceful shutdown stops accepting connections
/// and finishes the requests in flight. (0, the default, shuts down at once: one replica alone.)
public final class DrainState: Sendable {
    private let draining = Atomic<Bool>(false)

    public init() {}

    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    func begin() { draining.store(true, ordering: .relaxed) }
}

/// Put after the HTTP application in the service group: graceful shutdown runs in reverse
/// order, so this one (the drain) runs to its end before the server begins to stop.
public struct DrainService: Service {
    let state: DrainState
    let delay: Duration
    let logger: Logger

    public init(state: DrainState, delay: Duration, logger: Logger) {
        self.state = state
        self.delay = delay
        self.logger = logger
    }

    public func run() async throws {
        // Returns when graceful shutdown begins (throws when the group is cancelled instead).
        try await gracefulShutdown()
        state.begin()
        guard delay > .zero else { return }
        logger.info("draining: /readyz answers 503 before the server stops", metadata: ["seconds": "\(delay)"])
        try? await Task.sleep(for: delay)
    }
}
