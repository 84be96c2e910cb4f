import Analytics
import AnalyticsCache
import Foundation
import Hummingbird

/// GET package (public), user/me (authenticated), organization (owner/admin), trending, popular
/// and summary (public).
struct ReadController<Context: RequestContext> {
    let reader: CachedAnalytics
    let authenticator: Authenticator

    func register(on router: RouterGroup<Context>) {
        router.get("package/:packageId", use: package)
        router.get("user/me", use: me)
        router.get("organization/:orgId", use: organization)
        router.get("organization/:orgId/report", use: organizationReport)
        router.get("organization/:orgId/members.csv", use: membersCSV)
        router.get("organization/:orgId/teams.csv", use: teamsCSV)
        router.get("trending", use: trending)
        router.get("popular", use: popular)
        router.get("summary", use: summary)
    }

    @Sendable func package(_ request: Request, context: Context) async throws -> Response {
        let days = try request.days()
        let idOrName = try context.parameters.decoded("packageId")
        let (_, cached) = try await reader.package(idOrName, days: days)
        return Responses.cached(cached, request: request, visibility: .publicData)
    }

    @Sendable func me(_ request: Request, context: Context) async throws -> Response {
        let userId = try await authenticator.userId(from: request)
        let days = try request.days()
        let cached = try await reader.user(userId, days: days)
        return Responses.cached(cached, request: request, visibility: .privateData)
    }

    @Sendable func organization(_ request: Request, context: Context) async throws -> Response {
        try await organizationRead(request, context: context, { try $0.days() }) { orgId, caller, days in
            try await reader.organization(orgId, caller: caller, days: days)
        }
    }

    /// An organization's private answer: the caller (401), then the query's `parameter` (400),
    /// then the organization and the caller's role (403) as `read` checks them.
    func organizationRead<Parameter>(
        _ request: Request, context: Context, _ parameter: (Request) throws -> Parameter,
        read: (UUID, UUID, Parameter) async throws -> CachedResponse
    ) async throws -> Response {
        let userId = try await authenticator.userId(from: request)
        let value = try parameter(request)
        let cached = try await read(try context.parameters.organizationId(), userId, value)
        return Responses.cached(cached, request: request, visibility: .privateData)
    }

    @Sendable func trending(_ request: Request, context: Context) async throws -> Response {
        let raw = request.uri.queryParameters.get("limit")
        guard let limit = Self.parseLimit(raw) else {
            throw APIError.badRequest("limit must be an integer from 1 to 100", code: "invalid_limit")
        }
        let cached = try await reader.trending(limit: limit)
        return Responses.cached(cached, request: request, visibility: .publicData)
    }

    @Sendable func popular(_ request: Request, context: Context) async throws -> Response {
        let days = try request.days()
        guard let limit = Self.parseLimit(request.uri.queryParameters.get("limit")) else {
            throw APIError.badRequest("limit must be an integer from 1 to 100", code: "invalid_limit")
        }
        return Responses.cached(try await reader.popular(days: days, limit: limit), request: request, visibility: .publicData)
    }

    @Sendable func summary(_ request: Request, context: Context) async throws -> Response {
        Responses.cached(try await reader.summary(), request: request, visibility: .publicData)
    }

    static func parseLimit(_ raw: String?) -> Int? {
        guard let raw else { return 20 }
        guard !raw.isEmpty, raw.count <= 3, raw.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let limit = Int(raw), (1...100).contains(limit)
        else { return nil }
        return limit
    }
}
