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

    let clients: CountedClients
    let buckets: ClientBuckets

    init(perMinute: Double, burst: Double, clients: CountedClients) {
        self.clients = clients
        buckets = ClientBuckets(perSecond: perMinute / 60, burst: burst, name: "window_budgets")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let raw = request.uri.queryParameters.get("days"), let days = AnalyticsWindow.parseDays(raw), !Self.canonical.contains(days),
            let client = clients.key(request, peer: context.remoteAddress)
        else { return try await next(request, context) }
        if let wait = buckets.take(client) {
            Counter(label: "prpm_window_budget_refused_total").increment()
            throw APIError(
                .tooManyRequests, code: "window_budget",
                message:
                    "too many requests for unusual windows; days=\(Self.canonical.sorted().map(String.init).joined(separator: ", ")) are not limited",
                headers: [.retryAfter: String(wait)])
        }
        return try await next(request, context)
    }
}
