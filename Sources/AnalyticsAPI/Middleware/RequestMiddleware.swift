import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Synchronization

/// Accepts or generates `X-Request-Id` (echoed back), logs one structured line per request
/// (through the `AccessLog`'s buffer, written in batches by `AccessLogService`), and records
/// `prpm_http_requests_total` / `prpm_http_request_duration_seconds` by route, method and status.
struct RequestMiddleware<Context: RequestContext>: RouterMiddleware {
    let accessLog: AccessLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let incoming = request.headers[.xRequestId].flatMap { $0.count <= 128 && !$0.isEmpty ? $0 : nil }
        let requestId = incoming ?? RequestIds.next()
        var context = context
        context.logger[metadataKey: "request_id"] = .string(requestId)
        var response = try await next(request, context)
        response.headers[.xRequestId] = requestId
        let route = context.endpointPath ?? "unmatched"
        let status = String(response.status.code)
        let elapsed = ContinuousClock.now - start
        let instruments = RequestInstruments.shared.instruments(route: route, method: request.method.rawValue, status: status)
        instruments.requests.increment()
        instruments.duration.recordNanoseconds(Int64(elapsed.components.seconds) * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        if context.logger.logLevel <= .info {
            accessLog.record(
                logger: context.logger, method: request.method.rawValue, path: Self.loggable(request.uri.path), route: route, status: status,
                cache: response.headers[.xCache] ?? "-", duration: elapsed)
        }
        return response
    }

    /// A path as logged: its first 256 bytes (a stranger's 8 KB path must not make 8 KB of log).
    static func loggable(_ path: String) -> String {
        guard path.utf8.count > 256 else { return path }
        return String(decoding: path.utf8.prefix(256), as: UTF8.self) + "…(\(path.utf8.count) bytes)"
    }
}

/// The request counter and timer per (route, method, status), made once: building them per
/// request goes through the metrics factory's registry lookups every time.
final class RequestInstruments: Sendable {
    static let shared = RequestInstruments()

    struct Pair: Sendable {
        let requests: Counter
        let duration: Timer
    }

    private let cache = Mutex<[String: Pair]>([:])

    /// Instrument pairs made (one per route, method and status seen).
    var count: Int { cache.withLock { $0.count } }

    func instruments(route: String, method: String, status: String) -> Pair {
        let key = route + " " + method + " " + status
        if let pair = cache.withLock({ $0[key] }) { return pair }
        let pair = Pair(
            requests: Counter(label: "prpm_http_requests_total", dimensions: [("route", route), ("method", method), ("status", status)]),
            duration: Timer(label: "prpm_http_request_duration_seconds", dimensions: [("route", route), ("method", method)]))
        cache.withLock { $0[key] = pair }
        return pair
    }
}

/// Ids for requests that bring none: UUID-shaped, made of a random 64-bit prefix drawn once
/// per process and a 64-bit counter. Unique within a process by construction and across
/// replicas with overwhelming probability, without the random bytes and formatting `UUID()`
/// costs on every request (8 % of a cached read's CPU).
enum RequestIds {
    static let prefix = UInt64.random(in: .min ... .max)
    static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        UUID(high: prefix, low: counter.add(1, ordering: .relaxed).newValue).canonical
    }
}
