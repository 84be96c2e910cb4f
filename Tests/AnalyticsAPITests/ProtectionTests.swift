import ConnectionPool
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Postgres
import Synchronization
import TestSupport
import Testing

@testable import AnalyticsAPI

@Suite("Rate limit, request ids, metrics", .serialized)
struct ProtectionTests {
    @Test func tokenBucketPerClientAndFailOpen() async throws {
        let replica = try await makeReplica { config in
            config.rateLimitPerSecond = 0.5
            config.rateLimitBurst = 2
            config.breakerOpenMs = 60_000
            config.rateLimitExempt = AddressRanges(ranges: [])  // this machine counts here
        }
        try await withCleanup({ await replica.shutdown() }) {
            try await replica.redis.deleteKeys(matching: "analytics:v1:ratelimit:*")
            let package = try await Fixture(postgres: replica.postgres).package("limited")
            let app = try await buildApplication(replica)
            try await app.test(.live) { client in
                let statuses = try await (0..<4).asyncMap { _ in try await client.get("/api/v1/analytics/package/\(package.id)") }
                #expect(statuses.map(\.status) == [.ok, .ok, .tooManyRequests, .tooManyRequests])
                #expect(statuses[2].headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 } == true)
                #expect(statuses[2].errorCode == "rate_limited")
                // /healthz is not limited.
                #expect(try await client.get("/healthz").status == .ok)
                // Redis down: the shared bucket fails open; this process's own bucket still counts
                // (refilled after 2 s at 0.5/s: one request).
                try await Task.sleep(for: .milliseconds(2_100))
                try TestEnvironment.svc("redis", "stop")
                defer { try? TestEnvironment.svc("redis", "start") }
                #expect(try await client.get("/api/v1/analytics/package/\(package.id)").status == .ok)
                #expect(try await client.get("/api/v1/analytics/package/\(package.id)").status == .tooManyRequests)
                try TestEnvironment.svc("redis", "start")
            }
        }
    }

    @Test func slowRequestsAnswer503AtTheDeadlineAndTheirStatementIsCancelled() async throws {
        // One pooled connection: the statement of the request runs on a backend we know.
        let replica = try await makeReplica { config in
            config.requestTimeoutMs = 200
            config.postgresPoolSize = 1
        }
        try await withCleanup({ await replica.shutdown() }) {
            let package = try await Fixture(postgres: replica.postgres).package("slow")
            let backend = try #require(try await replica.postgres.query("SELECT pg_backend_pid() AS pid").first).decode("pid", as: Int.self)
            // Another session holds a lock the package query needs: the query waits.
            let locker = TestEnvironment.locker()
            defer { locker.shutdown() }
            let holding = try await TestEnvironment.holdInTransaction(
                locker, "LOCK TABLE package_trends IN ACCESS EXCLUSIVE MODE", for: .milliseconds(2500))
            try await withFreshApp(replica) { client, _ in
                let start = ContinuousClock.now
                let response = try await client.get("/api/v1/analytics/package/\(package.id)")
                #expect(response.status == .serviceUnavailable)
                #expect(response.errorCode == "timeout")
                #expect(response.headers[.retryAfter] == "1")
                #expect(ContinuousClock.now - start < .seconds(1))
            }
            // The abandoned statement does not wait for the lock until it is released: it was cancelled.
            func waitingForTheLock() async throws -> Bool {
                try await TestEnvironment.postgres().query(
                    "SELECT 1 AS waiting FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", [backend]
                ).count == 1
            }
            try await TestEnvironment.eventually("the abandoned statement stops waiting", timeout: .seconds(1)) {
                try await !waitingForTheLock()
            }
            #expect(holding.isCancelled == false)
            try await holding.value
        }
    }

