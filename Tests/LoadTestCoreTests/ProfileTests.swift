import Foundation
import Testing

@testable import LoadTestCore

private let profilesDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("LoadTests/profiles")

@Suite("Profiles, fixtures and targets")
struct ProfileTests {
    @Test("a full profile decodes with every field")
    func decodeAllFields() throws {
        let json = """
            {"name":"x","mix":{"package":60,"badge":15,"me":10,"org":5,"feedback":5,"ingest":5},"days":[7,30,90],"zipf_s":1.1,
             "connections":8,"timeout":2.5,"seed":42,"ingest_batch":20,"baseline":1,
             "phases":[{"name":"warmup","duration":3,"rate":100,"record":false},
                       {"name":"steady","duration":15,"rate":200},
                       {"name":"closed","duration":5,"path":"/healthz"},
                       {"name":"stepup","rate_start":100,"rate_step":50,"step_duration":5,"max_rate":300,"stop_when":["p99<50ms","errors<1%"]},
                       {"name":"redis-down","duration":10,"rate":200,"before":"Scripts/svc redis stop","after":"Scripts/svc redis start",
                        "recovery":5,"command_timeout":30,"check":["errors<1%"]}],
             "thresholds":["p99<25ms","errors<0.5%"]}
            """
        let p = try JSONDecoder().decode(Profile.self, from: Data(json.utf8))
        try p.validate()
        #expect(p.mix["package"] == 60 && p.mix.count == 6)
        #expect(p.zipfS == 1.1 && p.connections == 8 && p.timeout == 2.5 && p.seed == 42 && p.ingestBatch == 20 && p.baseline == 1)
        #expect(p.phases.map(\.kind) == [.constant, .constant, .closed, .stepup, .fault])
        #expect(p.phases.map(\.isRecorded) == [false, true, true, false, false])
        #expect(p.phases[2].path == "/healthz")
        #expect(p.phases[3].plannedSeconds == 25)  // 100,150,200,250,300
        #expect(p.phases[4].plannedSeconds == 15)
        #expect(p.phases[4].before == "Scripts/svc redis stop" && p.phases[4].commandTimeout == 30)
        #expect(p.thresholds == ["p99<25ms", "errors<0.5%"])
    }

