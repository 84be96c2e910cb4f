import Foundation
import Testing

@testable import LoadTestCore

/// End-to-end over loopback against the in-process SwiftNIO server (`StaticHTTPServer`, port 0).
@Suite("Engine against an in-process server", .serialized)
struct EngineIntegrationTests {
    @Test("open loop for 1 s at 400 rps: the server counts exactly the requests the report counts, no errors")
    func countsMatch() async throws {
        let server = try await StaticHTTPServer.start()
        let target = try Target(host: "127.0.0.1", port: server.port)
        let engine = try LoadEngine(target: target, connections: 8, threads: 1, timeoutSeconds: 5, runStartNs: monotonicNanos())
        #expect(try await engine.connect() == 8)
        let start = monotonicNanos() + 5_000_000
        let recorder = try await engine.run(
            mode: .open(rate: 400), startNs: start, durationNs: 1_000_000_000, maxRequests: .max, generator: .fixed(path: "/x", scenario: .path)
        )
        let elapsed = Double(monotonicNanos() - start) / 1e9
        let summary = recorder.summary(seconds: 1)
        let counters = try await engine.counters()
        await engine.shutdown()
        let served = server.requestCount
        await server.stop()
        #expect(summary.requests == 400)
        #expect(summary.errors == 0)
        #expect(served == summary.requests)
        #expect(counters.sent == 400 && counters.inflight == 0)
        #expect(summary.statusCounts == ["200": 400])
        #expect(elapsed >= 0.99 && elapsed < 3)
        #expect(summary.latencyMs.p50 > 0 && summary.latencyMs.p50 < 50)
    }

    @Test("closed loop drains: every request written gets an outcome")
    func closedLoopDrains() async throws {
        let server = try await StaticHTTPServer.start()
        let engine = try LoadEngine(
            target: try Target(host: "127.0.0.1", port: server.port), connections: 4, threads: 2, timeoutSeconds: 5,
            runStartNs: monotonicNanos()
        )
        _ = try await engine.connect()
        let recorder = try await engine.run(
            mode: .closed, startNs: monotonicNanos(), durationNs: 300_000_000, maxRequests: .max, generator: .fixed(path: "/x", scenario: .path)
        )
        let counters = try await engine.counters()
        await engine.shutdown()
        let served = server.requestCount
        await server.stop()
        #expect(recorder.total.requests > 100)
        #expect(recorder.total.errors == 0)
        #expect(recorder.total.requests == served && counters.sent == served && counters.inflight == 0)
    }

    @Test("timeouts, Connection: close and error statuses")
    func failureModes() async throws {
        let server = try await StaticHTTPServer.start()
        let target = try Target(host: "127.0.0.1", port: server.port)
        let engine = try LoadEngine(target: target, connections: 2, threads: 1, timeoutSeconds: 0.1, runStartNs: monotonicNanos())
        _ = try await engine.connect()
        let slow = try await engine.run(
            mode: .open(rate: 20), startNs: monotonicNanos(), durationNs: 200_000_000, maxRequests: .max,
            generator: .fixed(path: "/slow/400", scenario: .path)
        )
        #expect(slow.total.requests == 4)
        #expect(slow.total.summary(seconds: 0.2).errorsByStatus["timeout"] == 4)
        let closing = try await engine.run(
            mode: .open(rate: 100), startNs: monotonicNanos() + 200_000_000, durationNs: 300_000_000, maxRequests: .max,
            generator: .fixed(path: "/close", scenario: .path)
        )
        #expect(closing.total.requests == 30 && closing.total.errors == 0)
        let failing = try await engine.run(
            mode: .open(rate: 100), startNs: monotonicNanos(), durationNs: 100_000_000, maxRequests: .max,
            generator: .fixed(path: "/status/503", scenario: .path)
        )
        #expect(failing.total.summary(seconds: 0.1).errorsByStatus["503"] == 10)
        await engine.shutdown()
        await server.stop()
    }

