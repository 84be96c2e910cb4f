import Foundation
import Postgres

/// One usage row as its owner sees it (the feedback widget).
public struct UsageRow: Sendable, Equatable {
    public let id: UUID
    public let packageName: String?
    public let packageVersion: String?
    public let model: String
    public let createdAt: Date
    public let rating: Int?
    public let wasHelpful: Bool?
    public let feedback: String?
}

extension AnalyticsQueries {
    /// The row `id` if `owner` owns it; nil otherwise (missing and foreign rows look the same).
    public func usageRow(_ id: UUID, owner: UUID) async throws -> UsageRow? {
        let rows = try await run(AnalyticsSQL.usageRow, [id, owner])
        return try rows.first.map { row in
            UsageRow(
                id: try row.decode("id"), packageName: try row.decode("package_name", as: String?.self),
                packageVersion: try row.decode("package_version", as: String?.self), model: try row.decode("model"),
                createdAt: try row.decode("created_at"), rating: try row.decode("user_rating", as: Int?.self),
                wasHelpful: try row.decode("was_helpful", as: Bool?.self), feedback: try row.decode("user_feedback", as: String?.self))
        }
    }
}
