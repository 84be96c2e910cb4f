import Foundation
import Postgres

/// What authentication asks Postgres.
extension AnalyticsQueries {
    /// True when the user exists and is not deleted (authentication).
    public func isActiveUser(_ id: UUID) async throws -> Bool {
        try await !run("SELECT 1 AS ok FROM users WHERE id = $1 AND deleted_at IS NULL", [id]).isEmpty
    }
}