    /// The write bulkhead (`PG_WRITE_POOL_SIZE`): ingestion waiting for a lock (here the fold
    /// queue's, which every insert appends to) holds its connection; a user's read beside it does not queue behind it.
    /// With one shared connection (`writePoolSize` 0) the read waits until the lock is released.
    @Test(arguments: [1, 0]) func readsDoNotQueueBehindWritesWaitingForRollupLocks(writePoolSize: Int) async throws {
        let replica = try await makeReplica { config in
            config.postgresPoolSize = 1
            config.postgresWritePoolSize = writePoolSize
            config.requestTimeoutMs = 10_000
        }
        try await withCleanup({ await replica.shutdown() }) {
            let f = Fixture(postgres: replica.postgres)
            let user = try await f.user("bulkhead-\(writePoolSize)")
            let package = try await f.package("bulkhead-\(writePoolSize)")
            let auth = Tokens.bearer(try await Tokens.sign(user: user))
            try await withFreshApp(replica) { client, _ in
                // Another session holds the fold queue against writes: the ingestion's trigger waits for it.
                let locker = TestEnvironment.locker()
                defer { locker.shutdown() }
                let holding = try await TestEnvironment.holdInTransaction(
                    locker, "LOCK TABLE usage_fold_queue IN EXCLUSIVE MODE", for: .milliseconds(2_000))
                let event = #"{"userId":"\#(user)","packageId":"\#(package.id)","model":"gpt-4o","tokensUsed":5,"durationMs":50}"#
                let ingest = Task {
                    try await client.post("/api/v1/analytics/usage", json: event, headers: Tokens.bearer(TestEnvironment.ingestToken)).status
                }
                try await TestEnvironment.eventually("the ingestion waits for the lock", timeout: .seconds(2)) {
                    try await !TestEnvironment.postgres().query(
                        "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO playground_usage%'"
                    ).isEmpty
                }
                let start = ContinuousClock.now
                let me = try await client.get("/api/v1/analytics/user/me?days=7", headers: auth)
                let waited = ContinuousClock.now - start
                #expect(me.status == .ok)
                if writePoolSize > 0 {
                    #expect(waited < .milliseconds(1_000), "the read waited \(waited) behind the write")
                } else {
                    #expect(waited >= .milliseconds(500), "one shared connection: the read queues behind the write")
                }
                try await holding.value
                #expect(try await ingest.value == .created)
            }
        }
    }

    @Test func aFullPostgresQueueIsShedAtOnceWhileCachedHitsAreServed() async throws {
        let replica = try await makeReplica { config in
            config.postgresPoolSize = 1
            config.postgresMaxQueueMs = 50
        }
        try await withCleanup({ await replica.shutdown() }) {
            let f = Fixture(postgres: replica.postgres)
            let (cached, coldA, coldB) = (try await f.package("shed-cached"), try await f.package("shed-a"), try await f.package("shed-b"))
            try await withFreshApp(replica) { client, _ in
                for package in [cached, coldA, coldB] {
                    #expect(try await client.get("/api/v1/analytics/package/\(package.id)").status == .ok)
                }
                // The only connection is busy for 600 ms; one computation queues behind it.
                let busy = Task { try await replica.postgres.withConnection { _ in _ = usleep(600_000) } }
                try await Task.sleep(for: .milliseconds(50))
                let queued = Task { try await client.get("/api/v1/analytics/package/\(coldA.id)?days=2").status }
                try await Task.sleep(for: .milliseconds(150))
                // The queue has not moved for longer than the bound: a new computation is refused at once.
                let start = ContinuousClock.now
                let shed = try await client.get("/api/v1/analytics/package/\(coldB.id)?days=2")
                #expect(shed.status == .serviceUnavailable)
                #expect(shed.errorCode == "overloaded")
                #expect(shed.headers[.retryAfter] == "1")
                #expect(ContinuousClock.now - start < .milliseconds(300))
                // Cached answers do not queue.
                let hit = try await client.get("/api/v1/analytics/package/\(cached.id)")
                #expect(hit.status == .ok && hit.cacheStatus == "HIT")
                // A busy database is not a missing one: the replica stays ready (issue 27: under
                // a flood, /readyz answered 503 and a balancer would have taken it out).
                let ready = try await client.get("/readyz")
                #expect(ready.status == .ok, "\(ready.text)")
                try await busy.value
                #expect(try await queued.value == .ok)
            }
        }
    }

    @Test func theDeadlineHonoursTheCallersCancellationAndLeavesNoTimersBehind() async throws {
        let deadline = RequestDeadline(timeout: .seconds(60))
        let started = Atomic<Bool>(false)
        let caller = Task {
            try await deadline.run {
                started.store(true, ordering: .relaxed)
                try await Task.sleep(for: .seconds(2))
                return 1
            }
        }
        try await TestEnvironment.eventually("the work started") { started.load(ordering: .relaxed) }
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }

