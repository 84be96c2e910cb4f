import Analytics
import AnalyticsAPI
import AnalyticsCache
import AnalyticsRuntime
import Foundation
import HTTPTypes
import TestSupport
import Testing

/// Issue 14 item 3: with `DATABASE_READ_URL`, cache misses of public answers are computed on a
/// streaming hot standby while its lag is within `DATABASE_READ_MAX_LAG_S`; personal answers
/// (read-your-writes) and everything while the standby lags or is down read the primary.
@Suite("Reads from a hot standby", .serialized)
struct StandbyTests {
    @Test func theGateOpensOnlyWithinTheAllowedLag() {
        let gate = StandbyGate(maxLag: .seconds(5))
        #expect(!gate.isUsable, "closed until a check succeeds")
        gate.record(lagSeconds: 0)
        #expect(gate.isUsable)
        gate.record(lagSeconds: 4.9)
        #expect(gate.isUsable && gate.lagSeconds == 4.9)
        gate.record(lagSeconds: 5.1)
        #expect(!gate.isUsable)
        gate.record(lagSeconds: nil)
        #expect(!gate.isUsable && gate.lagSeconds == nil)
    }

    @Test func publicAnswersComputedFromTheStandbyAreStoredAsOlderByTheAllowance() async throws {
        var policy = CachePolicy()
        policy.replicaLagAllowance = .seconds(3)
        let store = InMemoryCacheStore()
        let cache = ResponseCache(store: store, breaker: CircuitBreaker(), policy: policy, logger: TestEnvironment.logger)
        let before = CacheClock.snapshot()
        let package = try await cache.read(CacheKey(endpoint: .package, entityId: UUID(), days: 30)) { Array("{}".utf8) }
        let user = try await cache.read(CacheKey(endpoint: .user, entityId: UUID(), days: 30)) { Array("{}".utf8) }
        // A write made up to 3 s before the computation may be missing from a standby's data:
        // the public entry counts as that much older, so that write still makes it stale.
        #expect(package.entry.snapshot <= before - 3000 + 50 && package.entry.snapshot >= before - 3000)
        #expect(user.entry.snapshot >= before)
    }

    @Test func missesReadTheStandbyWhileItKeepsUpAndThePrimaryOtherwise() async throws {
        try TestEnvironment.svc("standby", "start")
        // Stopped afterwards: a standby left running holds the primary's xmin back (hot_standby_feedback),
        // which made every later benchmark on this machine slower (docs/performance.md).
        defer { try? TestEnvironment.svc("standby", "stop") }
        let replica = try await makeReplica { config in
            config.databaseReadURL = TestEnvironment.standbyURL
            config.standbyMaxLag = .seconds(2)
            config.cache.packageTTL = 1
            config.cache.userTTL = 1
        }
        // The standby's lag monitor runs while the runtime's background services run.
        try await withCleanup({ await replica.shutdown() }) {
            try await withServices(replica.runtime.backgroundServices) {
                let gate = try #require(replica.standbyGate)
                let f = Fixture(postgres: replica.postgres)
                let user = try await f.user("standby")
                let package = try await f.package("standby")
                try await f.usage([Fixture.Usage(user: user, package: package.id)])
                try await TestEnvironment.eventually("the standby has caught up and is in use", timeout: .seconds(10)) {
                    guard gate.isUsable else { return false }
                    let stats = try? await replica.reading.packageStats(
                        PackageRef(id: package.id, name: package.name), window: AnalyticsWindow(days: 30))
                    return stats?.totalRuns == 1
                }
                // Replay paused: the standby stops at 1 run, the primary gets a second.
                try TestEnvironment.svc("standby", "pause")
                try await f.usage([Fixture.Usage(user: user, package: package.id)])
                let ref = PackageRef(id: package.id, name: package.name)
                let window = AnalyticsWindow(days: 30)
                if gate.isUsable {
                    // Within the allowed lag, the public answer comes from the standby...
                    #expect(try await replica.reading.packageStats(ref, window: window).totalRuns == 1)
                }
                // ...while the user's own answer always reads the primary.
                #expect(try await replica.reading.userStats(userId: user, window: window).totalRuns == 2)
                // Past the allowed lag, the primary answers.
                try await TestEnvironment.eventually("the lag passes its bound", timeout: .seconds(10)) { !gate.isUsable }
                #expect((gate.lagSeconds ?? 0) > 2)
                #expect(try await replica.reading.packageStats(ref, window: window).totalRuns == 2)
                // The lag is in /metrics.
                try await withFreshApp(replica) { client, _ in
                    let metrics = try await client.get("/metrics").text
                    #expect(metrics.contains("prpm_postgres_standby_lag_seconds"))
                }
                // Replay resumed: back to the standby, which now has both runs.
                try TestEnvironment.svc("standby", "resume")
                try await TestEnvironment.eventually("the standby is used again", timeout: .seconds(10)) { gate.isUsable }
                #expect(try await replica.reading.packageStats(ref, window: window).totalRuns == 2)
                // Standby down: the primary answers at once (the failed query closes the gate).
                try TestEnvironment.svc("standby", "stop")
                try await f.usage([Fixture.Usage(user: user, package: package.id)])
                #expect(try await replica.reading.packageStats(ref, window: window).totalRuns == 3)
                #expect(!gate.isUsable)
            }
        }
    }
}
