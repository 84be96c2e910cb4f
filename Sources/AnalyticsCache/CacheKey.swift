import Analytics
import Foundation

/// The read endpoints whose answers are cached.
public enum CachedEndpoint: String, Sendable, CaseIterable {
    case package
    case user
    case organization
    /// The monthly report of an organization (days slot: the month as `YYYYMM`). Judged by the
    /// organization's write marks, like the organization answer.
    case organizationReport = "organization-report"
    case trending
    /// Site-wide: refreshed by their TTL (`CACHE_TTL_TRENDING_S`), not by write marks.
    case popular
    case summary

    /// The endpoint whose write marks judge this one's entries.
    public var marks: CachedEndpoint { self == .organizationReport ? .organization : self }
}

/// `analytics:v1:{endpoint}:{entityId}:{days}`, entityId the canonical (lower-case) UUID.
public struct CacheKey: Sendable, Hashable, CustomStringConvertible {
    public let endpoint: CachedEndpoint
    public let entityId: String
    public let days: Int

    public init(endpoint: CachedEndpoint, entityId: UUID, days: Int) {
        self.init(endpoint: endpoint, entity: entityId.canonical, days: days)
    }

    /// For entity-less endpoints such as `trending` (entity "all", days = limit).
    public init(endpoint: CachedEndpoint, entity: String, days: Int) {
        self.endpoint = endpoint
        self.entityId = entity
        self.days = days
    }

    public var description: String { RedisKeyspace.entry(endpoint, entity: entityId, days: days) }

    /// The lock that lets one replica compute a missing entry.
    public var lockKey: String { RedisKeyspace.computationLock(endpoint, entity: entityId, days: days) }

    /// `{endpoint}:{entityId}`: what a write marks (every `days` variant of it; an organization's
    /// marks judge its reports too).
    public var entity: String { "\(endpoint.marks.rawValue):\(entityId)" }

    /// The time (ms) of the newest write to an entity: entries whose snapshot is older miss it.
    public static func writtenKey(ofEntity entity: String) -> String { RedisKeyspace.writeMark(ofEntity: entity) }

    public var writtenKey: String { Self.writtenKey(ofEntity: entity) }

    /// The entities fed by the usage rows of a write.
    public static func entities(_ affected: AffectedEntities) -> [String] {
        affected.packageIds.map { "package:\($0.canonical)" } + affected.userIds.map { "user:\($0.canonical)" }
            + affected.orgIds.map { "organization:\($0.canonical)" }
    }
}