    @Test("defaults: mix, days, zipf_s, thresholds")
    func defaults() throws {
        let p = try JSONDecoder().decode(Profile.self, from: Data(#"{"name":"d","phases":[{"name":"a","duration":1}]}"#.utf8))
        try p.validate()
        #expect(p.mix == Profile.defaultMix && p.days == [7, 30, 90] && p.zipfS == 1.0 && p.thresholds.isEmpty)
    }

    @Test(
        "invalid profiles are rejected",
        arguments: [
            #"{"name":"a","mix":{"nope":1},"phases":[{"name":"p","duration":1}]}"#,
            #"{"name":"a","phases":[]}"#,
            #"{"name":"a","phases":[{"name":"p"}]}"#,
            #"{"name":"a","phases":[{"name":"p","duration":1,"rate":-5}]}"#,
            #"{"name":"a","phases":[{"name":"s","rate_start":100}]}"#,
            #"{"name":"a","phases":[{"name":"p","duration":1,"check":["p99<<1"]}]}"#,
            #"{"name":"a","thresholds":["latency<1ms"],"phases":[{"name":"p","duration":1}]}"#,
            #"{"name":"a","days":[],"phases":[{"name":"p","duration":1}]}"#,
            #"{"name":"a","phases":[{"name":"p","duration":1,"path":"healthz"}]}"#,
        ]
    )
    func invalid(json: String) throws {
        let p = try JSONDecoder().decode(Profile.self, from: Data(json.utf8))
        #expect(throws: LoadTestError.self) { try p.validate() }
    }

    @Test("the shipped profiles load and validate", arguments: ["smoke", "full", "faults", "redis-down", "soak", "hostile", "hostile-off"])
    func shipped(name: String) throws {
        let p = try Profile.load(profilesDir.appendingPathComponent("\(name).json").path)
        #expect(p.name == name)
        if name == "smoke" {
            let total = p.phases.reduce(p.baseline ?? 0) { $0 + $1.plannedSeconds }
            #expect(total >= 15 && total <= 25)
        }
        if name == "full" { #expect(p.phases.contains { $0.kind == .stepup }) }
        if name == "faults" { #expect(p.phases.filter { $0.kind == .fault }.count == 3) }
    }

    @Test("--rate/--duration override the recorded steady phases only")
    func overrides() throws {
        let p = Profile(
            name: "o",
            phases: [
                PhaseSpec(name: "warm", duration: 3, rate: 100, record: false), PhaseSpec(name: "steady", duration: 10, rate: 200),
                PhaseSpec(name: "fault", duration: 5, rate: 50, before: "true"),
            ]
        )
        let o = p.overriding(rate: 999, duration: 2)
        #expect(o.phases.map(\.rate) == [100, 999, 50])
        #expect(o.phases.map(\.duration) == [3, 2, 5])
    }

    @Test("fixtures decode")
    func fixtures() throws {
        let json = """
            {"packages":[{"id":"a1","name":"pkg-a"},{"id":"b2","name":"@scope/b"}],"users":["u1","u2"],
             "orgs":[{"id":"o1","admin":"u1"}],"usage":[{"id":"x","userId":"u2","packageId":"a1"}]}
            """
        let f = try JSONDecoder().decode(Fixtures.self, from: Data(json.utf8))
        #expect(f.packages.map(\.name) == ["pkg-a", "@scope/b"])
        #expect(f.orgs.first?.admin == "u1" && f.usage.first?.userId == "u2")
        #expect(percentEncodePathSegment("@scope/b c") == "@scope%2Fb%20c")
    }

    @Test("a priming phase visits every package page and a badge of each, in turn")
    func priming() async throws {
        let fixtures = Fixtures(packages: [.init(id: "p1", name: "one"), .init(id: "p2", name: "@s/two")], users: [], orgs: [], usage: [])
        var profile = Profile(name: "m", phases: [PhaseSpec(name: "a", duration: 1, rate: 1, prime: true)])
        profile.mix = ["package": 1]
        profile.days = [7, 30]
        let decoded = try JSONDecoder().decode(PhaseSpec.self, from: Data(#"{"name":"p","duration":3,"rate":50,"prime":true}"#.utf8))
        #expect(decoded.prime == true)
        let plan = try await MixPlan.build(
            profile: profile, fixtures: fixtures, hostHeader: "h", jwtSecret: nil, ingestToken: nil, tokenLifetime: 60)
        let generator = GeneratorSpec.prime(plan).make(hostHeader: "h", shardIndex: 0)
        let lines = (0..<8).map { _ in String(buffer: generator.next().bytes).split(separator: "\r\n")[0] }
        #expect(
            Array(lines.prefix(4)) == [
                "GET /api/v1/analytics/package/p1?days=7 HTTP/1.1", "GET /api/v1/analytics/package/p1?days=30 HTTP/1.1",
                "GET /api/v1/analytics/package/one HTTP/1.1", "GET /api/v1/analytics/package/p1/badge/runs.svg HTTP/1.1",
            ])
        #expect(lines[6] == "GET /api/v1/analytics/package/@s%2Ftwo HTTP/1.1")
        // Round and round.
        #expect(String(buffer: generator.next().bytes).hasPrefix("GET /api/v1/analytics/package/p1?days=7 "))
    }

    @Test("mix plan: requests for every scenario, JWTs for the right users")
    func mixPlan() async throws {
        let fixtures = Fixtures(
            packages: [.init(id: "p1", name: "one"), .init(id: "p2", name: "two")], users: ["u1", "u2"],
            orgs: [.init(id: "o1", admin: "u1")], usage: [.init(id: "g1", userId: "u2", packageId: "p1")]
        )
        let profile = Profile(name: "m", phases: [PhaseSpec(name: "a", duration: 1, rate: 1)])
        let plan = try await MixPlan.build(
            profile: profile, fixtures: fixtures, hostHeader: "127.0.0.1:1", jwtSecret: String(repeating: "k", count: 32), ingestToken: "ingest",
            tokenLifetime: 60
        )
        let generator = RequestGenerator.mix(plan, seed: 5)
        var seen: [Scenario: String] = [:]
        var idempotencyKeys: [String] = []
        var ingestRequests = 0
        for _ in 0..<2000 {
            let r = generator.next()
            seen[r.scenario] = String(buffer: r.bytes)
            if r.scenario == .ingest {
                ingestRequests += 1
                idempotencyKeys += seen[.ingest]!.split(separator: "\r\n").filter { $0.hasPrefix("Idempotency-Key: ") }.map(String.init)
            }
        }
        // Issue 27 item 10: every ingestion batch carries an Idempotency-Key of its own.
        #expect(ingestRequests > 0)
        #expect(idempotencyKeys.count == ingestRequests)
        #expect(Set(idempotencyKeys).count == idempotencyKeys.count)
        #expect(Set(seen.keys) == Set(Scenario.mixScenarios).subtracting([.hostile]))  // the default mix has no hostile traffic
        #expect(seen[.package]!.hasPrefix("GET /api/v1/analytics/package/"))
        #expect(seen[.package]!.contains("?days="))
        #expect(seen[.badge]!.contains(".svg HTTP/1.1\r\n"))
        #expect(seen[.me]!.contains("Authorization: Bearer ey"))
        #expect(seen[.org]!.hasPrefix("GET /api/v1/analytics/organization/o1?days="))
        #expect(seen[.feedback]!.hasPrefix("POST /api/v1/analytics/feedback HTTP/1.1"))
        #expect(seen[.feedback]!.contains(#"{"usageId":"g1","rating":"#))
        #expect(seen[.ingest]!.contains("Authorization: Bearer ingest\r\n"))
        // The ingest body is valid JSON with 10 events.
        let ingest = seen[.ingest]!
        let body = try #require(ingest.range(of: "\r\n\r\n").map { String(ingest[$0.upperBound...]) })
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect((parsed["events"] as? [Any])?.count == 10)
        #expect(ingest.contains("Content-Length: \(body.utf8.count)\r\n"))
        // The org request carries the admin's token: decode its payload.
        let org = seen[.org]!
        let token = try #require(org.split(separator: "\r\n").first { $0.hasPrefix("Authorization: Bearer ") }?.dropFirst(22))
        var payload = String(token.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        let payloadData = try #require(Data(base64Encoded: payload))
        let claims = try #require(try JSONSerialization.jsonObject(with: payloadData) as? [String: Any])
        #expect(claims["user_id"] as? String == "u1")
        #expect((claims["exp"] as? Int ?? 0) > Int(Date().timeIntervalSince1970))
        // Missing secrets are configuration errors.
        await #expect(throws: LoadTestError.self) {
            _ = try await MixPlan.build(
                profile: profile, fixtures: fixtures, hostHeader: "h", jwtSecret: nil, ingestToken: "i", tokenLifetime: 60
            )
        }
        await #expect(throws: LoadTestError.self) {
            _ = try await MixPlan.build(
                profile: profile, fixtures: fixtures, hostHeader: "h", jwtSecret: "short", ingestToken: "i", tokenLifetime: 60
            )
        }
    }

    @Test("targets: loopback only")
    func targets() throws {
        #expect(try Target(url: "http://127.0.0.1:8080") == Target(host: "127.0.0.1", port: 8080))
        #expect(try Target(url: "http://localhost:9000/").port == 9000)
        #expect(try Target(url: "http://[::1]:8080").hostHeader == "[::1]:8080")
        #expect(try Target(url: "http://127.1.2.3").port == 80)
        for bad in [
            "http://10.0.0.1:80", "http://192.168.1.1:8080", "http://example.com", "https://127.0.0.1:8443", "http://128.0.0.1:1",
            "http://127.0.0.1:8080/api", "http://127.0.0.1:0", "127.0.0.1:8080", "http://127.0.0.256:1", "http://0.0.0.0:8080",
        ] {
            #expect(throws: LoadTestError.self, "\(bad)") { try Target(url: bad) }
        }
    }

    /// Issue 27 item 11: the hostile scenario's requests come from the profile's strangers and
    /// cover every kind the issue names.
    @Test func hostileRequestsClaimStrangersAddresses() async throws {
        let fixtures = Fixtures(packages: [.init(id: "p1", name: "one")], users: [], orgs: [], usage: [])
        var profile = Profile(name: "h", mix: ["hostile": 1], phases: [PhaseSpec(name: "a", duration: 1, rate: 1)])
        profile.hostileClients = 6
        let plan = try await MixPlan.build(
            profile: profile, fixtures: fixtures, hostHeader: "127.0.0.1:1", jwtSecret: nil, ingestToken: nil, tokenLifetime: 60)
        let generator = RequestGenerator.mix(plan, seed: 9)
        var clients = Set<String>()
        var paths: [String] = []
        for _ in 0..<3000 {
            let text = String(buffer: generator.next().bytes)
            let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
            clients.insert(try #require(lines.first { $0.hasPrefix("X-Forwarded-For: ") }.map { String($0.dropFirst(17)) }))
            paths.append(String(lines[0].split(separator: " ")[1]))
            #expect(text.hasSuffix("\r\n\r\n"))
        }
        #expect(clients == Set(Hostile.clients(6)))
        #expect(clients.contains { $0.contains(":") } && clients.contains { $0.contains(".") })
        #expect(paths.contains { $0.hasPrefix("/packages/") })
        #expect(paths.map(\.utf8.count).max()! > 4000)
        #expect(paths.contains("/readyz"))
        #expect(paths.contains { $0.contains("/badge/runs.svg?label=") })
        #expect(paths.contains { $0.hasPrefix("/api/v1/analytics/popular?days=") })
        #expect(paths.contains { $0.hasPrefix("/api/v1/analytics/trending?limit=") })
    }
}
