import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// Maps every error to the contract's error body, once, and tells 405 from 404 for
/// paths that exist with another method.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var apiError = APIError.answering(error, logger: context.logger)
            if let http = error as? HTTPError, http.status == .notFound {
                let allowed = routes.methods(for: request.uri.path)
                if !allowed.isEmpty {
                    apiError = APIError(
                        .methodNotAllowed, code: "method_not_allowed", message: "\(request.method) is not allowed here",
                        headers: [.allow: allowed.map(\.rawValue).sorted().joined(separator: ", ")])
                }
            }
            return try apiError.response(from: request, context: context)
        }
    }
}

/// The registered route patterns (taken from the router once its routes are added), to
/// answer 405 with an `Allow` header.
final class RouteTable: Sendable {
    private let routes = Mutex<[(segments: [String], method: HTTPRequest.Method)]>([])

    init() {}

    /// The router's routes: patterns such as `/api/v1/analytics/package/:packageId`.
    func load(_ routes: [(String, HTTPRequest.Method)]) {
        self.routes.withLock { $0 = routes.map { (path, method) in (path.split(separator: "/").map(String.init), method) } }
    }

    /// A pattern segment that matches any one segment: `:name` or `{name}` (as the router
    /// prints them), or a wildcard.
    static func isParameter(_ segment: String) -> Bool {
        segment.hasPrefix(":") || (segment.hasPrefix("{") && segment.hasSuffix("}")) || segment == "*"
    }

    func methods(for path: String) -> Set<HTTPRequest.Method> {
        let parts = path.split(separator: "/").map(String.init)
        var methods: Set<HTTPRequest.Method> = []
        for route in routes.withLock({ $0 }) where route.segments.count == parts.count {
            let matches = zip(route.segments, parts).allSatisfy { pattern, part in Self.isParameter(pattern) || pattern == part }
            if matches {
                methods.insert(route.method)
                if route.method == .get { methods.insert(.head) }
            }
        }
        return methods
    }
}