    @Test("runner: baseline, phases, cache hits, server metrics, thresholds and exit status")
    func runner() async throws {
        let server = try await StaticHTTPServer.start()
        let profile = Profile(
            name: "it",
            phases: [
                PhaseSpec(name: "warm", duration: 0.5, rate: 100, record: false, path: "/healthz"),
                PhaseSpec(name: "cached", duration: 1, rate: 200, path: "/cached/x", check: ["hit_ratio>0.99"]),
                PhaseSpec(name: "closed", duration: 0.5, path: "/healthz"),
                PhaseSpec(
                    name: "steps", path: "/healthz", rateStart: 100, rateStep: 100, stepDuration: 0.5, maxRate: 300,
                    stopWhen: ["errors<1%"]
                ),
                PhaseSpec(name: "fault", duration: 1, rate: 100, path: "/healthz", before: "true", after: "exit 3", recovery: 1.5),
                PhaseSpec(name: "broken", path: "/status/503", rateStart: 100, rateStep: 100, stepDuration: 0.3, maxRate: 300),
            ],
            thresholds: ["p99<500ms", "errors<0.5%"]
        )
        let config = RunConfig(
            target: try Target(host: "127.0.0.1", port: server.port), profile: profile, connections: 4, timeoutSeconds: 2,
            thresholds: ["throughput>1000000"], baselineSeconds: 0.5, scrapeIntervalSeconds: 1, progress: false
        )
        let report = try await LoadRunner(config: config, log: { _ in }).run()
        let served = server.requestCount
        await server.stop()

        #expect(report.phases.map(\.name) == ["warm", "cached", "closed", "steps", "fault", "broken"])
        #expect(report.phases[1].stats.requests == 200)
        #expect(report.phases[1].stats.cache.hitRatio == 1)
        #expect(report.phases[1].checks.first?.passed == true)
        // Totals = recorded phases only (cached + closed).
        #expect(report.requests == report.phases[1].stats.requests + report.phases[2].stats.requests)
        #expect(report.errors == 0)
        let steps = try #require(report.phases[3].steps)
        #expect(steps.map(\.rate) == [100, 200, 300])
        #expect(report.phases[3].saturation?.rateRps == 300 && report.phases[3].saturation?.reached == false)
        // Every step fails the default stop_when (errors<1%): no saturation rate, and it stops after the first step.
        #expect(report.phases[5].steps?.count == 1)
        #expect(report.phases[5].saturation?.rateRps == nil && report.phases[5].saturation?.reached == true)
        #expect(report.phases[5].stats.errorsByStatus["503"] == 30)
        let fault = try #require(report.phases[4].fault)
        #expect(fault.before?.exitCode == 0 && fault.after?.exitCode == 3)
        #expect(fault.recoveryS == 0 && fault.errorsDuring == 0)
        #expect(report.phases[4].stats.requests == 250)
        let baseline = try #require(report.baseline)
        #expect(baseline.requests > 0 && baseline.ratio != nil)
        // The server's own count (via /metrics) equals what the harness sent, baseline and warm-up included.
        #expect(report.server.available)
        #expect(report.server.requestsCountedByServer == report.server.harnessRequestsSent)
        #expect(report.server.harnessRequestsSent == served)
        #expect(report.timeline.count >= 5)
        // The impossible CLI threshold fails the run; the profile's pass.
        #expect(!report.passed)
        #expect(report.thresholds.filter { !$0.passed }.map(\.expr) == ["throughput>1000000"])
    }

    @Test("an unreachable target is a run error")
    func unreachable() async throws {
        let server = try await StaticHTTPServer.start()
        let port = server.port
        await server.stop()
        let config = RunConfig(
            target: try Target(host: "127.0.0.1", port: port), profile: .single(name: "p", rate: 10, duration: 0.2), path: "/x",
            connections: 1, baselineSeconds: 0, progress: false
        )
        await #expect(throws: LoadTestError.self) { _ = try await LoadRunner(config: config, log: { _ in }).run() }
    }
}
