import Analytics
import Foundation

/// The read endpoints whose answers are cached.
public enum CachedEndpoint: String, Sendable, CaseIterable {
    case package
    case user
    case organization
    case trending
}

/// `analytics:v1:{endpoint}:{entityId}:{days}`, entityId the canonical (lower-case) UUID.
public struct CacheKey: Sendable, Hashable, CustomStringConvertible {
    public static let prefix = "analytics:v1:"

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

    public var description: String { "\(Self.prefix)\(endpoint.rawValue):\(entityId):\(days)" }

    /// The lock that lets one replica compute a missing entry.
    public var lockKey: String { "\(Self.prefix)lock:\(endpoint.rawValue):\(entityId):\(days)" }

    /// Every `days` variant of one entity: what a write invalidates.
    public static func allWindows(_ endpoint: CachedEndpoint, _ entityId: UUID) -> [String] {
        AnalyticsWindow.allowedDays.map { CacheKey(endpoint: endpoint, entityId: entityId, days: $0).description }
    }

    /// Every key fed by the usage rows of these entities.
    public static func invalidated(by affected: AffectedEntities) -> [String] {
        affected.packageIds.flatMap { allWindows(.package, $0) } + affected.userIds.flatMap { allWindows(.user, $0) }
            + affected.orgIds.flatMap { allWindows(.organization, $0) }
    }

    /// The sorted set of decayed package read counts (the worker's hot set).
    public static let hotPackages = "\(prefix)hot:packages"
}