        // 100,000 deadlines that end long before their timer: nothing stays behind.
        @Sendable func run() async throws {
            for index in 0..<50_000 {
                let value = try await RequestDeadline(timeout: .seconds(10)).run { index }
                #expect(value == index)
            }
        }
        try await run()
        let before = MemoryProbe.residentBytes()
        try await run()
        let grown = MemoryProbe.residentBytes() - before
        #expect(grown < 8 << 20, "resident memory grew by \(grown) bytes over 50,000 deadlines")
        #expect(TimerWheel.shared.pending == 0)
    }

    @Test func generatedRequestIdsAreUUIDShapedPrefixAndCounter() {
        let ids = (0..<1000).map { _ in RequestIds.next() }
        #expect(Set(ids).count == 1000)
        let prefix = String(UUID(high: RequestIds.prefix, low: 0).canonical.prefix(19))
        #expect(ids.allSatisfy { $0.hasPrefix(prefix) && UUID(uuidString: $0) != nil })
    }

    @Test func requestIdIsEchoedOrGeneratedAndMetricsCountRequests() async throws {
        try await withApp { client, _ in
            let given = try await client.get("/healthz", headers: [HTTPField.Name("X-Request-Id")!: "abc-123"])
            #expect(given.headers[HTTPField.Name("X-Request-Id")!] == "abc-123")
            let generated = try await client.get("/healthz")
            let first = try #require(generated.headers[HTTPField.Name("X-Request-Id")!])
            let second = try #require(try await client.get("/healthz").headers[HTTPField.Name("X-Request-Id")!])
            #expect(first.count == 36 && UUID(uuidString: first) != nil)
            #expect(first != second)
            let metrics = try await client.get("/metrics")
            #expect(metrics.status == .ok)
            let text = metrics.text
            #expect(text.contains("prpm_http_requests_total{"))
            #expect(text.contains(#"route="/healthz""#))
            #expect(text.contains("prpm_pool_connections"))
        }
    }
}

extension Range where Bound == Int {
    func asyncMap<T>(_ transform: (Int) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for index in self { results.append(try await transform(index)) }
        return results
    }
}

/// Issue 14 item 1: behind the balancer every request comes from its address; the rate limit
/// still counts per client (from `X-Forwarded-For` of a trusted proxy) and across replicas.
@Suite("Rate limit behind a load balancer", .serialized)
struct RateLimitBehindProxyTests {
    @Test func theClientIsTakenFromForwardedForOnlyForTrustedProxies() throws {
        typealias Limit = CountedClients
        let proxy = try SocketAddress(ipAddress: "127.0.0.1", port: 5000)
        let stranger = try SocketAddress(ipAddress: "10.0.0.5", port: 5000)
        let trusted: Set = ["127.0.0.1", "10.1.1.1"]
        #expect(Limit.key(proxy, forwardedFor: "203.0.113.7", trustedProxies: trusted) == "203.0.113.7")
        // The nearest untrusted hop: a client cannot pick its key by adding addresses in front.
        #expect(Limit.key(proxy, forwardedFor: "1.2.3.4, 203.0.113.7, 10.1.1.1", trustedProxies: trusted) == "203.0.113.7")
        // Anyone else's header is ignored.
        #expect(Limit.key(stranger, forwardedFor: "203.0.113.7", trustedProxies: trusted) == "10.0.0.5")
        #expect(Limit.key(proxy, forwardedFor: nil, trustedProxies: trusted) == "127.0.0.1")
        #expect(Limit.key(proxy, forwardedFor: "203.0.113.7", trustedProxies: []) == "127.0.0.1")
    }

    @Test func oneBucketPerClientAcrossReplicas() async throws {
        func replica() async throws -> AppDependencies {
            try await makeReplica { config in
                config.rateLimitPerSecond = 0.5
                config.rateLimitBurst = 2
                config.trustedProxies = ["127.0.0.1"]
            }
        }
        let (a, b) = (try await replica(), try await replica())
        try await withCleanup({
            await a.shutdown(); await b.shutdown()
        }) {
            try await a.redis.deleteKeys(matching: "analytics:v1:ratelimit:*")
            let package = try await Fixture(postgres: a.postgres).package("limited-cluster")
            let path = "/api/v1/analytics/package/\(package.id)"
            /// The status of one request through a live server of `deps` (a real socket from 127.0.0.1, the "balancer").
            func status(_ deps: AppDependencies, _ headers: HTTPFields) async throws -> HTTPResponse.Status {
                let app = Application(
                    router: await buildRouter(deps), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: TestEnvironment.logger)
                let box = StatusHolder()
                try await app.test(.live) { client in await box.set(try await client.get(path, headers: headers).status) }
                return await box.value
            }
            let client1: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "203.0.113.7"]
            let client2: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: "203.0.113.8"]
            #expect(try await status(a, client1) == .ok)
            #expect(try await status(b, client1) == .ok)
            // The third request of the same client, on either replica: its shared bucket is empty.
            #expect(try await status(a, client1) == .tooManyRequests)
            #expect(try await status(b, client1) == .tooManyRequests)
            // Another client behind the same balancer has a bucket of its own.
            #expect(try await status(b, client2) == .ok)
        }
    }
}

actor StatusHolder {
    var value: HTTPResponse.Status = .internalServerError
    func set(_ status: HTTPResponse.Status) { value = status }
}
