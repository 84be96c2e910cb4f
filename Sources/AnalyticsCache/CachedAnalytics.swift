import Analytics
import Foundation

/// The analytics answers through the cache: wraps any `AnalyticsReading` (the Postgres
/// queries in production) and serves each answer as the stored response bytes, keyed by the
/// entity's canonical UUID and computed by the wrapped reader on a miss. Also keeps the
/// lookups every read needs first (package name → id, org admin check) for a short while,
/// and counts package reads for the worker's hot set.
public struct CachedAnalytics: Sendable {
    public let source: any AnalyticsReading
    public let cache: ResponseCache
    public let hotReads: HotReadRecorder?
    /// Name or UUID → package (names are unique; a package is never renamed here).
    private let packages = TTLCache<String, PackageRef>(
        ttl: .seconds(300), capacity: 50_000, maxBytes: 16 << 20, name: "package_refs",
        cost: { key, package in key.utf8.count + package.name.utf8.count + 64 })
    private let organizations: TTLCache<String, OrganizationRef>
    /// Names and ids Postgres did not know, for a few seconds: a client asking for the same
    /// missing package again and again costs one lookup per `unknownTTL`, and nothing in Redis.
    private let unknown = TTLCache<String, Bool>(
        ttl: .seconds(10), capacity: 10_000, maxBytes: 4 << 20, name: "unknown_packages", cost: { key, _ in key.utf8.count + 32 })
    /// Decoded site-wide rankings by window, with the ETag of the entry they were decoded from:
    /// a package computation does not decode the same ranking again (the worker refreshes
    /// thousands of packages per cycle), and a new ranking replaces its window's old one.
    private let rankings = TTLCache<Int, Versioned<Ranking>>(
        ttl: .seconds(600), capacity: 400, maxBytes: 32 << 20, name: "rankings", cost: { _, ranking in 128 + ranking.value.runs.count * 64 })
    /// `popular` answers shorter than the cached top 100, by window and limit, with the ETag of
    /// the answer they were cut from.
    private let popularPrefixes = TTLCache<String, Versioned<CacheEntry>>(
        ttl: .seconds(600), capacity: 2_000, maxBytes: 8 << 20, name: "popular_prefixes",
        cost: { key, entry in key.utf8.count + entry.value.body.count + 128 })

    /// Runs per package of one ranking, and all runs sorted, for "how many have more".
    struct Ranking: Sendable {
        let runs: [UUID: Int]
        let descending: [Int]

        init(_ popular: PopularPackages) {
            runs = Dictionary(popular.packages.map { ($0.id, $0.runs) }, uniquingKeysWith: max)
            descending = popular.packages.map(\.runs).sorted(by: >)
        }

        /// 1 + the other packages with more runs than `runs`.
        func rank(of package: UUID, runs mine: Int) -> Int {
            var low = 0
            var high = descending.count
            while low < high {
                let middle = (low + high) / 2
                if descending[middle] > mine { low = middle + 1 } else { high = middle }
            }
            let itself = (runs[package] ?? 0) > mine ? 1 : 0
            return 1 + low - itself
        }
    }

    public init(source: any AnalyticsReading, cache: ResponseCache, hotReads: HotReadRecorder? = nil, authCacheSeconds: Int = 30) {
        self.source = source
        self.cache = cache
        self.hotReads = hotReads
        self.organizations = TTLCache(
            ttl: .seconds(authCacheSeconds), capacity: 100_000, maxBytes: 16 << 20, name: "org_admin_checks",
            cost: { key, org in key.utf8.count + org.name.utf8.count + 96 })
    }

    /// The package behind a UUID or a name; `packageNotFound` when there is none. Looked up
    /// in this process, then beside the cached entries (so a cached package page keeps being
    /// served while Postgres is down, also on another replica or after a restart), then in
    /// Postgres.
    ///
    /// Only canonical spellings are looked up (`PackageIdentity`: anything else is not found
    /// before any lookup), and only what Postgres returned is remembered: the package under its
    /// id or its exact name. A name Postgres did not know is remembered in this process only, briefly.
    public func resolvePackage(_ idOrName: String) async throws -> PackageRef {
        guard let key = PackageIdentity.canonical(idOrName), unknown[key] == nil else { throw AnalyticsError.packageNotFound }
        if let known = packages[key] { return known }
        if let remembered = await cache.knownPackage(key) {
            packages[key] = remembered
            return remembered
        }
        guard let package = try await source.resolvePackage(key), key == package.id.canonical || key == package.name else {
            unknown[key] = true
            throw AnalyticsError.packageNotFound
        }
        packages[key] = package
        await cache.rememberPackage(package, as: key)
        return package
    }

    public func package(_ idOrName: String, days: Int) async throws -> (PackageRef, CachedResponse) {
        let package = try await resolvePackage(idOrName)
        let response = try await cache.read(Self.packageKey(package.id, days: days), compute: packageAnswer(package, days: days))
        hotReads?.record(packageId: package.id)
        return (package, response)
    }

    /// Recomputes a package answer into the cache (the worker's refresh-ahead). With
    /// `unlessFreshFor`, an entry that shows every write and stays fresh that long is left as
    /// it is. Returns whether it was computed.
    @discardableResult
    public func refreshPackage(_ packageId: UUID, days: Int, unlessFreshFor horizon: Duration? = nil) async throws -> Bool {
        let package: PackageRef
        do {
            package = try await resolvePackage(packageId.canonical)
        } catch AnalyticsError.packageNotFound {
            return false
        }
        let key = Self.packageKey(packageId, days: days)
        return try await cache.refresh(key, unlessFreshFor: horizon, compute: packageAnswer(package, days: days)) != nil
    }

