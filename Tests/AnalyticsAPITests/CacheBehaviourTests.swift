import Analytics
import AnalyticsAPI
import AnalyticsCache
import Foundation
import HTTPTypes
import HummingbirdTesting
import Redis
import TestSupport
import Testing

/// Dependencies with their own cache settings (a "replica" of the service).
func makeReplica(_ configure: (inout AppConfig) -> Void = { _ in }) async throws -> AppDependencies {
    _ = try await TestEnvironment.postgres()
    var config = SharedApp.config()
    configure(&config)
    return try AppDependencies(config: config, logger: TestEnvironment.logger)
}

extension TestResponse {
    var cacheStatus: String? { headers[HTTPField.Name("X-Cache")!] }
}

@Suite("Redis cache: single-flight, stale-while-revalidate, freshness under writes", .serialized)
struct CacheBehaviourTests {
    @Test func twoHundredConcurrentColdReadsComputeOncePerReplica() async throws {
        // Generous Redis timeouts: this test is about single-flight, not about a slow Redis
        // (a loaded CI machine must not turn some answers into BYPASS).
        let replicaA = try await makeReplica { $0.redisTimeoutMs = 2_000 }
        let replicaB = try await makeReplica { $0.redisTimeoutMs = 2_000 }
        try await withCleanup({
            await replicaA.shutdown(); await replicaB.shutdown()
        }) {
            let f = Fixture(postgres: replicaA.postgres)
            let package = try await f.package("thundering-herd")
            let user = try await f.user("herd")
            try await f.usage((0..<20).map { _ in Fixture.Usage(user: user, package: package.id) })
            // The site-wide ranking behind `popularityRank` is an answer of its own: computed
            // once beforehand (through another package), it is not counted below.
            let warm = try await f.package("thundering-herd-warm")
            try await f.usage([Fixture.Usage(user: user, package: warm.id)])
            try await withFreshApp(replicaA) { client, _ in
                let warmed = try await client.get("/api/v1/analytics/package/\(warm.id)?days=11")
                #expect(warmed.status == .ok)
            }
            let (beforeA, beforeB) = (replicaA.cache.computationCount, replicaB.cache.computationCount)
            let statuses = try await withThrowingTaskGroup(of: [String].self) { group in
                for replica in [replicaA, replicaB] {
                    group.addTask {
                        let collected = StatusBox()
                        try await withFreshApp(replica) { client, _ in
                            try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { requests in
                                for _ in 0..<100 {
                                    requests.addTask {
                                        let response = try await client.get("/api/v1/analytics/package/\(package.id)?days=11")
                                        return (response.status, response.cacheStatus)
                                    }
                                }
                                for try await (status, cache) in requests {
                                    #expect(status == .ok)
                                    await collected.add(cache ?? "-")
                                }
                            }
                        }
                        return await collected.values
                    }
                }
                var all: [String] = []
                for try await values in group { all += values }
                return all
            }
            #expect(statuses.count == 200)
            let computedA = replicaA.cache.computationCount - beforeA
            let computedB = replicaB.cache.computationCount - beforeB
            #expect(computedA <= 1 && computedB <= 1, "per replica at most one Postgres computation (A \(computedA), B \(computedB))")
            #expect(computedA + computedB >= 1)
            #expect(Set(statuses).isSubset(of: ["MISS", "HIT"]))
        }
    }

    @Test func staleWhileRevalidate() async throws {
        let replica = try await makeReplica { config in
            config.cache.packageTTL = 1
            config.cache.staleGrace = 60
        }
        try await withCleanup({ await replica.shutdown() }) {
            let f = Fixture(postgres: replica.postgres)
            let package = try await f.package("swr")
            let user = try await f.user("swr")
            try await withFreshApp(replica) { client, _ in
                #expect(try await client.get("/api/v1/analytics/package/\(package.id)").cacheStatus == "MISS")
                try await f.usage([Fixture.Usage(user: user, package: package.id)])
                try await Task.sleep(for: .milliseconds(1100))
                let stale = try await client.get("/api/v1/analytics/package/\(package.id)")
                #expect(stale.cacheStatus == "STALE")
                #expect(try stale.json(PackageStats.self).totalRuns == 0)
                // Stale: nothing left of its freshness for any cache on the way, but CDNs may serve it while they revalidate.
                #expect(stale.cacheDirectives["max-age"] == 0 && stale.freshSecondsLeft.map { $0 <= 0 } == true)
                #expect(stale.cacheDirectives["stale-while-revalidate"] == 60)
                // One background refresh replaced the entry.
                var refreshed: TestResponse?
                for _ in 0..<50 {
                    try await Task.sleep(for: .milliseconds(20))
                    let response = try await client.get("/api/v1/analytics/package/\(package.id)")
                    if response.cacheStatus == "HIT" {
                        refreshed = response
                        break
                    }
                }
                #expect(try #require(refreshed).json(PackageStats.self).totalRuns == 1)
            }
        }
    }

