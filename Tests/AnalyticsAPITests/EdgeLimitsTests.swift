import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import TestSupport
import Testing

@testable import AnalyticsAPI

/// Issue 27 item 3: limits that protect the service by default, without limiting this
/// machine (a load test) or the ingestion collector.
@Suite("Edge limits", .serialized)
struct EdgeLimitsTests {
    static func forwarded(_ address: String) -> HTTPFields { [HTTPField.Name("X-Forwarded-For")!: address] }

    @Test func clientsAreCountedByAddressAndIPv6ByItsSlash64() throws {
        let a = try #require(IPAddress("2001:db8:1:2:aaaa::1"))
        let b = try #require(IPAddress("2001:DB8:1:2:ffff:ffff:ffff:fffe"))
        let c = try #require(IPAddress("2001:db8:1:3::1"))
        #expect(a.clientKey == "2001:db8:1:2::/64")
        #expect(a.clientKey == b.clientKey)
        #expect(a.clientKey != c.clientKey)
        // An IPv4-mapped address is the IPv4 client; a zone does not make another client.
        #expect(IPAddress("::ffff:203.0.113.9")?.clientKey == "203.0.113.9")
        #expect(IPAddress("fe80::1%eth0")?.clientKey == IPAddress("fe80::1")?.clientKey)
        for junk in ["", "1.2.3", "203.0.113.9.1", "::g", "unknown", String(repeating: "1", count: 100), "1.2.3.4\u{0}"] {
            #expect(IPAddress(junk) == nil, "\(junk)")
        }
        let ranges = try #require(AddressRanges(parsing: "127.0.0.0/8, ::1, 10.20.0.0/15, 2001:db8::/32"))
        #expect(ranges.contains(IPAddress("127.8.9.10")!))
        #expect(ranges.contains(IPAddress("10.21.255.1")!))
        #expect(!ranges.contains(IPAddress("10.22.0.1")!))
        #expect(ranges.contains(IPAddress("2001:db8:ffff::1")!))
        #expect(!ranges.contains(IPAddress("2001:db9::1")!))
        #expect(!ranges.contains(IPAddress("::2")!))
        #expect(AddressRanges(parsing: "10.0.0.0/33") == nil)
        #expect(AddressRanges(parsing: "10.0.0.0/8, nonsense") == nil)
    }

    /// A stranger's 8 KB path makes a bounded log line.
    @Test func longPathsAreLoggedCut() {
        let long = "/packages/" + String(repeating: "a", count: 8_000)
        let logged = RequestMiddleware<AppRequestContext>.loggable(long)
        #expect(logged.utf8.count < 300)
        #expect(logged.hasPrefix("/packages/aaa") && logged.hasSuffix("(8010 bytes)"))
        #expect(RequestMiddleware<AppRequestContext>.loggable("/healthz") == "/healthz")
    }

    @Test func limitsAreOnByDefaultAndTheSettingsAreChecked() throws {
        let config = try AppConfig(environment: [:])
        #expect(config.rateLimitPerSecond > 0)
        #expect(config.rateLimitBucket >= config.rateLimitPerSecond)
        #expect(config.rateLimitExempt == .loopback)
        #expect(config.connections.maxPerClient < config.connections.maxConnections)
        #expect(throws: (any Error).self) { try AppConfig(environment: ["RATE_LIMIT_EXEMPT": "10.0.0.0/99"]) }
        #expect(try AppConfig(environment: ["RATE_LIMIT_RPS": "0"]).rateLimitPerSecond == 0)
    }

