import Analytics
import AnalyticsAPI
import AnalyticsCache
import Foundation
import HTTPTypes
import HummingbirdTesting
import Postgres
import TestSupport
import Testing

/// Stops, pauses and restarts the real Redis and Postgres (Scripts/svc) under a running API.
@Suite("Faults: Redis down or hung, Postgres down", .serialized)
struct FaultTests {
    @Test func redisDownAnswersFromPostgresAndRecovers() async throws {
        let replica = try await makeReplica { config in
            config.breakerOpenMs = 300
        }
        try await withCleanup({ await replica.shutdown() }) {
            let f = Fixture(postgres: replica.postgres)
            let package = try await f.package("redis-down")
            try await withFreshApp(replica) { client, _ in
                #expect(try await client.get("/api/v1/analytics/package/\(package.id)").cacheStatus == "MISS")
                try TestEnvironment.svc("redis", "stop")
                defer { try? TestEnvironment.svc("redis", "start") }
                for _ in 0..<10 {
                    let response = try await client.get("/api/v1/analytics/package/\(package.id)")
                    #expect(response.status == .ok)
                    #expect(response.cacheStatus == "BYPASS")
                }
                #expect(replica.breaker.state != .closed)
                let ready = try await client.get("/readyz")
                #expect(ready.status == .ok)
                #expect(ready.object["degraded"] as? Bool == true)
                try TestEnvironment.svc("redis", "start")
                // Half-open probing closes the breaker again without a restart.
                var recovered = false
                for _ in 0..<40 {
                    try await Task.sleep(for: .milliseconds(100))
                    let status = try await client.get("/api/v1/analytics/package/\(package.id)").cacheStatus
                    if status == "MISS" || status == "HIT" {
                        recovered = true
                        break
                    }
                }
                #expect(recovered)
                #expect(replica.breaker.state == .closed)
            }
        }
    }

    /// With Redis stopped, the near cache keeps what was computed without it: hot package reads
    /// cost Postgres one computation per near lifetime (before: one per request, each with the
    /// site-wide ranking behind the package's rank), and answer `BYPASS`.
    @Test func redisDownComputesAHotPackageOncePerNearLifetime() async throws {
        let replica = try await makeReplica { config in
            config.breakerOpenMs = 60_000
            config.cache.nearTTL = .seconds(30)
            config.cache.publicLag = 30  // the near lifetime: min(near TTL, lag)
        }
        try await withCleanup({ await replica.shutdown() }) {
            let f = Fixture(postgres: replica.postgres)
            let package = try await f.package("redis-down-near")
            let user = try await f.user("redis-down-near")
            try await f.usage(Array(repeating: Fixture.Usage(user: user, package: package.id), count: 3))
            try await withFreshApp(replica) { client, _ in
                try TestEnvironment.svc("redis", "stop")
                defer { try? TestEnvironment.svc("redis", "start") }
                let first = try await client.get("/api/v1/analytics/package/\(package.id)")
                #expect(first.status == .ok)
                #expect(first.cacheStatus == "BYPASS")
                #expect(first.object["totalRuns"] as? Int == 3)
                let computed = replica.cache.computationCount
                for _ in 0..<10 {
                    let response = try await client.get("/api/v1/analytics/package/\(package.id)")
                    #expect(response.status == .ok)
                    #expect(response.cacheStatus == "BYPASS")
                    #expect(response.body == first.body)
                }
                #expect(replica.cache.computationCount == computed, "no recomputation while the near copy lasts")
            }
        }
    }

