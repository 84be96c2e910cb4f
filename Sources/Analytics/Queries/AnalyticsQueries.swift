import Foundation
import Postgres

/// Computes every answer of the API from Postgres. Stateless: safe to share.
public struct AnalyticsQueries: Sendable {
    public let postgres: PostgresClient
    /// Where ingestion and feedback run: a pool of their own in the API (a bulkhead: a write
    /// that waits for the row locks of a hot package's rollups holds a connection and a
    /// thread, and reads must not queue behind it); `postgres` otherwise.
    public let writer: PostgresClient
    /// Whether the site-wide reads of the rollups (popular, summary, trends) fold the queued
    /// inserts first (migration 17): true on the primary; false on a hot standby, which cannot
    /// write (`StandbyRoutedReading` folds on the primary instead).
    public let foldsQueue: Bool
    /// The prices behind the money figures of the user and organization answers (settings).
    public let prices: Prices
    /// Seconds after which a week-over-week trend is no longer "this week" and is not shown
    /// (two trend intervals: the worker missed at least one run).
    public let trendMaxAge: Int

    public init(
        postgres: PostgresClient, writer: PostgresClient? = nil, foldsQueue: Bool = true, prices: Prices = Prices(), trendMaxAge: Int = 1200
    ) {
        self.postgres = postgres
        self.writer = writer ?? postgres
        self.foldsQueue = foldsQueue
        self.prices = prices
        self.trendMaxAge = trendMaxAge
    }

    /// One prepared read, retried once on a fresh connection after a server restart.
    func run(_ sql: String, _ parameters: [any PostgresEncodable]) async throws -> PostgresRows {
        try await postgres.query(sql, parameters)
    }

    /// Folds every queued insert (migration 17) into the rollups, on `c`, when any waits, so a
    /// site-wide read of the rollups that follows sees every committed write. (Package and user
    /// answers add their queued rows instead: `AnalyticsSQL`.) Nothing to fold costs one small
    /// scan of the queue.
    func foldPending(on c: PostgresConnection) throws {
        guard foldsQueue else { return }
        _ = try c.query("SELECT usage_fold_pending()", prepare: true)
    }

    /// `foldPending(on:)` on a connection of its own.
    public func foldPending() async throws {
        try await postgres.withConnection(retryOnBrokenConnection: true) { c in try foldPending(on: c) }
    }

    /// One prepared read of the rollups after `foldPending(on:)`.
    func runFolded(_ sql: String, _ parameters: [any PostgresEncodable]) async throws -> PostgresRows {
        try await postgres.withConnection(retryOnBrokenConnection: true) { c in
            try foldPending(on: c)
            return try c.query(sql, parameters, prepare: true)
        }
    }

    /// The background fold: folds the queue unless another process is folding it (then -1).
    public func foldUnlessBusy() async throws -> Int {
        try await writer.query("SELECT usage_fold_try() AS n").first!.decode("n", as: Int.self)
    }
}
