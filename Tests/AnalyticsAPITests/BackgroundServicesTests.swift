import AnalyticsRuntime
import Foundation
import Logging
import ServiceLifecycle
import StructuredLogging
import Synchronization
import TestSupport
import Testing

@testable import AnalyticsAPI

/// Issue 25 item 5: every background loop is a `Service` of the process's one `ServiceGroup`
/// (stopped by its graceful shutdown, in reverse order), and every command awaits the shutdown
/// of its clients, also when it fails.
@Suite("Background loops as services; awaited shutdown", .serialized)
struct BackgroundServicesTests {
    /// The order in which wrapped services' `run()` returned.
    final class Returns: Sendable {
        private let names = Mutex<[String]>([])
        func append(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }

    /// Runs `inner` and notes when its `run()` returned (also by throwing).
    struct Noted: Service {
        let inner: any Service
        let returns: Returns
        var name: String { String(describing: inner) }
        func run() async throws {
            defer { returns.append(name) }
            try await inner.run()
        }
    }

    /// Stands in for the HTTP server: a request in flight when graceful shutdown begins ends
    /// (and is logged) a little later, before the server's `run()` returns.
    struct LastRequest: Service, CustomStringConvertible {
        let log: AccessLog
        let logger: Logger
        var description: String { "LastRequest" }
        func run() async throws {
            try await gracefulShutdown()
            try await Task.sleep(for: .milliseconds(50))
            log.record(logger: logger, method: "GET", path: "/last", route: "/last", status: "200", cache: "-", duration: .milliseconds(50))
        }
    }

    struct Failing: Service, CustomStringConvertible {
        struct Failure: Error, Equatable {}
        var description: String { "Failing" }
        func run() async throws {
            try await Task.sleep(for: .milliseconds(100))
            throw Failure()
        }
    }

    /// Resources whose shutdown takes a while, and says when it has finished.
    final class SlowResources: ShutdownAwaitable {
        private let finished = Atomic<Bool>(false)
        var isShutDown: Bool { finished.load(ordering: .relaxed) }
        func shutdown() async {
            try? await Task.sleep(for: .milliseconds(200))
            finished.store(true, ordering: .relaxed)
        }
    }

    @Test func theLoopsListedFollowTheSettings() async throws {
        for foldMs in [0, 250] {
            let replica = try await makeReplica { $0.foldInterval = .milliseconds(foldMs) }
            try await withCleanup({ await replica.shutdown() }) {
                // The eviction watch always; the fold unless its interval is 0; no standby here.
                let expected = ["EvictionWatchService"] + (foldMs > 0 ? ["RollupFoldService"] : [])
                #expect(replica.config.runtime.databaseReadURL == nil)
                #expect(replica.runtime.backgroundServices.map { String(describing: $0) } == expected)
                // `serve` adds the hot-read flush and the access log, which stop first of them.
                #expect(replica.backgroundServices.map { String(describing: $0) } == expected + ["HotReadService", "AccessLogService"])
            }
        }
    }

    /// `serve`'s group with a stand-in for the server: graceful shutdown stops every service
    /// in reverse order, so the access log still writes the server's last request, and after
    /// it the loops do nothing more.
    @Test func gracefulShutdownStopsEveryLoopAfterTheServer() async throws {
        let replica = try await makeReplica { config in
            config.foldInterval = .milliseconds(50)
            config.evictionCheckInterval = .milliseconds(20)
        }
        try await withCleanup({ await replica.shutdown() }) {
            let lines = Mutex<[String]>([])
            let log = AccessLog(interval: .seconds(3600)) { bytes in
                lines.withLock { $0 += String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init) }
            }
            let returns = Returns()
            // As `serve` lists them, the access log being this one (it writes to `lines`).
            let loops = replica.runtime.backgroundServices + [HotReadService(recorder: replica.hotReads), AccessLogService(log: log)]
            let listed = loops.map { Noted(inner: $0, returns: returns) }
            let server = Noted(inner: LastRequest(log: log, logger: jsonLogger()), returns: returns)
            let group = ServiceGroup(configuration: .init(services: listed + [server], logger: TestEnvironment.logger))
            let running = Task { try await group.run() }

            // Running: hot reads are flushed.
            let package = try await Fixture(postgres: replica.postgres).package("background-services")
            replica.hotReads.record(packageId: package.id)
            try await TestEnvironment.eventually("the hot reads are flushed", timeout: .seconds(5)) { replica.hotReads.size.entries == 0 }
            #expect(returns.all.isEmpty)

            let stopping = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await running.value
            #expect(ContinuousClock.now - stopping < .seconds(5))
            // Every run() returned, the server's first, then the list backwards.
            let names = ([server] + listed.reversed()).map(\.name)
            #expect(returns.all == names)
            // The request that ended during the server's shutdown was written.
            #expect(lines.withLock { $0.count } == 1)
            #expect(lines.withLock { $0.first?.contains(#""path":"/last""#) } == true)
            // The hot-read flush has stopped: a count stays where it is.
            replica.hotReads.record(packageId: package.id)
            try await Task.sleep(for: .milliseconds(300))
            #expect(replica.hotReads.size.entries == 1)
            await replica.hotReads.flush()
        }
    }

    @Test func withShutdownAwaitsTheShutdownOnBothPaths() async throws {
        let ok = SlowResources()
        let value = try await withShutdown(ok) { resources in
            #expect(!resources.isShutDown)
            return 7
        }
        #expect(value == 7)
        #expect(ok.isShutDown, "shut down before withShutdown returned")

        let failing = SlowResources()
        await #expect(throws: Failing.Failure()) {
            try await withShutdown(failing) { _ in throw Failing.Failure() }
        }
        #expect(failing.isShutDown, "shut down before the error propagated")
    }

    /// A service that throws ends the group: the loops are cancelled and return, the error
    /// propagates, and by then the runtime's clients are closed.
    @Test func aFailingServiceStillEndsInAnAwaitedShutdown() async throws {
        let replica = try await makeReplica { $0.foldInterval = .milliseconds(50) }
        #expect(try await replica.postgres.query("SELECT 1 AS one").first?.decode("one", as: Int.self) == 1)
        let returns = Returns()
        let loops = replica.backgroundServices.map { Noted(inner: $0, returns: returns) }
        await #expect(throws: Failing.Failure()) {
            try await withShutdown(replica) { _ in
                let group = ServiceGroup(configuration: .init(services: loops + [Failing()], logger: TestEnvironment.logger))
                try await group.run()
            }
        }
        #expect(Set(returns.all) == Set(loops.map(\.name)))
        #expect(returns.all.count == loops.count)
        // Closed: the pool refuses new queries.
        await #expect(throws: (any Error).self) { try await replica.postgres.query("SELECT 1") }
    }

    func jsonLogger() -> Logger {
        Logger(label: "prpm.serve") { label in
            var handler = JSONLogHandler(label: label)
            handler.logLevel = .info
            return handler
        }
    }
}
