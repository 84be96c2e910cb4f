import ConnectionPool
import Foundation
import Postgres

/// The cache entries a changed usage row feeds: its package, its user and its org.
public struct AffectedEntities: Sendable, Equatable {
    public var packageIds: Set<UUID> = []
    public var userIds: Set<UUID> = []
    public var orgIds: Set<UUID> = []
    public init() {}
}

extension AnalyticsQueries {

    /// Stores feedback on the caller's own usage row. Fields not given stay as they are.
    /// Another user's row, or no row, is `usageNotFound`; text on a row older than 6 months is
    /// `feedbackExpired` (nothing changed; a rating or helpfulness alone is still stored).
    /// `waitAtMost` bounds the wait for a connection (see `writeConnection`).
    public func submitFeedback(_ input: FeedbackInput, userId: UUID, waitAtMost: Duration? = nil) async throws -> (
        FeedbackResult, AffectedEntities
    ) {
        let rows = try await writeConnection(waitAtMost: waitAtMost) { c in
            try c.query(AnalyticsSQL.feedback, [input.usageId, userId, input.rating, input.wasHelpful, input.feedback], prepare: true)
        }
        guard let row = rows.first else {
            let owned = try await run(AnalyticsSQL.usageOwned, [input.usageId, userId]).first?.decode("owned", as: Bool.self) == true
            throw owned && input.feedback != nil ? AnalyticsError.feedbackExpired(field: "feedback", index: nil) : AnalyticsError.usageNotFound
        }
        var affected = AffectedEntities()
        affected.userIds.insert(try row.decode("user_id"))
        if let package: UUID = try row.decode("package_id", as: UUID?.self) { affected.packageIds.insert(package) }
        if let org: UUID = try row.decode("org_id", as: UUID?.self) { affected.orgIds.insert(org) }
        let result = FeedbackResult(
            usageId: try row.decode("id"), rating: try row.decode("user_rating", as: Int?.self),
            wasHelpful: try row.decode("was_helpful", as: Bool?.self), feedback: try row.decode("user_feedback", as: String?.self))
        return (result, affected)
    }

    /// An `Idempotency-Key` and the request body it came with.
    public struct Idempotency: Sendable {
        public let key: String
        public let body: String
        public init(key: String, body: String) {
            self.key = key
            self.body = body
        }
    }

    /// Inserts a validated batch in one statement (all or nothing). A reference to a user,
    /// org, package or session that does not exist is reported with the first event's index.
    /// With `idempotency`, the key and a digest of the body are stored in the same transaction:
    /// the same key with the same body returns the first answer and inserts nothing (the
    /// `inserted` flag is false); with another body it is refused.
    public func ingest(_ events: [UsageEvent], idempotency: Idempotency? = nil, waitAtMost: Duration? = nil) async throws -> (
        ids: [UUID], affected: AffectedEntities, inserted: Bool
    ) {
        let ids = events.map { _ in UUID() }
        func column<T: PostgresEncodable>(_ value: (UsageEvent) -> T?) -> PostgresArray {
            PostgresArray(events.map { value($0)?.postgresText ?? nil })
        }
        let parameters: [any PostgresEncodable] = [
            PostgresArray(ids), column(\.userId), column(\.orgId), column(\.packageId), column(\.packageVersion), column(\.sessionId),
            column(\.model), column(\.tokensUsed), column(\.durationMs), column(\.creditsSpent), column(\.requestSizeBytes),
            column(\.responseSizeBytes), column(\.inputLength), column(\.outputLength), column(\.errorOccurred), column(\.errorMessage),
            column(\.userRating), column(\.wasHelpful), column(\.userFeedback), column(\.comparisonMode), column(\.createdAt),
        ]
        let stored: [UUID]?
        do {
            stored = try await writeConnection(waitAtMost: waitAtMost) { c -> [UUID]? in
                guard let idempotency else {
                    // One statement is atomic on its own: without BEGIN and COMMIT the row locks its
                    // rollup triggers take on the hottest package-days are released as the statement
                    // ends, not two client round trips later (under a busy CPU those round trips are
                    // most of the time other batches wait for those locks).
                    try c.query(AnalyticsSQL.ingest, parameters, prepare: true)
                    return nil
                }
                return try c.transaction { c -> [UUID]? in
                    // A concurrent request with the same key waits here for the first to commit.
                    let claimed = try c.query(
                        """
                        INSERT INTO ingest_requests (key, body_sha256, ids) VALUES ($1, sha256(convert_to($2, 'UTF8')), $3::uuid[])
                        ON CONFLICT (key) DO NOTHING RETURNING key
                        """, [idempotency.key, idempotency.body, PostgresArray(ids)], prepare: true)
                    if claimed.isEmpty {
                        let earlier = try c.query(
                            """
                            SELECT u.id, r.body_sha256 = sha256(convert_to($2, 'UTF8')) AS same
                            FROM ingest_requests r, unnest(r.ids) WITH ORDINALITY AS u(id, n) WHERE r.key = $1 ORDER BY u.n
                            """, [idempotency.key, idempotency.body])
                        guard let first = earlier.first, try first.decode("same", as: Bool.self) else {
                            throw AnalyticsError.invalidField(field: "Idempotency-Key", reason: "was already used with another body", index: nil)
                        }
                        return try earlier.map { try $0.decode("id", as: UUID.self) }
                    }
                    try c.query(AnalyticsSQL.ingest, parameters, prepare: true)
                    return nil
                }
            }
        } catch let error as PostgresError where error.sqlState == PostgresError.foreignKeyViolation {
            throw try await firstMissingReference(events) ?? error
        }
        if let stored { return (stored, AffectedEntities(), false) }
        var affected = AffectedEntities()
        for event in events {
            affected.userIds.insert(event.userId)
            if let package = event.packageId { affected.packageIds.insert(package) }
            if let org = event.orgId { affected.orgIds.insert(org) }
        }
        return (ids, affected, true)
    }

    /// Runs a write. Only the wait for a connection is bounded (`waitAtMost`) and ends on
    /// cancellation, before anything was sent: once the statement is sent, its outcome is
    /// awaited whatever happens to the caller, so a committed write is never reported as
    /// failed (the statement itself is bounded by the server's `statement_timeout`).
    private func writeConnection<T: Sendable>(
        waitAtMost: Duration?, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await writer.withConnection(acquireTimeout: waitAtMost, onCancel: .awaitOutcome, body)
    }

    /// Finds the first event that names a row that does not exist.
    private func firstMissingReference(_ events: [UsageEvent]) async throws -> AnalyticsError? {
        let references: [(field: String, table: String, value: (UsageEvent) -> UUID?)] = [
            ("userId", "users", { $0.userId }), ("orgId", "organizations", { $0.orgId }),
            ("packageId", "packages", { $0.packageId }), ("sessionId", "playground_sessions", { $0.sessionId }),
        ]
        var missing: [String: Set<UUID>] = [:]
        for reference in references {
            let wanted = Set(events.compactMap(reference.value))
            guard !wanted.isEmpty else { continue }
            let found = try await run("SELECT id FROM \(reference.table) WHERE id = ANY($1::uuid[])", [PostgresArray(Array(wanted))])
            missing[reference.field] = wanted.subtracting(try found.map { try $0.decode("id", as: UUID.self) })
        }
        for (index, event) in events.enumerated() {
            for reference in references {
                if let id = reference.value(event), missing[reference.field]?.contains(id) == true {
                    return .invalidField(field: reference.field, reason: "no such \(reference.table.dropLast()) \(id.canonical)", index: index)
                }
            }
        }
        return nil
    }

}
