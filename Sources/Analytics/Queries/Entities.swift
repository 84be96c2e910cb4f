import Foundation

/// A package resolved from a UUID or a name.
public struct PackageRef: Sendable, Equatable, Hashable {
    public let id: UUID
    public let name: String
    public init(id: UUID, name: String) {
        self.id = id
        self.name = name
    }
}

/// An organization the caller may read.
public struct OrganizationRef: Sendable, Equatable {
    public let id: UUID
    public let name: String
    public init(id: UUID, name: String) {
        self.id = id
        self.name = name
    }
}

/// Errors of the domain, mapped once to HTTP statuses by the API layer.
public enum AnalyticsError: Error, Sendable, Equatable {
    case packageNotFound
    case usageNotFound
    /// Not an owner/admin of the organization, or the organization does not exist.
    case organizationForbidden
    /// A field failed validation; `index` is the event's index in an ingestion batch.
    case invalidField(field: String, reason: String, index: Int?)
    /// The source of truth is unreachable.
    case databaseUnavailable(String)
}

extension UUID {
    /// The canonical (lower-case) text form used in cache keys and responses.
    public var canonical: String { uuidString.lowercased() }
}
