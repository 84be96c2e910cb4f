import AnalyticsCache
import AnalyticsRuntime
import Foundation
import Settings

/// Settings of `serve`: the runtime's (Postgres, Redis, cache; reachable directly, e.g.
/// `config.postgresPoolSize`) plus what serving HTTP needs. Read from the environment; flags
/// may override.
@dynamicMemberLookup
public struct AppConfig: Sendable {
    public var runtime = RuntimeConfig()
    public var host = "127.0.0.1"
    public var port = 8080
    public var jwtSecret = ""
    public var ingestToken = ""
    /// Largest accepted request body (other than ingestion): 64 KiB.
    public var maxBodyBytes = 64 * 1024
    /// Largest ingestion body: a batch of 1000 events does not fit in 64 KiB.
    public var maxIngestBodyBytes = 1024 * 1024
    public var requestTimeoutMs = 10_000
    public var connections = ConnectionLimits()
    /// Per-client requests a second (`RATE_LIMIT_RPS`; 0 turns the limit off), on by default:
    /// a README-badge crawler or a person's browser stays far under it.
    public var rateLimitPerSecond = 20.0
    /// The bucket's size (`RATE_LIMIT_BURST`; 0: 5 × the rate).
    public var rateLimitBurst = 0.0
    /// Clients never limited per address (`RATE_LIMIT_EXEMPT`: addresses and blocks; this
    /// machine by default). Also exempt from the per-client connection cap.
    var rateLimitExempt: AddressRanges = .loopback
    /// Requests a minute with a `days` outside the usual windows, per client
    /// (`WINDOW_BUDGET_PER_MIN`; 0: no bound), and at once (`WINDOW_BUDGET_BURST`).
    public var windowBudgetPerMinute = 12.0
    public var windowBudgetBurst = 10.0
    /// `METRICS_TOKEN`: when set, `/metrics` answers other clients than this machine only with
    /// `Authorization: Bearer <token>`; when unset, only this machine.
    public var metricsToken = ""
    /// Seconds a resolved identity (user active, org role) is reused in-process.
    public var authCacheSeconds = 30
    /// Addresses of load balancers whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    public var trustedProxies: Set<String> = []
    /// `PUBLIC_BASE_URL`: scheme and host (and port) the pages' absolute links use (the badge
    /// snippets); nil: relative links. Never taken from request headers, which anyone can set.
    public var publicBaseURL: String?
    /// How long `/readyz` answers 503 after SIGTERM before the server stops (`SHUTDOWN_DRAIN_S`).
    public var shutdownDrain: Duration = .zero

    public init() {}

    /// The token bucket's size: `RATE_LIMIT_BURST`, or 5 × the rate.
    var rateLimitBucket: Double { max(1, rateLimitBurst > 0 ? rateLimitBurst : rateLimitPerSecond * 5) }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<RuntimeConfig, Value>) -> Value {
        get { runtime[keyPath: keyPath] }
        set { runtime[keyPath: keyPath] = newValue }
    }

    /// Reads the contract's variables (and ours) from `environment`. A variable that is set
    /// but invalid (`PORT=abc`, `CACHE_TTL_PACKAGE_S=-5`) stops the process with a message
    /// naming it, with every other bad variable.
    public init(environment: [String: String]) throws(SettingsError) {
        var env = EnvironmentReader(environment)
        runtime = RuntimeConfig(reading: &env)
        if let value = env.string("HOST") { host = value }
        if let value = env.int("PORT", in: 0...65535) { port = value }
        if let value = env.string("JWT_SECRET") { jwtSecret = value }
        if let value = env.string("INGEST_TOKEN") { ingestToken = value }
        if let value = env.int("MAX_BODY_BYTES", in: 1...Int.max) { maxBodyBytes = value }
        if let value = env.int("MAX_INGEST_BODY_BYTES", in: 1...Int.max) { maxIngestBodyBytes = value }
        if let value = env.milliseconds("REQUEST_TIMEOUT_MS") { requestTimeoutMs = value }
        if let value = env.seconds("HTTP_IDLE_TIMEOUT_S", minimum: 0.001) { connections.idleTimeout = value }
        if let value = env.seconds("HTTP_BODY_TIMEOUT_S", minimum: 0.001) { connections.bodyTimeout = value }
        if let value = env.int("HTTP_MAX_CONNECTIONS", in: 1...Int.max) { connections.maxConnections = value }
        if let value = env.double("RATE_LIMIT_RPS", in: 0...Double.greatestFiniteMagnitude) { rateLimitPerSecond = value }
        if let value = env.double("RATE_LIMIT_BURST", in: 0...Double.greatestFiniteMagnitude) { rateLimitBurst = value }
        if let value = env.string("RATE_LIMIT_EXEMPT") {
            if let ranges = AddressRanges(parsing: value) {
                rateLimitExempt = ranges
            } else {
                env.problem("RATE_LIMIT_EXEMPT=\"\(value)\": expected comma-separated addresses or blocks (127.0.0.0/8, ::1)")
            }
        }
        if let value = env.int("HTTP_MAX_CONNECTIONS_PER_CLIENT", in: 1...Int.max) { connections.maxPerClient = value }
        if let value = env.string("METRICS_TOKEN") { metricsToken = value }
        if let value = env.double("WINDOW_BUDGET_PER_MIN", in: 0...1_000_000) { windowBudgetPerMinute = value }
        if let value = env.double("WINDOW_BUDGET_BURST", in: 1...1_000_000) { windowBudgetBurst = value }
        if let value = env.int("AUTH_CACHE_S", in: 0...Int.max) { authCacheSeconds = value }
        if let value = env.seconds("SHUTDOWN_DRAIN_S", minimum: 0) { shutdownDrain = value }
        if let value = env.string("TRUSTED_PROXIES") {
            trustedProxies = Set(value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        if let value = env.string("PUBLIC_BASE_URL"), !value.isEmpty {
            if let base = Self.publicBaseURL(value) {
                publicBaseURL = base
            } else {
                env.problem("PUBLIC_BASE_URL=\"\(value)\": expected http(s)://host[:port] with no path, query or fragment")
            }
        }
        try env.validate()
    }

    /// `value` as `scheme://host[:port]` (no trailing slash), or nil when it is not an http(s)
    /// URL of a host alone.
    static func publicBaseURL(_ value: String) -> String? {
        var text = value
        while text.hasSuffix("/") { text.removeLast() }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty, components.path.isEmpty, components.query == nil, components.fragment == nil,
            components.user == nil, components.password == nil,
            text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && !"\"<>\\^`{|}".unicodeScalars.contains($0) })
        else { return nil }
        return text
    }
}
