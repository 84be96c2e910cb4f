import Foundation
import Postgres

/// Inserts rows straight into the contract's tables, with names unique to each test, so
/// tests can share a database and still compute their expected values independently.
public struct Fixture: Sendable {
    public let postgres: PostgresClient
    public let tag: String

    public init(postgres: PostgresClient) {
        self.postgres = postgres
        self.tag = String(UUID().uuidString.prefix(8)).lowercased()
    }

    @discardableResult
    public func user(_ name: String, deletedAt: Date? = nil) async throws -> UUID {
        let id = UUID()
        try await exec(
            "INSERT INTO users (id, username, email, deleted_at) VALUES ($1, $2, $3, $4)", [id, "\(name)-\(tag)", "\(name)@example.com", deletedAt])
        return id
    }

    @discardableResult
    public func package(_ name: String) async throws -> (id: UUID, name: String) {
        let id = UUID()
        let full = "\(name)-\(tag)"
        try await exec("INSERT INTO packages (id, name) VALUES ($1, $2)", [id, full])
        return (id, full)
    }

    @discardableResult
    public func organization(_ name: String) async throws -> UUID {
        let id = UUID()
        try await exec("INSERT INTO organizations (id, name) VALUES ($1, $2)", [id, "\(name)-\(tag)"])
        return id
    }

    public func member(org: UUID, user: UUID, role: String, team: String? = nil) async throws {
        try await exec("INSERT INTO organization_members (org_id, user_id, role, team) VALUES ($1, $2, $3, $4)", [org, user, role, team])
    }

    /// One usage row; `daysAgo` counts UTC calendar days back from today (0 = today),
    /// `hour` the UTC hour that day.
    public struct Usage: Sendable {
        public var user: UUID
        public var package: UUID?
        public var org: UUID?
        public var version: String?
        public var model = "gpt-4o"
        public var tokens = 100
        public var duration = 1000
        public var credits = 1
        public var error: Bool? = false
        public var rating: Int?
        public var daysAgo = 0
        public var hour = 0
        public var minute = 0
        /// An exact time instead of `daysAgo`, `hour` and `minute` (rows of a given month).
        public var at: Date?

        public init(user: UUID, package: UUID? = nil, org: UUID? = nil) {
            self.user = user
            self.package = package
            self.org = org
        }
    }

    /// The timestamp of `daysAgo` UTC days before today at `hour`:`minute`.
    public static func timestamp(daysAgo: Int, hour: Int = 0, minute: Int = 0, now: Date = Date()) -> Date {
        let today = (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
        return Date(timeIntervalSince1970: today - Double(daysAgo) * 86_400 + Double(hour * 3600 + minute * 60))
    }

    @discardableResult
    public func usage(_ rows: [Usage]) async throws -> [UUID] {
        var ids: [UUID] = []
        for row in rows {
            let id = UUID()
            ids.append(id)
            try await exec(
                """
                INSERT INTO playground_usage (id, user_id, org_id, package_id, package_version, model, tokens_used, duration_ms,
                  credits_spent, error_occurred, user_rating, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                """,
                [
                    id, row.user, row.org, row.package, row.version, row.model, row.tokens, row.duration, row.credits, row.error, row.rating,
                    row.at ?? Self.timestamp(daysAgo: row.daysAgo, hour: row.hour, minute: row.minute),
                ])
        }
        return ids
    }

    /// (Retried once on a fresh connection: fault tests restart the server under shared pools.)
    public func exec(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws {
        _ = try await postgres.withConnection(retryOnBrokenConnection: true) { try $0.query(sql, parameters) }
    }

    public func scalar(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> String? {
        try await postgres.withConnection(retryOnBrokenConnection: true) { try $0.query(sql, parameters) }.first?.values.first ?? nil
    }

    /// Folds the queued inserts into the rollups (migration 17): before a test reads a rollup
    /// table itself (the service's reads fold what they read).
    public func fold() async throws {
        try await exec("SELECT usage_fold()")
    }

    /// `scalar` after `fold()`: a test's own read of the rollup tables.
    public func rollupScalar(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> String? {
        try await fold()
        return try await scalar(sql, parameters)
    }

    /// A digest of every row of the analytics tables, to prove that bad input changed nothing
    /// (after a fold: whether earlier writes still wait in the queue is no change of data).
    public func databaseDigest() async throws -> String {
        try await fold()
        return try await scalar(
            """
            SELECT md5(
              coalesce((SELECT string_agg(u::text, ',' ORDER BY id) FROM playground_usage u), '') ||
              coalesce((SELECT string_agg(s::text, ',' ORDER BY package_id, day) FROM package_daily_stats s), '') ||
              coalesce((SELECT string_agg(x::text, ',' ORDER BY id) FROM users x), ''))
            """) ?? ""
    }
}
