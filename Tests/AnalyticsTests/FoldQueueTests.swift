import Analytics
import Foundation
import Postgres
import TestSupport
import Testing

/// Inserts queue their rows and one folder at a time adds them to the rollups (migration 17):
/// answers stay exact without a worker, and updates and deletes of rows still in the queue
/// leave no drift.
@Suite("Rollup fold queue", .serialized)
struct FoldQueueTests {
    static func queued(_ f: Fixture, package: UUID) async throws -> Int {
        Int(try await f.scalar("SELECT count(*) FROM usage_fold_queue WHERE package_id = $1", [package]) ?? "") ?? -1
    }

    /// The package's rollup rows as they are (no fold first): runs/rating_sum/rating_count.
    static func rolled(_ f: Fixture, package: UUID) async throws -> String? {
        try await f.scalar(
            "SELECT sum(runs) || '/' || sum(rating_sum) || '/' || sum(rating_count) FROM package_daily_stats WHERE package_id = $1",
            [package])
    }

    @Test func anInsertWaitsInTheQueueAndTheNextPackageAnswerFoldsItsRows() async throws {
        let postgres = try await TestEnvironment.postgres()
        let f = Fixture(postgres: postgres)
        let package = try await f.package("queued-package")
        let user = try await f.user("queued-package")
        var rows = (0..<6).map { _ in Fixture.Usage(user: user, package: package.id) }
        rows[0].rating = 4
        rows[1].daysAgo = 3
        try await f.usage(rows)
        // Another package's rows, by the same user: the package read folds only its own.
        let neighbour = try await f.package("queued-neighbour")
        try await f.usage([Fixture.Usage(user: user, package: neighbour.id), Fixture.Usage(user: user, package: neighbour.id)])
        #expect(try await Self.queued(f, package: package.id) == 6)
        #expect(try await Self.rolled(f, package: package.id) == nil, "nothing folded yet")

        let stats = try await AnalyticsQueries(postgres: postgres).packageStats(
            PackageRef(id: package.id, name: package.name), window: AnalyticsWindow(days: 30))
        #expect(stats.totalRuns == 6)
        #expect(stats.uniqueUsers == 1)
        #expect(try await Self.queued(f, package: package.id) == 0)
        #expect(try await Self.rolled(f, package: package.id) == "6/4/1")
        #expect(try await Self.queued(f, package: neighbour.id) == 2)
        #expect(try await Self.rolled(f, package: neighbour.id) == nil)
        #expect(try await RollupConcurrencyTests.drift(f, package.id) == 0)
        #expect(try await RollupConcurrencyTests.drift(f, neighbour.id) == 0)
        #expect(try await UserRollupTests.drift(f, [user]) == 0)
    }

    @Test func aUsersNextAnswerShowsTheirQueuedRows() async throws {
        let postgres = try await TestEnvironment.postgres()
        let f = Fixture(postgres: postgres)
        let package = try await f.package("queued-user")
        let user = try await f.user("queued-user")
        var rows = (0..<3).map { _ in Fixture.Usage(user: user, package: package.id) }
        rows.append(Fixture.Usage(user: user))  // a run without a package: user rollups only
        for index in rows.indices { rows[index].credits = 2 + index }
        try await f.usage(rows)
        #expect(try await f.scalar("SELECT count(*) FROM usage_fold_queue WHERE user_id = $1", [user]) == "4")

        let stats = try await AnalyticsQueries(postgres: postgres).userStats(userId: user, window: AnalyticsWindow(days: 7))
        #expect(stats.totalRuns == 4)
        #expect(stats.creditsSpent == 2 + 3 + 4 + 5)
        #expect(try await f.scalar("SELECT count(*) FROM usage_fold_queue WHERE user_id = $1", [user]) == "0")
        #expect(try await UserRollupTests.drift(f, [user]) == 0)
    }

