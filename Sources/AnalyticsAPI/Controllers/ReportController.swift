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
        let userId = try await authenticator.userId(from: request)
        let month = try request.reportMonth()
        let orgId = try context.parameters.organizationId()
        let cached = try await reader.organizationReport(orgId, caller: userId, month: month)
        return Responses.cached(cached, request: request, visibility: .privateData)
    }

    @Sendable func membersCSV(_ request: Request, context: Context) async throws -> Response {
        try await export(request, context: context, name: "members") { source in
            switch source {
            case .window(let stats):
                CSV.document(
                    header: Self.membersHeader,
                    rows: stats.memberActivity.map {
                        [$0.username, $0.team ?? "", String($0.runs), String($0.credits_spent), CSV.usd($0.credits_usd), $0.last_active]
                    })
            case .month(let report):
                CSV.document(
                    header: Self.membersHeader,
                    rows: report.memberActivity.map {
                        [$0.username, $0.team, String($0.runs), String($0.credits_spent), CSV.usd($0.credits_usd), $0.last_active]
                    })
            }
        }
    }

    @Sendable func teamsCSV(_ request: Request, context: Context) async throws -> Response {
        try await export(request, context: context, name: "teams") { source in
            switch source {
            case .window(let stats):
                CSV.document(
                    header: Self.teamsHeader,
                    rows: stats.teamAllocation.map { [$0.team, String($0.runs), String($0.credits), CSV.usd($0.credits_usd)] })
            case .month(let report):
                CSV.document(
                    header: Self.teamsHeader, rows: report.teams.map { [$0.team, String($0.runs), String($0.credits), CSV.usd($0.creditsUsd)] })
            }
        }
    }

    static var membersHeader: [String] { ["username", "team", "runs", "credits", "creditsUsd", "lastActive"] }
    static var teamsHeader: [String] { ["team", "runs", "credits", "creditsUsd"] }

    /// What an export lists: the organization answer of a window or the report of a month.
    enum ExportSource {
        case window(OrganizationStats)
        case month(OrganizationReport)
    }

    /// `?days=` (1…365) or `?month=` (`YYYY-MM`), not both; neither: the last 30 days.
    private func export(
        _ request: Request, context: Context, name: String, render: (ExportSource) -> String
    ) async throws -> Response {
        let userId = try await authenticator.userId(from: request)
        let query = request.uri.queryParameters
        guard query.get("days") == nil || query.get("month") == nil else {
            throw APIError.badRequest("give days or month, not both", code: "invalid_period")
        }
        let month = query.get("month") != nil ? try request.reportMonth() : nil
        let days = month == nil ? try request.days() : nil
        let orgId = try context.parameters.organizationId()
        let cached: CachedResponse
        let source: ExportSource
        let period: String
        if let month {
            cached = try await reader.organizationReport(orgId, caller: userId, month: month)
            source = .month(try cached.decoded(OrganizationReport.self))
            period = month.description
        } else {
            let days = days ?? AnalyticsWindow.defaultDays
            cached = try await reader.organization(orgId, caller: userId, days: days)
            source = .window(try cached.decoded(OrganizationStats.self))
            period = "last-\(days)-days"
        }
        let headers: HTTPFields = [
            .contentType: "text/csv; charset=utf-8; header=present", .cacheControl: "private, no-store", .xCache: cached.status.rawValue,
            .contentDisposition: "attachment; filename=\"\(orgId.canonical)-\(name)-\(period).csv\"",
        ]
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: render(source))))
    }
}