    /// Before: no limit unless `RATE_LIMIT_RPS` was set, and then on `/api/` only, every IPv6
    /// address a bucket of its own, and the collector limited like a stranger.
    @Test func strangersAreLimitedEverywhereButHealthzAndThisMachineAndTheCollectorAreNot() async throws {
        let replica = try await makeReplica { config in
            config.rateLimitPerSecond = 0.5  // slow refill: the test's own pace cannot refill a bucket
            config.rateLimitBurst = 3
            config.trustedProxies = ["127.0.0.1"]
        }
        try await withCleanup({ await replica.shutdown() }) {
            try await replica.redis.deleteKeys(matching: "analytics:v1:ratelimit:*")
            let package = try await Fixture(postgres: replica.postgres).package("edge-limited")
            let app = try await buildApplication(replica)
            try await app.test(.live) { client in
                let stranger = Self.forwarded("198.51.100.7")
                let api = "/api/v1/analytics/package/\(package.id)"
                for _ in 0..<3 { #expect(try await client.get(api, headers: stranger).status == .ok) }
                let limited = try await client.get(api, headers: stranger)
                #expect(limited.status == .tooManyRequests)
                #expect(limited.headers[.retryAfter] != nil)
                // Pages and operations count too; /healthz never.
                #expect(try await client.get("/packages/\(package.name)", headers: stranger).status == .tooManyRequests)
                #expect(try await client.get("/readyz", headers: stranger).status == .tooManyRequests)
                #expect(try await client.get("/healthz", headers: stranger).status == .ok)
                // The collector's token is not limited per address (an empty batch is its own 4xx).
                let ingest = try await client.post(
                    "/api/v1/analytics/usage", json: "[]",
                    headers: stranger.merging([.authorization: "Bearer \(replica.config.ingestToken)"]))
                #expect(ingest.status != .tooManyRequests)
                #expect(ingest.status.code < 500)
                // This machine is not limited.
                for _ in 0..<10 { #expect(try await client.get(api).status == .ok) }
                // IPv6: one bucket per /64.
                let v6 = (1...3).map { Self.forwarded("2001:db8:7:7::\($0)") }
                for headers in v6 { #expect(try await client.get(api, headers: headers).status == .ok) }
                #expect(try await client.get(api, headers: Self.forwarded("2001:db8:7:7:ffff::1")).status == .tooManyRequests)
                #expect(try await client.get(api, headers: Self.forwarded("2001:db8:7:8::1")).status == .ok)
            }
            let keys = try await replica.redis.command("KEYS", "analytics:v1:ratelimit:*").array?.compactMap(\.string) ?? []
            #expect(
                Set(keys) == [
                    "analytics:v1:ratelimit:198.51.100.7", "analytics:v1:ratelimit:2001:db8:7:7::/64", "analytics:v1:ratelimit:2001:db8:7:8::/64",
                ])
        }
    }

    /// Issue 27 item 2: a client walking through `days` values makes a bounded number of cache
    /// entries and computations. Before: every window a computation and a key kept for an hour.
    @Test func unusualWindowsAreBudgetedPerClient() async throws {
        let replica = try await makeReplica { config in
            config.trustedProxies = ["127.0.0.1"]
            config.rateLimitPerSecond = 0
            config.windowBudgetBurst = 3
            config.windowBudgetPerMinute = 1
        }
        try await withCleanup({ await replica.shutdown() }) {
            let package = try await Fixture(postgres: replica.postgres).package("window-budget")
            let app = try await buildApplication(replica)
            try await app.test(.live) { client in
                let stranger = Self.forwarded("198.51.100.77")
                let api = "/api/v1/analytics/package/\(package.id)"
                for days in [45, 46, 47] { #expect(try await client.get("\(api)?days=\(days)", headers: stranger).status == .ok) }
                let refused = try await client.get("\(api)?days=48", headers: stranger)
                #expect(refused.status == .tooManyRequests)
                #expect(refused.errorCode == "window_budget")
                #expect(refused.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 } == true)
                #expect(try await client.get("\(api)/badge/runs.svg?days=49", headers: stranger).status == .tooManyRequests)
                #expect(try await client.get("/api/v1/analytics/popular?days=50", headers: stranger).status == .tooManyRequests)
                // The usual windows, another client and this machine are not affected.
                for days in [7, 30, 90, 365] { #expect(try await client.get("\(api)?days=\(days)", headers: stranger).status == .ok) }
                #expect(try await client.get("\(api)?days=48", headers: Self.forwarded("198.51.100.78")).status == .ok)
                #expect(try await client.get("\(api)?days=51").status == .ok)
                // A malformed window is still the handler's 400, not a budget matter.
                #expect(try await client.get("\(api)?days=abc", headers: stranger).status == .badRequest)
            }
            let keys =
                try await replica.redis.command("KEYS", "analytics:v1:package:\(package.id.uuidString.lowercased()):*").array?.compactMap(\.string)
                ?? []
            #expect(Set(keys.compactMap { $0.split(separator: ":").last.flatMap { Int($0) } }) == [45, 46, 47, 7, 30, 90, 365, 48, 51])
        }
    }

    @Test func oneAddressCannotTakeEveryConnection() async throws {
        let counter = ConnectionCounter(limit: 100, perClient: 2, exempt: .loopback)
        let stranger = try SocketAddress(ipAddress: "203.0.113.5", port: 1)
        let local = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        let key = try #require(counter.client(stranger))
        #expect(counter.client(local) == nil)
        #expect(counter.admit(client: key) && counter.admit(client: key))
        #expect(!counter.admit(client: key))
        #expect(counter.admit(client: counter.client(try SocketAddress(ipAddress: "203.0.113.6", port: 1))))
        counter.leave(client: key)
        #expect(counter.admit(client: key))
        counter.leave(client: key)
        counter.leave(client: key)
        #expect(counter.clientsOpen == 1)

        // A live server, this machine not exempt: 127.0.0.2 may hold 3 connections.
        let replica = try await makeReplica { config in
            config.connections.maxPerClient = 3
            config.rateLimitExempt = AddressRanges(ranges: [])
        }
        try await withCleanup({ await replica.shutdown() }) {
            let app = try await buildApplication(replica)
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let held = try (0..<3).map { _ in try RawClient(port: port, source: "127.0.0.2") }
                try await Task.sleep(for: .milliseconds(100))
                let beyond = try RawClient(port: port, source: "127.0.0.2")
                #expect(beyond.isClosedByServer(within: .seconds(1)))
                #expect(held.filter { $0.isClosedByServer(within: .milliseconds(1)) }.isEmpty)
                // Another address is not affected.
                let other = try RawClient(port: port, source: "127.0.0.3")
                other.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(other.statusLine() == "HTTP/1.1 200 OK")
            }
        }
    }

    @Test func readinessIsCheckedAtMostOnceASecond() async throws {
        let checks = Atomic<Int>(0)
        let probe = CachedProbe<Int>(maxAge: .milliseconds(300)) {
            try? await Task.sleep(for: .milliseconds(20))
            return checks.add(1, ordering: .relaxed).newValue
        }
        let first = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<200 { group.addTask { await probe.value() } }
            return await group.reduce(into: Set<Int>()) { $0.insert($1) }
        }
        #expect(first == [1])
        #expect(checks.load(ordering: .relaxed) == 1)
        try await Task.sleep(for: .milliseconds(350))
        #expect(await probe.value() == 2)

        // Through the server: a flood of /readyz is answered from the one check.
        try await withApp { client, _ in
            let statuses = try await (0..<50).asyncMap { _ in try await client.get("/readyz").status }
            #expect(Set(statuses) == [.ok])
        }
    }

    @Test func metricsAnswerThisMachineOrTheToken() async throws {
        func statuses(token: String) async throws -> [HTTPResponse.Status] {
            let replica = try await makeReplica { config in
                config.trustedProxies = ["127.0.0.1"]
                config.metricsToken = token
                config.rateLimitPerSecond = 0
            }
            return try await withCleanup({ await replica.shutdown() }) {
                let app = try await buildApplication(replica)
                let box = Mutex<[HTTPResponse.Status]>([])
                try await app.test(.live) { client in
                    let outside = Self.forwarded("203.0.113.50")
                    let local = try await client.get("/metrics")
                    #expect(local.text.contains("process_resident_memory_bytes"))
                    let answers = [
                        local.status, try await client.get("/metrics", headers: outside).status,
                        try await client.get("/metrics", headers: outside.merging([.authorization: "Bearer wrong"])).status,
                        try await client.get("/metrics", headers: outside.merging([.authorization: "Bearer \(token)"])).status,
                    ]
                    box.withLock { $0 = answers }
                }
                return box.withLock { $0 }
            }
        }
        #expect(try await statuses(token: "") == [.ok, .forbidden, .forbidden, .forbidden])
        #expect(try await statuses(token: "s3cret-metrics") == [.ok, .unauthorized, .unauthorized, .ok])
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var fields = self
        for field in other { fields[field.name] = field.value }
        return fields
    }
}
