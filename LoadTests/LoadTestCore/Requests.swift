import Foundation
import JWTKit
import NIOCore

/// A prepared request: its bytes on the wire plus the scenario it belongs to.
public struct PreparedRequest: Sendable {
    public let bytes: ByteBuffer
    public let scenario: Scenario
}

/// Produces the next request of a phase. One instance per shard (it owns a PRNG); not thread-safe.
public final class RequestGenerator {
    enum Mode {
        case fixed(ByteBuffer, Scenario)
        case mix(MixPlan)
        case sweep([PreparedRequest])
    }

    let mode: Mode
    var rng: SeededRandom
    var position = 0
    let allocator = ByteBufferAllocator()

    init(mode: Mode, seed: UInt64) {
        self.mode = mode
        rng = SeededRandom(seed: seed)
    }

    /// The same GET request every time (a `--path` run, the baseline, a phase with `path`).
    public static func fixed(path: String, hostHeader: String, scenario: Scenario = .path) -> RequestGenerator {
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        buffer.writeString("GET \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: prpm-loadtest\r\n\r\n")
        return RequestGenerator(mode: .fixed(buffer, scenario), seed: 0)
    }

    /// The given requests in turn, starting at `offset`, over and over.
    static func sweep(_ requests: [PreparedRequest], offset: Int) -> RequestGenerator {
        precondition(!requests.isEmpty)
        let generator = RequestGenerator(mode: .sweep(requests), seed: 0)
        generator.position = offset % requests.count
        return generator
    }

    /// The weighted scenario mix.
    public static func mix(_ plan: MixPlan, seed: UInt64) -> RequestGenerator {
        RequestGenerator(mode: .mix(plan), seed: seed)
    }

    @inline(__always)
    public func next() -> PreparedRequest {
        switch mode {
        case .fixed(let buffer, let scenario): return PreparedRequest(bytes: buffer, scenario: scenario)
        case .mix(let plan): return plan.make(using: &rng, allocator: allocator)
        case .sweep(let requests):
            defer { position = (position + 1) % requests.count }
            return requests[position]
        }
    }
}

/// Everything the mix needs, prepared once: encoded paths, signed tokens, weights. Shared by all shards.
public struct MixPlan: Sendable {
    let hostHeader: String
    let scenarios: [Scenario]
    let picker: WeightedPicker
    let zipf: ZipfSampler
    /// "/api/v1/analytics/package/<id>" per package, in popularity order.
    let packageByID: [String]
    /// "/api/v1/analytics/package/<encoded name>".
    let packageByName: [String]
    let packageIDs: [String]
    let days: [String]
    /// (user id, "Bearer <jwt>") for `me` and ingestion.
    let users: [(id: String, auth: String)]
    /// ("/api/v1/analytics/organization/<id>", "Bearer <admin jwt>", org id, admin id).
    let orgs: [(path: String, auth: String, id: String, admin: String)]
    /// (usage id, "Bearer <owner jwt>").
    let usage: [(id: String, auth: String)]
    let ingestAuth: String
    let ingestBatch: Int
    /// The addresses the `hostile` scenario claims (`Hostile.clients`).
    let hostileClients: [String]

    static let badgeMetrics = ["runs", "users", "rating", "success", "trend", "model"]
    static let models = ["claude-sonnet-4-5", "claude-opus-4-1", "gpt-5", "gpt-4o", "gemini-2.5-pro"]

