import Analytics
import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing

/// Issue 11, item 10: the statements of one answer read one snapshot, so its parts agree
/// with each other while rows keep arriving.
@Suite("One snapshot per answer", .serialized)
struct AnswerSnapshotTests {
    @Test func packageAnswersAgreeWithThemselvesUnderConcurrentInserts() async throws {
        let postgres = try await TestEnvironment.postgres()
        let f = Fixture(postgres: postgres)
        let package = try await f.package("snapshot")
        let user = try await f.user("snapshot")
        let queries = AnalyticsQueries(postgres: postgres)
        let stop = Stop()
        let writer = Task {
            try await RollupConcurrencyTests.onThread {
                let connection = try RollupConcurrencyTests.connection()
                defer { connection.close() }
                var step = 0
                while !stop.value {
                    step += 1
                    try connection.query(
                        "INSERT INTO playground_usage (user_id, package_id, model, tokens_used, duration_ms) VALUES ($1, $2, $3, 1, 1)",
                        [user, package.id, step % 2 == 0 ? "gpt-4o" : "gpt-4o-mini"])
                }
                return step
            }
        }
        var disagreements = 0
        for _ in 0..<150 {
            let stats = try await queries.packageStats(PackageRef(id: package.id, name: package.name), window: AnalyticsWindow(days: 30))
            let byModel = stats.modelBreakdown.reduce(0) { $0 + $1.runs }
            let byDay = stats.dailyUsage.reduce(0) { $0 + $1.runs }
            if stats.totalRuns != byModel || stats.totalRuns != byDay { disagreements += 1 }
        }
        stop.set()
        let inserted = try await writer.value
        #expect(inserted > 10, "the writer must have run alongside the reads")
        #expect(disagreements == 0)
    }
}

final class Stop: Sendable {
    private let flag = Atomic<Bool>(false)
    var value: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
