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
        throw AnalyticsError.databaseUnavailable("not used here")
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