    /// Validates the inputs each weighted scenario needs and signs the JWTs (HS256, claims `user_id`, `exp`).
    public static func build(
        profile: Profile, fixtures: Fixtures, hostHeader: String, jwtSecret: String?, ingestToken: String?, tokenLifetime: Double
    ) async throws(LoadTestError) -> MixPlan {
        var scenarios: [Scenario] = []
        var weights: [Int] = []
        for scenario in Scenario.mixScenarios {
            let weight = profile.mix[scenario.name] ?? 0
            if weight > 0 {
                scenarios.append(scenario)
                weights.append(weight)
            }
        }
        guard !scenarios.isEmpty else { throw .config("profile '\(profile.name)': the mix has no positive weight") }
        func need(_ ok: Bool, _ what: String) throws(LoadTestError) {
            if !ok { throw .config(what) }
        }
        try need(!fixtures.packages.isEmpty, "fixtures have no packages")
        let wants = Set(scenarios)
        let needsJWT = !wants.isDisjoint(with: [.me, .org, .feedback])
        if needsJWT {
            try need(jwtSecret.map { !$0.isEmpty } ?? false, "the mix has me/org/feedback: pass --jwt-secret or set JWT_SECRET")
            // jwt-kit asserts HS256 keys of at least 32 bytes (a crash in debug builds).
            try need((jwtSecret?.utf8.count ?? 0) >= 32, "the JWT secret must be at least 32 bytes for HS256")
        }
        if wants.contains(.me) || wants.contains(.ingest) { try need(!fixtures.users.isEmpty, "fixtures have no users") }
        if wants.contains(.org) { try need(!fixtures.orgs.isEmpty, "the mix has org but the fixtures have no orgs") }
        if wants.contains(.feedback) { try need(!fixtures.usage.isEmpty, "the mix has feedback but the fixtures have no usage") }
        if wants.contains(.ingest) {
            try need(ingestToken.map { !$0.isEmpty } ?? false, "the mix has ingest: pass --ingest-token or set INGEST_TOKEN")
        }

        var tokens: [String: String] = [:]
        let userSample = Array(fixtures.users.prefix(5000))
        let orgSample = Array(fixtures.orgs.prefix(5000))
        let usageSample = Array(fixtures.usage.prefix(5000))
        if needsJWT, let jwtSecret {
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: jwtSecret), digestAlgorithm: .sha256)
            let exp = Int(Date().timeIntervalSince1970 + tokenLifetime)
            var ids = Set<String>()
            if wants.contains(.me) { ids.formUnion(userSample) }
            if wants.contains(.org) { ids.formUnion(orgSample.map(\.admin)) }
            if wants.contains(.feedback) { ids.formUnion(usageSample.map(\.userId)) }
            for id in ids {
                do { tokens[id] = "Bearer " + (try await keys.sign(LoadTestClaims(userID: id, exp: exp))) } catch {
                    throw .config("cannot sign a JWT: \(error)")
                }
            }
        }
        let prefix = "/api/v1/analytics/package/"
        return MixPlan(
            hostHeader: hostHeader,
            scenarios: scenarios,
            picker: WeightedPicker(weights: weights),
            zipf: ZipfSampler(count: fixtures.packages.count, exponent: profile.zipfS),
            packageByID: fixtures.packages.map { prefix + percentEncodePathSegment($0.id) },
            packageByName: fixtures.packages.map { prefix + percentEncodePathSegment($0.name) },
            packageIDs: fixtures.packages.map(\.id),
            days: profile.days.map(String.init),
            users: userSample.map { (id: $0, auth: tokens[$0] ?? "") },
            orgs: orgSample.map {
                (
                    path: "/api/v1/analytics/organization/" + percentEncodePathSegment($0.id), auth: tokens[$0.admin] ?? "", id: $0.id,
                    admin: $0.admin
                )
            },
            usage: usageSample.map { (id: $0.id, auth: tokens[$0.userId] ?? "") },
            ingestAuth: "Bearer " + (ingestToken ?? ""),
            ingestBatch: profile.ingestBatch ?? 10,
            hostileClients: Hostile.clients(profile.hostileClients ?? 16)
        )
    }

    /// One GET per package page: by id for each window, by name (default window), and one badge.
    func primingRequests() -> [PreparedRequest] {
        var requests: [PreparedRequest] = []
        let allocator = ByteBufferAllocator()
        func get(_ path: String, _ days: String?, _ scenario: Scenario) {
            var buffer = allocator.buffer(capacity: 256)
            head(&buffer, "GET", path, query: days)
            buffer.writeStaticString("\r\n")
            requests.append(PreparedRequest(bytes: buffer, scenario: scenario))
        }
        for rank in packageByID.indices {
            for days in days { get(packageByID[rank], days, .package) }
            get(packageByName[rank], nil, .package)
            get(packageByID[rank] + "/badge/runs.svg", nil, .badge)
        }
        return requests
    }

    @inline(__always)
    func make(using rng: inout SeededRandom, allocator: ByteBufferAllocator) -> PreparedRequest {
        let scenario = scenarios[picker.pick(using: &rng)]
        var buffer = allocator.buffer(capacity: scenario == .ingest ? 256 + ingestBatch * 260 : scenario == .hostile ? 9 * 1024 : 512)
        switch scenario {
        case .package:
            let rank = zipf.sample(using: &rng)
            let base = rng.next() & 1 == 0 ? packageByID[rank] : packageByName[rank]
            head(&buffer, "GET", base, query: days[rng.nextInt(days.count)])
            buffer.writeStaticString("\r\n")
        case .badge:
            let rank = zipf.sample(using: &rng)
            let metric = MixPlan.badgeMetrics[rng.nextInt(MixPlan.badgeMetrics.count)]
            head(&buffer, "GET", packageByID[rank] + "/badge/" + metric + ".svg", query: nil)
            buffer.writeStaticString("\r\n")
        case .me:
            head(&buffer, "GET", "/api/v1/analytics/user/me", query: days[rng.nextInt(days.count)])
            authorization(&buffer, users[rng.nextInt(users.count)].auth)
            buffer.writeStaticString("\r\n")
        case .org:
            let org = orgs[rng.nextInt(orgs.count)]
            head(&buffer, "GET", org.path, query: days[rng.nextInt(days.count)])
            authorization(&buffer, org.auth)
            buffer.writeStaticString("\r\n")
        case .feedback:
            let usage = usage[rng.nextInt(usage.count)]
            let body = "{\"usageId\":\"\(usage.id)\",\"rating\":\(1 + rng.nextInt(5))}"
            head(&buffer, "POST", "/api/v1/analytics/feedback", query: nil)
            authorization(&buffer, usage.auth)
            jsonBody(&buffer, body)
        case .ingest:
            head(&buffer, "POST", "/api/v1/analytics/usage", query: nil)
            authorization(&buffer, ingestAuth)
            // Every batch has a key of its own, as a real collector sends: a batch whose answer
            // was lost after its commit can be retried safely (README, "Writes are answered truthfully").
            buffer.writeStaticString("Idempotency-Key: loadtest-")
            buffer.writeString(String(rng.next(), radix: 16))
            buffer.writeString(String(rng.next(), radix: 16))
            buffer.writeStaticString("\r\n")
            jsonBody(&buffer, ingestBody(using: &rng))
        case .hostile:
            hostileRequest(&buffer, using: &rng)
        case .path, .baseline:
            preconditionFailure("not a mix scenario")
        }
        return PreparedRequest(bytes: buffer, scenario: scenario)
    }

    @inline(__always)
    func head(_ buffer: inout ByteBuffer, _ method: String, _ path: String, query days: String?) {
        buffer.writeString(method)
        buffer.writeStaticString(" ")
        buffer.writeString(path)
        if let days {
            buffer.writeStaticString("?days=")
            buffer.writeString(days)
        }
        buffer.writeStaticString(" HTTP/1.1\r\nHost: ")
        buffer.writeString(hostHeader)
        buffer.writeStaticString("\r\nUser-Agent: prpm-loadtest\r\n")
    }

    @inline(__always)
    func authorization(_ buffer: inout ByteBuffer, _ value: String) {
        buffer.writeStaticString("Authorization: ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }

    @inline(__always)
    func jsonBody(_ buffer: inout ByteBuffer, _ body: String) {
        buffer.writeStaticString("Content-Type: application/json\r\nContent-Length: ")
        buffer.writeString(String(body.utf8.count))
        buffer.writeStaticString("\r\n\r\n")
        buffer.writeString(body)
    }

    /// `{"events":[…]}` with `ingestBatch` events: Zipf package, random user (20%: an org admin with its orgId).
    func ingestBody(using rng: inout SeededRandom) -> String {
        var body = "{\"events\":["
        body.reserveCapacity(32 + ingestBatch * 260)
        for i in 0..<ingestBatch {
            if i > 0 { body += "," }
            let packageID = packageIDs[zipf.sample(using: &rng)]
            var userID = users[rng.nextInt(users.count)].id
            var orgPart = ""
            if !orgs.isEmpty && rng.nextInt(5) == 0 {
                let org = orgs[rng.nextInt(orgs.count)]
                userID = org.admin
                orgPart = ",\"orgId\":\"\(org.id)\""
            }
            let model = MixPlan.models[rng.nextInt(MixPlan.models.count)]
            let version = "1.\(rng.nextInt(5)).\(rng.nextInt(10))"
            let tokens = 100 + rng.nextInt(20_000)
            let duration = 50 + rng.nextInt(30_000)
            let credits = 1 + rng.nextInt(50)
            let failed = rng.nextInt(20) == 0
            body += "{\"userId\":\"\(userID)\",\"packageId\":\"\(packageID)\"\(orgPart),\"packageVersion\":\"\(version)\","
            body += "\"model\":\"\(model)\",\"tokensUsed\":\(tokens),\"durationMs\":\(duration),\"creditsSpent\":\(credits),"
            body += "\"errorOccurred\":\(failed)}"
        }
        body += "]}"
        return body
    }
}

/// User tokens as PRPM's registry signs them (HS256, `user_id`, `exp`): the mix's, and
/// `prpm-loadtest token` for scripts.
public enum UserTokens {
    public static func sign(user: String, secret: String, expiresIn seconds: Int) async throws(LoadTestError) -> String {
        guard secret.utf8.count >= 32 else { throw .config("the JWT secret must be at least 32 bytes for HS256") }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        do {
            return try await keys.sign(LoadTestClaims(userID: user, exp: Int(Date().timeIntervalSince1970) + seconds))
        } catch {
            throw .config("cannot sign a JWT: \(error)")
        }
    }
}

/// JWT claims the API expects: `{"user_id": "<uuid>", "exp": <unix seconds>}`.
struct LoadTestClaims: JWTPayload {
    var userID: String
    var exp: Int

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case exp
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Percent-encodes everything except RFC 3986 unreserved characters and '@'.
public func percentEncodePathSegment(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "@"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = Array("0123456789ABCDEF".utf8)
            out.append("%")
            out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
            out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0xF)]))
        }
    }
    return out
}