    /// Section 6: a write does not delete shared answers (they keep being served, and show the
    /// write within the lag); the writer's own `user/me` shows it on the next read.
    @Test func ingestionShowsAtOnceForTheUserAndWithinTheLagForSharedAnswers() async throws {
        let replica = try await makeReplica { $0.cache.publicLag = 1 }
        try await withCleanup({ await replica.shutdown() }) {
            try await withFreshApp(replica) { client, deps in
                let f = Fixture(postgres: deps.postgres)
                let user = try await f.user("writer")
                let org = try await f.organization("writers")
                try await f.member(org: org, user: user, role: "owner", team: "core")
                let package = try await f.package("lagged")
                let auth = Tokens.bearer(try await Tokens.sign(user: user))
                for days in [7, 30] {
                    _ = try await client.get("/api/v1/analytics/package/\(package.id)?days=\(days)")
                    _ = try await client.get("/api/v1/analytics/user/me?days=\(days)", headers: auth)
                    _ = try await client.get("/api/v1/analytics/organization/\(org)?days=\(days)", headers: auth)
                }
                #expect(try await client.get("/api/v1/analytics/user/me?days=7", headers: auth).cacheStatus == "HIT")
                let event = #"{"userId":"\#(user)","orgId":"\#(org)","packageId":"\#(package.id)","model":"gpt-4o","tokensUsed":5,"durationMs":50}"#
                #expect(
                    try await client.post("/api/v1/analytics/usage", json: event, headers: Tokens.bearer(TestEnvironment.ingestToken)).status
                        == .created)
                let due = ContinuousClock.now + .seconds(1)
                for days in [7, 30] {
                    // Read-your-writes for the user the event belongs to.
                    let me = try await client.get("/api/v1/analytics/user/me?days=\(days)", headers: auth)
                    #expect(me.cacheStatus == "MISS")
                    #expect(try me.json(UserStats.self).totalRuns == 1)
                    // Shared answers were not deleted: inside the lag the previous answer is a HIT.
                    let packageRead = try await client.get("/api/v1/analytics/package/\(package.id)?days=\(days)")
                    if ContinuousClock.now < due {
                        #expect(packageRead.cacheStatus == "HIT")
                        #expect(try packageRead.json(PackageStats.self).totalRuns == 0)
                    }
                }
                try await Task.sleep(until: due + .milliseconds(5))
                for days in [7, 30] {
                    var packageRuns = 0
                    var orgRuns = 0
                    for _ in 0..<100 where packageRuns == 0 || orgRuns == 0 {
                        let packageRead = try await client.get("/api/v1/analytics/package/\(package.id)?days=\(days)")
                        let orgRead = try await client.get("/api/v1/analytics/organization/\(org)?days=\(days)", headers: auth)
                        packageRuns = try packageRead.json(PackageStats.self).totalRuns
                        orgRuns = try orgRead.json(OrganizationStats.self).totalRuns
                        // Past the lag the old answers are served only as STALE, while one refresh runs.
                        if packageRuns == 0 { #expect(packageRead.cacheStatus == "STALE") }
                        if orgRuns == 0 { #expect(orgRead.cacheStatus == "STALE") }
                        if packageRuns == 0 || orgRuns == 0 { try await Task.sleep(for: .milliseconds(20)) }
                    }
                    #expect(packageRuns == 1)
                    #expect(orgRuns == 1)
                }
                // Private entries live under the caller's own id only; the write marked the entities.
                let key = RedisKeyspace.entry(.user, entity: user.canonical, days: 7)
                #expect(try await deps.redis.command("EXISTS", key) == .integer(1))
                #expect(try await deps.redis.command("EXISTS", CacheKey.writtenKey(ofEntity: "package:\(package.id.canonical)")) == .integer(1))
            }
        }
    }

    /// Defect 2 against the real Redis: a computation that started before a write and stored
    /// its answer after it is not served as fresh once the write is due.
    @Test func aSlowComputationDoesNotResurrectOldDataInRedis() async throws {
        let replica = try await makeReplica { $0.cache.publicLag = 1 }
        try await withCleanup({ await replica.shutdown() }) {
            let userId = UUID()
            let key = CacheKey(endpoint: .user, entityId: userId, days: 30)
            let slow = Task {
                try await replica.cache.read(key) {
                    try await Task.sleep(for: .milliseconds(300))
                    return Array("before".utf8)
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            var affected = AffectedEntities()
            affected.userIds = [userId]
            await replica.cache.recordWrite(affected)
            #expect(try await slow.value.entry.body == Array("before".utf8))
            let next = try await replica.cache.read(key) { Array("after".utf8) }
            #expect(next.status == .miss)
            #expect(next.entry.body == Array("after".utf8))
        }
    }

    @Test func packageReadsFeedTheHotSet() async throws {
        try await withApp { client, deps in
            let package = try await Fixture(postgres: deps.postgres).package("hot")
            for _ in 0..<3 { _ = try await client.get("/api/v1/analytics/package/\(package.id)") }
            await deps.hotReads.flush()
            let score = try await deps.redis.command("ZSCORE", RedisKeyspace.hotPackages, package.id.uuidString.lowercased())
            #expect(Double(score.string ?? "") ?? 0 >= 3)
        }
    }
}

actor StatusBox {
    var values: [String] = []
    func add(_ value: String) { values.append(value) }
}
