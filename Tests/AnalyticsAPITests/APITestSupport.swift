import Analytics
import AnalyticsAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import NIOCore
import ServiceLifecycle
import TestSupport
import Testing

/// One set of dependencies (pools, cache) for the whole test process, on the test servers.
actor SharedApp {
    static let shared = SharedApp()
    private var dependencies: AppDependencies?

    /// The shared dependencies, made on first use with `config()`; a test that needs other
    /// settings makes its own (`makeReplica`).
    func get() async throws -> AppDependencies {
        if let dependencies { return dependencies }
        _ = try await TestEnvironment.postgres()  // migrates once
        let created = try AppDependencies(config: Self.config(), logger: TestEnvironment.logger)
        dependencies = created
        return created
    }

    static func config() -> AppConfig {
        var config = AppConfig()
        config.databaseURL = TestEnvironment.databaseURL
        config.redisURL = TestEnvironment.redisURL
        config.jwtSecret = TestEnvironment.jwtSecret
        config.ingestToken = TestEnvironment.ingestToken
        config.authCacheSeconds = 0
        config.redisTimeoutMs = 50
        // Tests see Redis' own behaviour; the near cache has its own tests.
        config.cache.nearTTL = .zero
        // Writes show in shared answers on the next read here (CACHE_PUBLIC_LAG_S=0), so
        // tests of other features can read their own writes; the lag has its own tests.
        config.cache.publicLag = 0
        return config
    }
}

/// Runs `body` against the real router (Hummingbird's `.router` testing) on the shared dependencies.
func withApp(_ body: @escaping @Sendable (any TestClientProtocol, AppDependencies) async throws -> Void) async throws {
    let dependencies = try await SharedApp.shared.get()
    try await withFreshApp(dependencies, body)
}

func withFreshApp(_ dependencies: AppDependencies, _ body: @escaping @Sendable (any TestClientProtocol, AppDependencies) async throws -> Void)
    async throws
{
    let router = await buildRouter(dependencies)
    let app = Application(router: router, logger: TestEnvironment.logger)
    try await app.test(.router) { client in try await body(client, dependencies) }
}

/// The service on a port of its own (Hummingbird's `.live` testing, on the shared dependencies)
/// and a headless Chromium page: `body` gets the page, the service's base URL and a client of
/// it. The browser is closed whatever happens.
func withBrowser(
    _ body: @escaping @Sendable (BrowserPage, String, any TestClientProtocol, AppDependencies) async throws -> Void
) async throws {
    let dependencies = try await SharedApp.shared.get()
    let router = await buildRouter(dependencies)
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: TestEnvironment.logger)
    try await app.test(.live) { client in
        let base = "http://127.0.0.1:\(try #require(client.port))"
        let browser = try await HeadlessBrowser.launch()
        do {
            try await body(try await browser.newPage(width: 1280, height: 900), base, client, dependencies)
        } catch {
            await browser.close()
            throw error
        }
        await browser.close()
    }
}

/// Runs `body` while `services` run in a `ServiceGroup` (as `serve` runs its background
/// services), then shuts the group down gracefully and waits until every service has returned,
/// also when `body` throws.
func withServices<T>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
    let group = ServiceGroup(configuration: .init(services: services, logger: TestEnvironment.logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let result: T
        do {
            result = try await body()
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}

/// Signs test tokens the way PRPM's registry does (HS256, `user_id`, `exp`).
enum Tokens {
    struct Claims: JWTPayload {
        var user_id: String?
        var sub: SubjectClaim?
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim?
        var iat: IssuedAtClaim?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func sign(
        user: UUID?, sub: UUID? = nil, expiresIn: TimeInterval = 3600, notBefore: Date? = nil, issuedAt: Date? = nil,
        secret: String = TestEnvironment.jwtSecret
    ) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(
            Claims(
                user_id: user?.uuidString.lowercased(), sub: sub.map { SubjectClaim(value: $0.uuidString) },
                exp: .init(value: Date().addingTimeInterval(expiresIn)), nbf: notBefore.map { NotBeforeClaim(value: $0) },
                iat: issuedAt.map { IssuedAtClaim(value: $0) }))
    }

    /// A token with `alg: none` and no signature.
    static func unsigned(user: UUID) -> String {
        func b64(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_")
        }
        let exp = Int(Date().timeIntervalSince1970) + 3600
        return b64(#"{"alg":"none","typ":"JWT"}"#) + "." + b64(#"{"user_id":"\#(user.uuidString.lowercased())","exp":\#(exp)}"#) + "."
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }
}

extension TestClientProtocol {
    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(uri: uri, method: .get, headers: headers) { $0 }
    }

    func post(_ uri: String, json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: json)) { $0 }
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func json<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: Data(buffer: body)) }

    var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:] }

    /// `Cache-Control` as directives: `public` → nil value, `max-age=30` → 30.
    var cacheDirectives: [String: Int?] {
        var directives: [String: Int?] = [:]
        for part in (headers[.cacheControl] ?? "").split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            directives[pair[0]] = pair.count == 2 ? Int(pair[1]) : nil as Int?
        }
        return directives
    }

    /// Seconds a cache that gets this response now may keep it fresh: `max-age` − `Age`.
    var freshSecondsLeft: Int? {
        guard let maxAge = cacheDirectives["max-age"] ?? nil, let age = headers[.age].flatMap(Int.init) else { return nil }
        return maxAge - age
    }

    /// The contract's error body: `{"error": {"code", "message"}}`.
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
}