    /// A delete (and an update that moves a row) of rows still in the queue folds the queue
    /// before it recomputes: the recompute must not count them twice or miss them.
    @Test func deletesAndMovesOfQueuedRowsLeaveNoDrift() async throws {
        let f = Fixture(postgres: try await TestEnvironment.postgres())
        let package = try await f.package("queued-delete")
        let other = try await f.package("queued-delete-other")
        let user = try await f.user("queued-delete")
        let ids = try await f.usage((0..<10).map { _ in Fixture.Usage(user: user, package: package.id) })
        #expect(try await Self.queued(f, package: package.id) == 10)

        try await f.exec("DELETE FROM playground_usage WHERE id = ANY($1::uuid[])", [PostgresArray(Array(ids[0..<3]))])
        // The delete folded first, then recomputed from the rows: 7 runs, nothing queued.
        #expect(try await Self.queued(f, package: package.id) == 0)
        #expect(try await Self.rolled(f, package: package.id) == "7/0/0")

        let more = try await f.usage((0..<4).map { _ in Fixture.Usage(user: user, package: package.id) })
        try await f.exec("UPDATE playground_usage SET package_id = $1 WHERE id = $2", [other.id, more[0]])
        #expect(try await Self.rolled(f, package: package.id) == "10/0/0")
        #expect(try await Self.rolled(f, package: other.id) == "1/0/0")
        #expect(try await RollupConcurrencyTests.drift(f, package.id) == 0)
        #expect(try await RollupConcurrencyTests.drift(f, other.id) == 0)
        #expect(try await UserRollupTests.drift(f, [user]) == 0)
    }

    /// Feedback on a row whose insert still waits in the queue: the rating delta makes the
    /// package-day row (runs 0) and the fold adds the insert on top; nothing is lost.
    @Test func aRatingOfAQueuedRowIsKept() async throws {
        let f = Fixture(postgres: try await TestEnvironment.postgres())
        let package = try await f.package("queued-rating")
        let user = try await f.user("queued-rating")
        var row = Fixture.Usage(user: user, package: package.id)
        row.version = "2.0.0"
        let ids = try await f.usage([row, row])
        try await f.exec("UPDATE playground_usage SET user_rating = 5, was_helpful = true WHERE id = $1", [ids[0]])
        #expect(try await Self.queued(f, package: package.id) == 2, "a rating-only update does not fold")
        #expect(try await Self.rolled(f, package: package.id) == "0/5/1")
        try await f.fold()
        #expect(try await Self.rolled(f, package: package.id) == "2/5/1")
        #expect(
            try await f.scalar(
                "SELECT runs || '/' || rating_sum || '/' || rating_count FROM package_daily_version_stats WHERE package_id = $1", [package.id])
                == "2/5/1")
        #expect(try await RollupConcurrencyTests.drift(f, package.id) == 0)
        #expect(try await UserRollupTests.drift(f, [user]) == 0)
    }

    /// Retention's deletes (`prpm.retention = on`) keep the rollups: a queued row that retention
    /// removes is still folded into them.
    @Test func aQueuedRowRemovedByRetentionIsStillFolded() async throws {
        let f = Fixture(postgres: try await TestEnvironment.postgres())
        let package = try await f.package("queued-retention")
        let user = try await f.user("queued-retention")
        let ids = try await f.usage([Fixture.Usage(user: user, package: package.id)])
        try await f.postgres.withConnection { connection in
            try connection.transaction { c in
                try c.execute("SET LOCAL prpm.retention = 'on'")
                _ = try c.query("DELETE FROM playground_usage WHERE id = $1", [ids[0]])
            }
        }
        #expect(try await Self.queued(f, package: package.id) == 1)
        try await f.fold()
        #expect(try await Self.rolled(f, package: package.id) == "1/0/0")
    }

    /// Only one folder at a time: `usage_fold_try()` skips (-1) while another session folds.
    @Test func aSecondFolderSkipsWhileOneIsFolding() async throws {
        let f = Fixture(postgres: try await TestEnvironment.postgres())
        let package = try await f.package("queued-skip")
        let user = try await f.user("queued-skip")
        try await f.usage([Fixture.Usage(user: user, package: package.id)])
        let locker = TestEnvironment.locker()
        defer { locker.shutdown() }
        let holding = try await TestEnvironment.holdInTransaction(locker, "SELECT usage_fold()", for: .milliseconds(500))
        #expect(try await f.scalar("SELECT usage_fold_try()") == "-1")
        try await holding.value
        #expect(try await Self.queued(f, package: package.id) == 0)
        #expect(try await f.scalar("SELECT usage_fold_try()") == "0")
    }
}
