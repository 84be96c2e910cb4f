import AnalyticsAPI
import Foundation
import Hummingbird
import HummingbirdTesting
import LoadTestCore
import TestSupport
import Testing

/// The harness against the real API (live HTTP server on a loopback port, real Postgres and
/// Redis): the report's counts must equal the server's own request counter.
@Suite("prpm-loadtest against the real server", .serialized)
struct SmokeAgainstRealServerTests {
    @Test func smokeMixCountsMatchTheServersCounter() async throws {
        _ = try await TestEnvironment.postgres()
        var config = AppConfig()
        config.databaseURL = TestEnvironment.databaseURL
        config.redisURL = TestEnvironment.redisURL
        config.jwtSecret = TestEnvironment.jwtSecret
        config.ingestToken = TestEnvironment.ingestToken
        let deps = try AppDependencies(config: config, logger: TestEnvironment.logger)
        try await withCleanup({ await deps.shutdown() }) {

            // A small world: 5 packages, 3 users, an org with its admin, usage rows to rate.
            let f = Fixture(postgres: deps.postgres)
            var packages: [[String: String]] = []
            for index in 0..<5 {
                let package = try await f.package("lt-\(index)")
                packages.append(["id": package.id.uuidString.lowercased(), "name": package.name])
            }
            let users = [try await f.user("lt-a"), try await f.user("lt-b"), try await f.user("lt-c")]
            let org = try await f.organization("lt-org")
            try await f.member(org: org, user: users[0], role: "owner", team: "core")
            var usage: [[String: String]] = []
            for (index, user) in users.enumerated() {
                let id = UUID(uuidString: packages[index]["id"]!)!
                for usageId in try await f.usage((0..<3).map { _ in Fixture.Usage(user: user, package: id, org: org) }) {
                    usage.append([
                        "id": usageId.uuidString.lowercased(), "userId": user.uuidString.lowercased(), "packageId": id.uuidString.lowercased(),
                    ])
                }
            }
            let fixtures: [String: Any] = [
                "packages": packages, "users": users.map { $0.uuidString.lowercased() },
                "orgs": [["id": org.uuidString.lowercased(), "admin": users[0].uuidString.lowercased()]], "usage": usage,
            ]
            let fixturesPath = FileManager.default.temporaryDirectory.appendingPathComponent("lt-fixtures-\(f.tag).json").path
            try JSONSerialization.data(withJSONObject: fixtures).write(to: URL(fileURLWithPath: fixturesPath))

            let app = Application(
                router: await buildRouter(deps), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: TestEnvironment.logger)
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let profile = Profile(
                    name: "smoke-test", days: [7, 30],
                    phases: [PhaseSpec(name: "warmup", duration: 1, rate: 80, record: false), PhaseSpec(name: "steady", duration: 3, rate: 150)],
                    thresholds: ["errors<1%"])
                let runner = LoadRunner(
                    config: RunConfig(
                        target: try Target(host: "127.0.0.1", port: port), profile: profile, connections: 8, fixturesPath: fixturesPath,
                        jwtSecret: TestEnvironment.jwtSecret, ingestToken: TestEnvironment.ingestToken, baselineSeconds: 1,
                        scrapeIntervalSeconds: 1, progress: false),
                    log: { _ in })
                let report = try await runner.run()
                #expect(report.requests > 300)
                #expect(report.errors == 0, "errors by status: \(report.errorsByStatus)")
                #expect(report.passed)
                #expect(report.server.available)
                #expect(report.server.requestsCountedByServer == report.server.harnessRequestsSent)
                #expect(report.cache.hit + report.cache.miss > 0)
                #expect(Set(report.perScenario.keys).isSuperset(of: ["package", "badge", "me", "org"]))
            }
        }
    }
}
