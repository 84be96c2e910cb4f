import Analytics
import Foundation
import Logging
import Synchronization
import Testing

@testable import AnalyticsCache

/// An in-memory `AnalyticsReading` that counts its calls: what the cache decorator wraps in
/// these unit tests (in production it wraps the Postgres queries).
final class InMemoryAnalytics: AnalyticsReading {
    let package = PackageRef(id: UUID(), name: "in-memory")
    let org = OrganizationRef(id: UUID(), name: "org")
    let admin = UUID()
    private let calls = Mutex<[String: Int]>([:])

    func count(_ name: String) -> Int { calls.withLock { $0[name] ?? 0 } }
    private func called(_ name: String) { calls.withLock { $0[name, default: 0] += 1 } }

    func resolvePackage(_ idOrName: String) async throws -> PackageRef? {
        called("resolvePackage")
        return idOrName == package.name || idOrName == package.id.canonical ? package : nil
    }

    func packageStats(_ package: PackageRef, window: AnalyticsWindow) async throws -> PackageStats {
        throw AnalyticsError.databaseUnavailable("not used here")
    }

    func userStats(userId: UUID, window: AnalyticsWindow) async throws -> UserStats {
        throw AnalyticsError.databaseUnavailable("not used here")
    }

    func authorizeOrganizationAdmin(orgId: UUID, userId: UUID) async throws -> OrganizationRef {
        called("authorize")
        guard orgId == org.id, userId == admin else { throw AnalyticsError.organizationForbidden }
        return org
    }

    func organizationStats(_ org: OrganizationRef, window: AnalyticsWindow) async throws -> OrganizationStats {
        throw AnalyticsError.databaseUnavailable("not used here")
    }

    func organizationReport(_ org: OrganizationRef, month: ReportMonth) async throws -> OrganizationReport {
        called("report")
        let figures = OrganizationReport.Figures(
            org: org, month: month, members: 1, activeMembers: 1, runs: count("report"), previousRuns: 0, packages: [], teams: [],
            memberActivity: [])
        return OrganizationReport(figures, prices: Prices(), current: ReportMonth(year: 2026, month: 12))
    }

    func trending(limit: Int) async throws -> TrendingPackages {
        called("trending")
        return TrendingPackages(computedAt: nil, packages: [])
    }

    func popular(window: AnalyticsWindow, limit: Int) async throws -> PopularPackages {
        called("popular")
        return PopularPackages(days: window.days, packages: [])
    }

    func summary() async throws -> SiteSummary {
        called("summary")
        return SiteSummary(totalRuns: 0, uniqueUsers: 0, packagesWithRuns: 0, computedAt: "2026-11-30T00:00:00Z")
    }
}

@Suite struct CachedAnalyticsTests {
    static func make() -> (InMemoryAnalytics, CachedAnalytics) {
        let source = InMemoryAnalytics()
        let cache = ResponseCacheTests.cache(InMemoryCacheStore()) { $0.publicLag = 0 }
        return (source, CachedAnalytics(source: source, cache: cache, authCacheSeconds: 30))
    }

    @Test func answersComeFromTheSourceOnceThenFromTheCache() async throws {
        let (source, analytics) = Self.make()
        let first = try await analytics.trending(limit: 5)
        let second = try await analytics.trending(limit: 5)
        #expect(first.status == .miss)
        #expect(second.status == .hit)
        #expect(try JSONDecoder().decode(TrendingPackages.self, from: Data(second.entry.body)) == TrendingPackages(computedAt: nil, packages: []))
        #expect(source.count("trending") == 1)
        // The worker's new trends show within the lag (0 here: on the next read).
        await analytics.cache.recordTrendsComputed()
        #expect(try await analytics.trending(limit: 5).status == .miss)
        #expect(source.count("trending") == 2)
    }

    @Test func lookupsBeforeTheCacheAreKeptForAWhile() async throws {
        let (source, analytics) = Self.make()
        #expect(try await analytics.resolvePackage("in-memory") == source.package)
        #expect(try await analytics.resolvePackage("in-memory") == source.package)
        #expect(source.count("resolvePackage") == 1)
        await #expect(throws: AnalyticsError.packageNotFound) { try await analytics.resolvePackage("missing") }
        await #expect(throws: AnalyticsError.organizationForbidden) {
            try await analytics.organization(source.org.id, caller: UUID(), days: 30)
        }
    }
}

@Suite struct CachedReportTests {
    @Test func reportsAreCachedPerMonthAndJudgedByTheOrganizationsWrites() async throws {
        let (source, analytics) = CachedAnalyticsTests.make()
        let month = ReportMonth(year: 2026, month: 11)
        let read = { (month: ReportMonth) in try await analytics.organizationReport(source.org.id, caller: source.admin, month: month) }
        #expect(try await read(month).status == .miss)
        #expect(try await read(month).status == .hit)
        #expect(try await read(month.previous).status == .miss)
        #expect(source.count("report") == 2)
        // A write of the organization's rows marks its reports too (CACHE_PUBLIC_LAG_S is 0 here).
        var affected = AffectedEntities()
        affected.orgIds = [source.org.id]
        await analytics.cache.recordWrite(affected)
        try await Task.sleep(for: .milliseconds(5))  // a snapshot in the mark's millisecond counts as missing it
        let again = try await read(month)
        #expect(again.status == .miss)
        #expect(try JSONDecoder().decode(OrganizationReport.self, from: Data(again.entry.body)).totalRuns == 3)
        // Another user's write does not.
        var other = AffectedEntities()
        other.userIds = [UUID()]
        await analytics.cache.recordWrite(other)
        #expect(try await read(month).status == .hit)
        // The owner/admin check comes first, as for the organization answer.
        await #expect(throws: AnalyticsError.organizationForbidden) {
            try await analytics.organizationReport(source.org.id, caller: UUID(), month: month)
        }
        let key = CacheKey(endpoint: .organizationReport, entityId: source.org.id, days: month.number)
        #expect(key.description == "analytics:v1:organization-report:\(source.org.id.canonical):202611")
        #expect(key.writtenKey == CacheKey(endpoint: .organization, entityId: source.org.id, days: 30).writtenKey)
    }
}

@Suite("Popularity rank from a ranking snapshot")
struct RankingTests {
    @Test func oneMoreThanTheOtherPackagesWithMoreRuns() throws {
        let ids = (0..<4).map { _ in UUID() }
        let popular = PopularPackages(
            days: 30,
            packages: zip(ids, [10, 8, 8, 5]).enumerated().map { index, pair in
                PopularPackages.Entry(id: pair.0, name: "p\(index)", runs: pair.1, uniqueUsers: 1, rank: [1, 2, 2, 4][index])
            })
        let ranking = CachedAnalytics.Ranking(popular)
        #expect(ranking.rank(of: ids[0], runs: 10) == 1)
        #expect(ranking.rank(of: ids[1], runs: 8) == 2)  // ties share a rank
        #expect(ranking.rank(of: ids[3], runs: 5) == 4)
        #expect(ranking.rank(of: UUID(), runs: 9) == 2)  // newer than the snapshot
        #expect(ranking.rank(of: ids[3], runs: 12) == 1)  // grew since
        #expect(ranking.rank(of: ids[0], runs: 7) == 3)  // shrank: its own old runs do not count
    }
}
