import Analytics
import AnalyticsCache
import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import NIOCore

/// Bounds the work one client can cause with unusual windows (issue 27 item 2).
///
/// Every window is answered exactly and cached under its own key, so a client walking through
/// `days=1…365` on many packages would make a cache entry and a Postgres computation for each.
/// The windows that pages, badges, the worker and most clients use (`canonical`) are not
/// bounded beyond the rate limit. Any other `days` costs the client a token of a bucket of its
/// own (`WINDOW_BUDGET_PER_MIN` a minute, `WINDOW_BUDGET_BURST` at once); an empty bucket is a
/// 429 `window_budget` with `Retry-After`. Clients are judged as the rate limit judges them
/// (same exemptions: this machine, the ingestion token, no peer address). The buckets live in
/// this process, bounded in entries and bytes.
struct WindowBudgetMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    /// The windows every answer is expected in: not counted.
    static var canonical: Set<Int> { [1, 7, 14, 30, 60, 90, 180, 365] }

    let perMinute: Double
    let burst: Double
    var trustedProxies: Set<String> = []
    var exempt: AddressRanges = .loopback
    var ingestToken = ""
    let buckets: TTLCache<String, Bucket>

    struct Bucket: Sendable {
        var tokens: Double
        var at: ContinuousClock.Instant
    }

    init(perMinute: Double, burst: Double, trustedProxies: Set<String>, exempt: AddressRanges, ingestToken: String) {
        self.perMinute = perMinute
        self.burst = max(1, burst)
        self.trustedProxies = trustedProxies
        self.exempt = exempt
        self.ingestToken = ingestToken
        // A bucket refills completely in burst / rate: a client gone that long is forgotten.
        buckets = TTLCache(
            ttl: .seconds(max(1, self.burst / max(perMinute / 60, 0.001))), capacity: 100_000, maxBytes: 16 << 20, name: "window_budgets",
            cost: { key, _ in key.utf8.count + 64 })
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let raw = request.uri.queryParameters.get("days"), let days = AnalyticsWindow.parseDays(raw), !Self.canonical.contains(days),
            !BearerToken.matches(request.headers[.authorization], ingestToken),
            let client = RateLimitMiddleware<Context>.clientKey(
                context.remoteAddress, forwardedFor: request.headers[HTTPField.Name("X-Forwarded-For")!], trustedProxies: trustedProxies,
                exempt: exempt)
        else { return try await next(request, context) }
        if let wait = take(client) {
            Counter(label: "prpm_window_budget_refused_total").increment()
            throw APIError(
                .tooManyRequests, code: "window_budget",
                message:
                    "too many requests for unusual windows; days=\(Self.canonical.sorted().map(String.init).joined(separator: ", ")) are not limited",
                headers: [.retryAfter: String(wait)])
        }
        return try await next(request, context)
    }

    /// Takes a token of `client`'s bucket: nil when there was one, else the seconds until there is.
    func take(_ client: String, now: ContinuousClock.Instant = .now) -> Int? {
        let rate = perMinute / 60
        var bucket = buckets[client] ?? Bucket(tokens: burst, at: now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) / .seconds(1) * rate)
        bucket.at = now
        guard bucket.tokens >= 1 else {
            buckets.set(client, bucket)
            return max(1, Int(((1 - bucket.tokens) / max(rate, 0.001)).rounded(.up)))
        }
        bucket.tokens -= 1
        buckets.set(client, bucket)
        return nil
    }
}
