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

    /// A package answer adds the package's queued rows to the rollups in one snapshot instead of
    /// folding: the same answer before and after the fold, with distinct users counted once
    /// whether their rows are folded, queued or both, and feedback on a queued row.
    /// Rows of every rollup of `packages` and `users` that differ from the raw rows (after a fold).
    static func drift(_ f: Fixture, packages: [UUID], users: [UUID] = []) async throws -> Int {
        var rows = try await UserRollupTests.drift(f, users)
        for package in packages { rows += try await RollupConcurrencyTests.drift(f, package) }
        return rows
    }

    @Test func aPackageAnswerAddsItsQueuedRowsWithoutFolding() async throws {
        let postgres = try await TestEnvironment.postgres()
        let f = Fixture(postgres: postgres)
        let queries = AnalyticsQueries(postgres: postgres)
        let package = try await f.package("queued-package")
        let ref = PackageRef(id: package.id, name: package.name)
        let (alice, bob, carol) = (try await f.user("queued-alice"), try await f.user("queued-bob"), try await f.user("queued-carol"))
        // Folded already: alice today and 3 days ago, bob 20 days ago.
        var folded = [Fixture.Usage(user: alice, package: package.id), Fixture.Usage(user: alice, package: package.id)]
        folded[1].daysAgo = 3
        folded.append(Fixture.Usage(user: bob, package: package.id))
        folded[2].daysAgo = 20
        folded[2].version = "1.0.0"
        try await f.usage(folded)
        try await f.fold()
        // Queued: alice again today (no new user), bob today (new in the 7-day window, not in
        // the 30-day one), carol twice today on another model with a version, one rated.
        var queued = [Fixture.Usage(user: alice, package: package.id), Fixture.Usage(user: bob, package: package.id)]
        for index in 0..<2 {
            var row = Fixture.Usage(user: carol, package: package.id)
            row.model = "claude-3-haiku-20240307"
            row.version = "1.1.0"
            row.rating = index == 0 ? 3 : nil
            row.error = index == 1
            queued.append(row)
        }
        // Another package's row: not this answer's, and left in the queue.
        let neighbour = try await f.package("queued-neighbour")
        queued.append(Fixture.Usage(user: carol, package: neighbour.id))
        let ids = try await f.usage(queued)
        try await f.exec("UPDATE playground_usage SET user_rating = 5, was_helpful = true WHERE id = $1", [ids[3]])
        #expect(try await Self.queued(f, package: package.id) == 4)

        var before: [Int: PackageStats] = [:]
        for days in [7, 30] {
            before[days] = try await queries.packageStats(ref, window: AnalyticsWindow(days: days))
        }
        #expect(try await Self.queued(f, package: package.id) == 4, "a read does not fold")
        #expect(before[7]?.totalRuns == 6)
        #expect(before[7]?.uniqueUsers == 3)
        #expect(before[30]?.totalRuns == 7)
        #expect(before[30]?.uniqueUsers == 3)
        #expect(before[7]?.dailyUsage.last?.runs == 5)
        #expect(before[7]?.dailyUsage.last?.unique_users == 3)
        #expect(before[7]?.avgRating == 4.0)
        #expect(before[7]?.helpfulRate == 100.0)
        #expect(before[7]?.modelBreakdown.map(\.model) == ["gpt-4o", "claude-3-haiku-20240307"])
        #expect(before[30]?.versionBreakdown.map(\.package_version) == ["1.1.0", "1.0.0"])
        try await f.fold()
        for days in [7, 30] {
            #expect(try await queries.packageStats(ref, window: AnalyticsWindow(days: days)) == before[days], "days \(days)")
        }
        #expect(try await Self.queued(f, package: neighbour.id) == 0)
        #expect(try await Self.drift(f, packages: [package.id, neighbour.id], users: [alice, bob, carol]) == 0)
    }

    /// `user/me` adds the user's queued rows to the rollups in one snapshot instead of folding:
    /// the same answer before and after the fold, also after feedback on a queued row and a
    /// delete of a queued row without a package.
    @Test func aUsersAnswerAddsTheirQueuedRowsWithoutFolding() async throws {
        let postgres = try await TestEnvironment.postgres()
        let f = Fixture(postgres: postgres)
        let queries = AnalyticsQueries(postgres: postgres)
        let package = try await f.package("queued-user")
        let user = try await f.user("queued-user")
        var older = Fixture.Usage(user: user, package: package.id)
        older.daysAgo = 40  // a whole month of the 90-day window, from the monthly rollups
        older.credits = 7
        try await f.usage([older])
        try await f.fold()
        var rows = (0..<3).map { _ in Fixture.Usage(user: user, package: package.id) }
        rows[2].daysAgo = 45
        rows.append(Fixture.Usage(user: user))  // without a package: user rollups only
        rows.append(Fixture.Usage(user: user))
        for index in rows.indices { rows[index].credits = 2 + index }
        let ids = try await f.usage(rows)
        try await f.exec("UPDATE playground_usage SET user_rating = 4, credits_spent = 10 WHERE id = $1", [ids[0]])
        try await f.exec("DELETE FROM playground_usage WHERE id = $1", [ids[4]])
        #expect(try await f.scalar("SELECT count(*) FROM usage_fold_queue WHERE user_id = $1", [user]) == "5")

        var before: [Int: UserStats] = [:]
        for days in [7, 30, 90] {
            let window = AnalyticsWindow(days: days)
            let answer = try await queries.userStats(userId: user, window: window)
            before[days] = answer
            // Expected from the raw rows alone.
            let raw = try #require(
                try await f.scalar(
                    """
                    SELECT count(*) || '/' || coalesce(sum(credits_spent), 0) FROM playground_usage
                    WHERE user_id = $1 AND created_at >= $2::timestamptz
                    """, [user, window.startTimestamp]))
            #expect("\(answer.totalRuns)/\(answer.creditsSpent)" == raw, "days \(days)")
        }
        #expect(try await f.scalar("SELECT count(*) FROM usage_fold_queue WHERE user_id = $1", [user]) == "5", "a read does not fold")
        try await f.fold()
        for days in [7, 30, 90] {
            #expect(try await queries.userStats(userId: user, window: AnalyticsWindow(days: days)) == before[days], "days \(days)")
        }
        #expect(try await Self.drift(f, packages: [], users: [user]) == 0)
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
        #expect(try await Self.drift(f, packages: [package.id, other.id], users: [user]) == 0)
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
        #expect(try await Self.drift(f, packages: [package.id], users: [user]) == 0)
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
