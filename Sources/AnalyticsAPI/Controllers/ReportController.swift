import Analytics
import AnalyticsCache
import Foundation
import HTTPTypes
import Hummingbird

/// The monthly report and the CSV exports for finance (owner/admin, like the organization
/// answer): the report is a cached answer of its own; the CSVs are the members and teams of
/// the organization answer (`?days=`) or of the report (`?month=`), through the same cache.
extension ReadController {
    @Sendable func organizationReport(_ request: Request, context: Context) async throws -> Response {
        try await organizationRead(request, context: context, { try $0.reportMonth() }) { orgId, caller, month in
            try await reader.organizationReport(orgId, caller: caller, month: month)
        }
    }

    @Sendable func membersCSV(_ request: Request, context: Context) async throws -> Response {
        try await OrganizationExport.members.response(reader: reader, request: request, context: context) {
            try await authenticator.userId(from: request)
        }
    }

    @Sendable func teamsCSV(_ request: Request, context: Context) async throws -> Response {
        try await OrganizationExport.teams.response(reader: reader, request: request, context: context) {
            try await authenticator.userId(from: request)
        }
    }
}

/// A CSV export of an organization: the API's (bearer token) and the report page's links
/// (the sign-in cookie) answer the same bytes.
enum OrganizationExport: String {
    case members
    case teams

    var header: [String] {
        switch self {
        case .members: ["username", "team", "runs", "credits", "creditsUsd", "lastActive"]
        case .teams: ["team", "runs", "credits", "creditsUsd"]
        }
    }

    /// What an export lists: the organization answer of a window or the report of a month.
    enum Source {
        case window(OrganizationStats)
        case month(OrganizationReport)
    }

    func rows(_ source: Source) -> [[String]] {
        switch (self, source) {
        case (.members, _):
            let members =
                switch source {
                case .window(let stats): stats.memberActivity
                case .month(let report): report.memberActivity
                }
            return members.map {
                [$0.username, $0.team ?? "", String($0.runs), String($0.credits_spent), CSV.usd($0.credits_usd), $0.last_active]
            }
        case (.teams, .window(let stats)):
            return stats.teamAllocation.map { [$0.team, String($0.runs), String($0.credits), CSV.usd($0.credits_usd)] }
        case (.teams, .month(let report)):
            return report.teams.map { [$0.team, String($0.runs), String($0.credits), CSV.usd($0.creditsUsd)] }
        }
    }

    /// `?days=` (1…365) or `?month=` (`YYYY-MM`), not both; neither: the last 30 days. The
    /// caller is identified (401) before the parameters are checked (400) and the role (403),
    /// as for the organization answer.
    func response<Context: RequestContext>(
        reader: CachedAnalytics, request: Request, context: Context, caller: () async throws -> UUID
    ) async throws -> Response {
        let userId = try await caller()
        let query = request.uri.queryParameters
        guard query.get("days") == nil || query.get("month") == nil else {
            throw APIError.badRequest("give days or month, not both", code: "invalid_period")
        }
        let month = query.get("month") != nil ? try request.reportMonth() : nil
        let days = month == nil ? try request.days() : AnalyticsWindow.defaultDays
        let orgId = try context.parameters.organizationId()
        let cached: CachedResponse
        let source: Source
        let period: String
        if let month {
            cached = try await reader.organizationReport(orgId, caller: userId, month: month)
            source = .month(try cached.decoded(OrganizationReport.self))
            period = month.description
        } else {
            cached = try await reader.organization(orgId, caller: userId, days: days)
            source = .window(try cached.decoded(OrganizationStats.self))
            period = "last-\(days)-days"
        }
        let headers: HTTPFields = [
            .contentType: "text/csv; charset=utf-8; header=present", .cacheControl: "private, no-store", .xCache: cached.status.rawValue,
            .contentDisposition: "attachment; filename=\"\(orgId.canonical)-\(rawValue)-\(period).csv\"",
        ]
        let body = CSV.document(header: header, rows: rows(source))
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