    public func user(_ userId: UUID, days: Int) async throws -> CachedResponse {
        try await cache.read(CacheKey(endpoint: .user, entityId: userId, days: days)) { [source] in
            try ResponseEncoding.encode(try await source.userStats(userId: userId, window: AnalyticsWindow(days: days)))
        }
    }

    /// The caller must be an owner or admin of the organization (checked before the cache).
    public func organization(_ orgId: UUID, caller: UUID, days: Int) async throws -> CachedResponse {
        let org = try await authorizedOrganization(orgId, caller: caller)
        return try await cache.read(CacheKey(endpoint: .organization, entityId: orgId, days: days)) { [source] in
            try ResponseEncoding.encode(try await source.organizationStats(org, window: AnalyticsWindow(days: days)))
        }
    }

    /// The monthly report (key: the organization, days slot `YYYYMM`); owner or admin only, as
    /// the organization answer, and judged by the same write marks.
    public func organizationReport(_ orgId: UUID, caller: UUID, month: ReportMonth) async throws -> CachedResponse {
        let org = try await authorizedOrganization(orgId, caller: caller)
        return try await cache.read(CacheKey(endpoint: .organizationReport, entityId: orgId, days: month.number)) { [source] in
            try ResponseEncoding.encode(try await source.organizationReport(org, month: month))
        }
    }

    /// The organization when `caller` is one of its owners or admins (`organizationForbidden`
    /// otherwise), remembered for `authCacheSeconds`.
    private func authorizedOrganization(_ orgId: UUID, caller: UUID) async throws -> OrganizationRef {
        let authKey = "\(orgId.canonical):\(caller.canonical)"
        if let known = organizations[authKey] { return known }
        let org = try await source.authorizeOrganizationAdmin(orgId: orgId, userId: caller)
        organizations[authKey] = org
        return org
    }

    public func trending(limit: Int) async throws -> CachedResponse {
        try await cache.read(CacheKey(endpoint: .trending, entity: "all", days: limit)) { [source] in
            try ResponseEncoding.encode(try await source.trending(limit: limit))
        }
    }

    /// The widest `popular` answer: every smaller `limit` is a prefix of it.
    public static let popularWidth = 100

    /// Packages by runs in the window. One cached answer per window, the top `popularWidth`
    /// (key: entity `d<days>`, days slot 100), whatever `limit` asks: the key space and the
    /// Postgres work are one per window, not one per window and limit. A smaller `limit` is
    /// its prefix, made once per version of the answer.
    public func popular(days: Int, limit: Int) async throws -> CachedResponse {
        let top = try await popularWindow(days: days, limit: Self.popularWidth)
        guard limit < Self.popularWidth else { return top }
        let entry = try popularPrefixes.value("\(days):\(limit)", version: top.entry.etag) {
            var answer = try JSONDecoder().decode(PopularPackages.self, from: Data(top.entry.body))
            guard answer.packages.count > limit else { return top.entry }
            answer.packages.removeLast(answer.packages.count - limit)
            return CacheEntry(body: try ResponseEncoding.encode(answer), snapshot: top.entry.snapshot, computeMillis: top.entry.computeMillis)
        }
        return top.replacingEntry(entry)
    }

    /// The cached answer of a window with `limit` packages (0: all, the ranking behind
    /// `popularityRank`).
    private func popularWindow(days: Int, limit: Int) async throws -> CachedResponse {
        try await cache.read(CacheKey(endpoint: .popular, entity: "d\(days)", days: limit)) { [source] in
            try ResponseEncoding.encode(try await source.popular(window: AnalyticsWindow(days: days), limit: limit > 0 ? limit : Int(Int32.max)))
        }
    }

    public func summary() async throws -> CachedResponse {
        try await cache.read(CacheKey(endpoint: .summary, entity: "all", days: 0)) { [source] in
            try ResponseEncoding.encode(try await source.summary())
        }
    }

    func ranking(days: Int) async throws -> Ranking {
        let entry = try await popularWindow(days: days, limit: 0).entry
        return try rankings.value(days, version: entry.etag) {
            Ranking(try JSONDecoder().decode(PopularPackages.self, from: Data(entry.body)))
        }
    }

    static func packageKey(_ id: UUID, days: Int) -> CacheKey { CacheKey(endpoint: .package, entityId: id, days: days) }

    /// The package's figures with its rank in the site-wide ranking of the window (a cached
    /// answer of its own: one ranking per window serves every package's computation).
    private func packageAnswer(_ package: PackageRef, days: Int) -> @Sendable () async throws -> [UInt8] {
        { [source, self] in
            var stats = try await source.packageStats(package, window: AnalyticsWindow(days: days))
            if stats.totalRuns > 0 {
                // 1 + the packages with more runs: the package's own runs are fresh, the others' from
                // the ranking's snapshot (a package newer than the snapshot gets a rank too).
                stats.popularityRank = try await self.ranking(days: days).rank(of: package.id, runs: stats.totalRuns)
            }
            return try ResponseEncoding.encode(stats)
        }
    }
}
