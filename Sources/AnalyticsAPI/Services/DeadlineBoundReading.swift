import Analytics
import Foundation

/// Bounds every computation of the wrapped reader by the request deadline (503 `timeout`
/// past it). Cache hits never reach it: they are bounded by the Redis timeouts alone.
struct DeadlineBoundReading: AnalyticsReading {
    let source: any AnalyticsReading
    let deadline: RequestDeadline

    func resolvePackage(_ idOrName: String) async throws -> PackageRef? {
        try await deadline.run { [source] in try await source.resolvePackage(idOrName) }
    }

    func packageStats(_ package: PackageRef, window: AnalyticsWindow) async throws -> PackageStats {
        try await deadline.run { [source] in try await source.packageStats(package, window: window) }
    }

    func userStats(userId: UUID, window: AnalyticsWindow) async throws -> UserStats {
        try await deadline.run { [source] in try await source.userStats(userId: userId, window: window) }
    }

    func authorizeOrganizationAdmin(orgId: UUID, userId: UUID) async throws -> OrganizationRef {
        try await deadline.run { [source] in try await source.authorizeOrganizationAdmin(orgId: orgId, userId: userId) }
    }

    func organizationStats(_ org: OrganizationRef, window: AnalyticsWindow) async throws -> OrganizationStats {
        try await deadline.run { [source] in try await source.organizationStats(org, window: window) }
    }

    func organizationReport(_ org: OrganizationRef, month: ReportMonth) async throws -> OrganizationReport {
        try await deadline.run { [source] in try await source.organizationReport(org, month: month) }
    }

    func trending(limit: Int) async throws -> TrendingPackages {
        try await deadline.run { [source] in try await source.trending(limit: limit) }
    }

    func popular(window: AnalyticsWindow, limit: Int) async throws -> PopularPackages {
        try await deadline.run { [source] in try await source.popular(window: window, limit: limit) }
    }

    func summary() async throws -> SiteSummary {
        try await deadline.run { [source] in try await source.summary() }
    }
}
