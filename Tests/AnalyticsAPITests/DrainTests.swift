import Foundation
import TestSupport
import Testing

/// Issue 14 item 1: a replica behind a load balancer leaves its rotation on SIGTERM before it
/// stops: `/readyz` answers 503 `draining` for `SHUTDOWN_DRAIN_S` while requests are still
/// served, then the process exits. (A real `serve` process, as the balancer sees it.)
@Suite("Graceful drain on SIGTERM", .serialized)
struct DrainTests {
    /// `curl`'s status code for `url` ("000" when nothing answers).
    static func status(_ url: String) -> String {
        guard let pipe = popen("curl -s -o /dev/null -m 2 -w '%{http_code}' '\(url)'", "r") else { return "" }
        defer { pclose(pipe) }
        var buffer = [CChar](repeating: 0, count: 16)
        guard fgets(&buffer, 16, pipe) != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test func readinessFailsFirstThenTheServerStops() async throws {
        let binary = TestEnvironment.repositoryRoot.appendingPathComponent(".build/debug/prpm-analytics").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the CLI first (Scripts/test does)")
        let port = Int.random(in: 20_000..<30_000)
        let base = "http://127.0.0.1:\(port)"
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("drain-\(port).pid").path
        let environment = [
            "DATABASE_URL=\(TestEnvironment.databaseURL)", "REDIS_URL=\(TestEnvironment.redisURL)", "PORT=\(port)",
            "JWT_SECRET=\(TestEnvironment.jwtSecret)", "SHUTDOWN_DRAIN_S=2", "LOG_LEVEL=error",
        ].joined(separator: " ")
        #expect(system("env \(environment) '\(binary)' serve >/dev/null 2>&1 & echo $! > '\(pidFile)'") == 0)
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(pid, SIGKILL) }
        try await TestEnvironment.eventually("the replica is ready", timeout: .seconds(20)) { Self.status(base + "/readyz") == "200" }

        let sent = ContinuousClock.now
        #expect(kill(pid, SIGTERM) == 0)
        try await TestEnvironment.eventually("readiness fails", timeout: .seconds(1)) { Self.status(base + "/readyz") == "503" }
        // Still serving while the balancer takes it out of rotation.
        #expect(Self.status(base + "/healthz") == "200")
        #expect(Self.status(base + "/api/v1/analytics/trending") == "200")
        #expect(kill(pid, 0) == 0, "still running during the drain")
        // Then it stops: after the drain, not before.
        try await TestEnvironment.eventually("the process exits", timeout: .seconds(10)) { kill(pid, 0) != 0 }
        #expect(ContinuousClock.now - sent >= .seconds(2))
    }
}