    /// Before: an event ingested while Redis was down left no write mark, so once Redis was back
    /// with its data (a restart that keeps it, as with persistence) the user's `user/me` cached
    /// before the outage was a `HIT` without the event, for its TTL.
    @Test func aWriteWhileRedisIsDownShowsInTheUsersAnswerOnceItIsBack() async throws {
        let replica = try await makeReplica { config in
            config.breakerOpenMs = 200
        }
        try await withCleanup({ await replica.shutdown() }) {
            let f = Fixture(postgres: replica.postgres)
            let user = try await f.user("redis-down-writer")
            let package = try await f.package("redis-down-writer")
            let auth = Tokens.bearer(try await Tokens.sign(user: user))
            try await withFreshApp(replica) { client, _ in
                let before = try await client.get("/api/v1/analytics/user/me?days=7", headers: auth)
                #expect(try before.json(UserStats.self).totalRuns == 0)
                #expect(try await client.get("/api/v1/analytics/user/me?days=7", headers: auth).cacheStatus == "HIT")
                try TestEnvironment.svc("redis", "stop-keep")
                defer { try? TestEnvironment.svc("redis", "start") }
                let event = #"{"userId":"\#(user)","packageId":"\#(package.id)","model":"gpt-4o","tokensUsed":5,"durationMs":50}"#
                #expect(
                    try await client.post("/api/v1/analytics/usage", json: event, headers: Tokens.bearer(TestEnvironment.ingestToken)).status
                        == .created)
                #expect(replica.cache.lostMarkCount >= 1)
                try TestEnvironment.svc("redis", "start")
                // Once the breaker lets calls through again, the first read records the lost mark.
                var answer: (status: String?, runs: Int)?
                for _ in 0..<50 {
                    try await Task.sleep(for: .milliseconds(100))
                    let me = try await client.get("/api/v1/analytics/user/me?days=7", headers: auth)
                    if me.cacheStatus != "BYPASS" {
                        answer = (me.cacheStatus, try me.json(UserStats.self).totalRuns)
                        break
                    }
                }
                let after = try #require(answer, "Redis answered again within 5 s")
                #expect(after.runs == 1)
                #expect(after.status == "MISS")
                #expect(replica.cache.lostMarkCount == 0)
                let metrics = try await client.get("/metrics").text.split(separator: "\n")
                let replayed = metrics.first { $0.hasPrefix("prpm_cache_write_marks_replayed_total ") }?.split(separator: " ").last
                #expect((replayed.flatMap { Double($0) } ?? 0) >= 1, "\(String(describing: replayed))")
            }
        }
    }

    @Test func hungRedisAddsOnlyTheShortTimeout() async throws {
        let replica = try await makeReplica { config in
            config.redisTimeoutMs = 50
            config.breakerOpenMs = 5_000
        }
        try await withCleanup({ await replica.shutdown() }) {
            let package = try await Fixture(postgres: replica.postgres).package("redis-hung")
            try await withFreshApp(replica) { client, _ in
                _ = try await client.get("/api/v1/analytics/package/\(package.id)")
                try TestEnvironment.svc("redis", "pause")
                defer { try? TestEnvironment.svc("redis", "resume") }
                var slowest = Duration.zero
                for _ in 0..<8 {
                    let start = ContinuousClock.now
                    let response = try await client.get("/api/v1/analytics/package/\(package.id)")
                    slowest = max(slowest, ContinuousClock.now - start)
                    #expect(response.status == .ok)
                    #expect(response.cacheStatus == "BYPASS")
                }
                try TestEnvironment.svc("redis", "resume")
                // Bounded, not a benchmark: the request never waits for the hung server itself.
                #expect(slowest < .seconds(1), "slowest request while Redis was hung: \(slowest)")
                print("hung-redis slowest request: \(slowest)")
            }
        }
    }

    @Test func postgresDownServesStaleOr503AndRecovers() async throws {
        let replica = try await makeReplica { config in
            config.cache.packageTTL = 1
            config.cache.staleGrace = 0
        }
        try await withCleanup({ await replica.shutdown() }) {
            let f = Fixture(postgres: replica.postgres)
            let cached = try await f.package("pg-down-cached")
            let cold = try await f.package("pg-down-cold")
            try await withFreshApp(replica) { client, _ in
                #expect(try await client.get("/api/v1/analytics/package/\(cached.id)").status == .ok)
                // Resolve the cold package's name while Postgres is up; its stats stay uncached.
                #expect(try await client.get("/api/v1/analytics/package/\(cold.id)?days=2").status == .ok)
                try TestEnvironment.svc("postgres", "stop")
                defer { try? TestEnvironment.svc("postgres", "start") }
                try await Task.sleep(for: .milliseconds(1100))
                let stale = try await client.get("/api/v1/analytics/package/\(cached.id)")
                #expect(stale.status == .ok)
                #expect(stale.cacheStatus == "STALE")
                let unavailable = try await client.get("/api/v1/analytics/package/\(cold.id)?days=3")
                #expect(unavailable.status == .serviceUnavailable)
                #expect(unavailable.headers[.retryAfter] != nil)
                #expect(unavailable.errorCode == "unavailable")
                let ready = try await client.get("/readyz")
                #expect(ready.status == .serviceUnavailable)
                try TestEnvironment.svc("postgres", "start")
                let back = try await client.get("/api/v1/analytics/package/\(cold.id)?days=3")
                #expect(back.status == .ok)
                #expect(back.cacheStatus == "MISS")
            }
        }
    }

    @Test func anotherReplicaServesACachedPackageByNameWhilePostgresIsDown() async throws {
        let first = try await makeReplica()
        try await withCleanup({ await first.shutdown() }) {
            let package = try await Fixture(postgres: first.postgres).package("pg-down by name")
            let byName = "/api/v1/analytics/package/\(package.name.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
            try await withFreshApp(first) { client, _ in
                let page = try await client.get(byName)
                let badge = try await client.get(byName + "/badge/runs.svg")
                #expect(page.status == .ok && badge.status == .ok)
            }
            // A replica that never saw the package (another process, or this one restarted).
            let second = try await makeReplica()
            try await withCleanup({ await second.shutdown() }) {
                try TestEnvironment.svc("postgres", "stop")
                defer { try? TestEnvironment.svc("postgres", "start") }
                try await withFreshApp(second) { client, _ in
                    let page = try await client.get(byName)
                    #expect(page.status == .ok)
                    #expect(try page.json(PackageStats.self).packageId == package.id)
                    #expect(try await client.get(byName + "/badge/runs.svg").status == .ok)
                    // A write cannot be served from a cache: 503 with Retry-After.
                    let write = try await client.post(
                        "/api/v1/analytics/usage", json: #"{"events":[{"userId":"\#(UUID())","model":"m","tokensUsed":1,"durationMs":1}]}"#,
                        headers: Tokens.bearer(TestEnvironment.ingestToken))
                    #expect(write.status == .serviceUnavailable)
                    #expect(write.headers[.retryAfter] != nil)
                }
                try TestEnvironment.svc("postgres", "start")
            }
        }
    }

    @Test func aComputationPastTheDeadlineFallsBackToTheStaleCopy() async throws {
        let replica = try await makeReplica { config in
            config.requestTimeoutMs = 300
            config.cache.packageTTL = 1
            config.cache.staleGrace = 0
        }
        try await withCleanup({ await replica.shutdown() }) {
            let package = try await Fixture(postgres: replica.postgres).package("deadline-stale")
            let locker = TestEnvironment.locker()
            defer { locker.shutdown() }
            try await withFreshApp(replica) { client, _ in
                #expect(try await client.get("/api/v1/analytics/package/\(package.id)").status == .ok)
                try await Task.sleep(for: .milliseconds(1100))
                // The recomputation waits for a lock past the deadline: the old copy is served.
                let holding = try await TestEnvironment.holdInTransaction(
                    locker, "LOCK TABLE package_trends IN ACCESS EXCLUSIVE MODE", for: .seconds(1))
                let answer = try await client.get("/api/v1/analytics/package/\(package.id)")
                #expect(answer.status == .ok)
                #expect(answer.cacheStatus == "STALE")
                try await holding.value
            }
        }
    }
}
