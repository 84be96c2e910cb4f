import Foundation

/// The read side of the analytics: what the API and the worker ask for. `AnalyticsQueries`
/// computes it from Postgres; `CachedAnalytics` (AnalyticsCache) serves the same answers
/// through the cache, wrapping any implementation; the API bounds each computation with its
/// request deadline by wrapping the queries in one more implementation.
public protocol AnalyticsReading: Sendable {
    /// A package by UUID or by name; nil when there is none.
    func resolvePackage(_ idOrName: String) async throws -> PackageRef?
    func packageStats(_ package: PackageRef, window: AnalyticsWindow) async throws -> PackageStats
    func userStats(userId: UUID, window: AnalyticsWindow) async throws -> UserStats
    /// The organization when `userId` is one of its owners or admins; else `organizationForbidden`.
    func authorizeOrganizationAdmin(orgId: UUID, userId: UUID) async throws -> OrganizationRef
    func organizationStats(_ org: OrganizationRef, window: AnalyticsWindow) async throws -> OrganizationStats
    /// The monthly executive report (the caller checked the role with `authorizeOrganizationAdmin`).
    func organizationReport(_ org: OrganizationRef, month: ReportMonth) async throws -> OrganizationReport
    func trending(limit: Int) async throws -> TrendingPackages
    func popular(window: AnalyticsWindow, limit: Int) async throws -> PopularPackages
    func summary() async throws -> SiteSummary
}

extension AnalyticsQueries: AnalyticsReading {}
