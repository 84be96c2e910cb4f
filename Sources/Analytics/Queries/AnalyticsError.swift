import Foundation

/// Errors of the domain, mapped once to HTTP statuses by the API layer.
public enum AnalyticsError: Error, Sendable, Equatable {
    case packageNotFound
    case usageNotFound
    /// Not an owner/admin of the organization, or the organization does not exist.
    case organizationForbidden
    /// A field failed validation; `index` is the event's index in an ingestion batch.
    case invalidField(field: String, reason: String, index: Int?)
    /// Feedback text on a run older than the 6 months feedback text is kept (`RetentionRules`):
    /// refused, nothing stored. `field` is the body's name for the text; `index` the event's
    /// index in an ingestion batch.
    case feedbackExpired(field: String, index: Int?)
    /// The source of truth is unreachable.
    case databaseUnavailable(String)
    /// The request's deadline passed before the answer was computed.
    case timedOut
}
