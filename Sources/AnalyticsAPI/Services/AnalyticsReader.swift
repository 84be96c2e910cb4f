import Analytics
import AnalyticsCache
import Foundation

/// The read side of the API: every read goes through the Redis cache, keyed by the
/// entity's canonical UUID, and is computed from Postgres on a miss.
public struct AnalyticsReader: Sendable {
    public let queries: AnalyticsQueries
    public let cache: ResponseCache
    public let hotReads: HotReadRecorder
    /// Name or UUID → package (names are unique; a package is never renamed here).
    private let packages = TTLCache<String, PackageRef>(ttl: .seconds(300), capacity: 50_000)
    private let organizations: TTLCache<String, OrganizationRef>
    /// Bounds the Postgres work of a read (cache hits never reach it: they are bounded by
    /// the Redis timeouts and cost no extra tasks).
    let deadline: RequestDeadline

    init(queries: AnalyticsQueries, cache: ResponseCache, hotReads: HotReadRecorder, authCacheSeconds: Int, deadline: RequestDeadline) {
        self.deadline = deadline
        self.queries = queries
        self.cache = cache
        self.hotReads = hotReads
        self.organizations = TTLCache(ttl: .seconds(authCacheSeconds), capacity: 100_000)
    }

    static func encode(_ value: some Encodable) throws -> [UInt8] { try ResponseEncoding.encode(value) }

    /// The package behind a UUID or a name; `packageNotFound` when there is none.
    public func resolvePackage(_ idOrName: String) async throws -> PackageRef {
        if let known = packages[idOrName] { return known }
        guard let package = try await deadline.run({ [queries] in try await queries.resolvePackage(idOrName) }) else {
            throw AnalyticsError.packageNotFound
        }
        packages[idOrName] = package
        return package
    }

    public func package(_ idOrName: String, days: Int) async throws -> (PackageRef, CachedResponse) {
        let package = try await resolvePackage(idOrName)
        let key = CacheKey(endpoint: .package, entityId: package.id, days: days)
        let response = try await cache.read(key) { [queries, deadline] in
            try await deadline.run { try Self.encode(try await queries.packageStats(package, window: AnalyticsWindow(days: days))) }
        }
        hotReads.record(packageId: package.id)
        return (package, response)
    }

    public func user(_ userId: UUID, days: Int) async throws -> CachedResponse {
        try await cache.read(CacheKey(endpoint: .user, entityId: userId, days: days)) { [queries, deadline] in
            try await deadline.run { try Self.encode(try await queries.userStats(userId: userId, window: AnalyticsWindow(days: days))) }
        }
    }

    /// The caller must be an owner or admin of the organization (checked before the cache).
    public func organization(_ orgId: UUID, caller: UUID, days: Int) async throws -> CachedResponse {
        let authKey = "\(orgId.canonical):\(caller.canonical)"
        let org: OrganizationRef
        if let known = organizations[authKey] {
            org = known
        } else {
            org = try await deadline.run { [queries] in try await queries.authorizeOrganizationAdmin(orgId: orgId, userId: caller) }
            organizations[authKey] = org
        }
        return try await cache.read(CacheKey(endpoint: .organization, entityId: orgId, days: days)) { [queries, deadline] in
            try await deadline.run { try Self.encode(try await queries.organizationStats(org, window: AnalyticsWindow(days: days))) }
        }
    }

    public func trending(limit: Int) async throws -> CachedResponse {
        try await cache.read(CacheKey(endpoint: .trending, entity: "all", days: limit)) { [queries, deadline] in
            try await deadline.run { try Self.encode(try await queries.trending(limit: limit)) }
        }
    }
}
