import Foundation
import Postgres

/// Computes every answer of the API from Postgres. Stateless: safe to share.
public struct AnalyticsQueries: Sendable {
    public let postgres: PostgresClient
    /// Where ingestion and feedback run: a pool of their own in the API (a bulkhead: a write
    /// that waits for the row locks of a hot package's rollups holds a connection and a
    /// thread, and reads must not queue behind it); `postgres` otherwise.
    public let writer: PostgresClient

    public init(postgres: PostgresClient, writer: PostgresClient? = nil) {
        self.postgres = postgres
        self.writer = writer ?? postgres
    }

    /// One prepared read, retried once on a fresh connection after a server restart.
    func run(_ sql: String, _ parameters: [any PostgresEncodable]) async throws -> PostgresRows {
        try await postgres.query(sql, parameters)
    }
}
