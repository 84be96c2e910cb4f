import AnalyticsCache
import Foundation
import TestSupport
import Testing

/// `serve` (and `worker`) fold the rollup queue in the background (`ROLLUP_FOLD_INTERVAL_MS`)
/// and publish the folds to the hash that `/metrics` renders.
@Suite("Background rollup fold", .serialized)
struct BackgroundFoldTests {
    @Test func aReplicaFoldsTheQueueInTheBackgroundAndPublishesTheFold() async throws {
        let replica = try await makeReplica { $0.foldInterval = .milliseconds(100) }
        try await withCleanup({ await replica.shutdown() }) {
            let f = Fixture(postgres: replica.postgres)
            let package = try await f.package("background-fold")
            let user = try await f.user("background-fold")
            let before = Int(await WorkerMetrics.fetch(replica.redis)?["fold_rows"] ?? "0") ?? 0
            try await f.usage((0..<5).map { _ in Fixture.Usage(user: user, package: package.id) })
            #expect(try await f.scalar("SELECT count(*) FROM usage_fold_queue WHERE package_id = $1", [package.id]) == "5")

            try await withServices(replica.runtime.backgroundServices) {
                try await TestEnvironment.eventually("the background fold empties the queue") {
                    try await f.scalar("SELECT count(*) FROM usage_fold_queue") == "0"
                }
            }
            #expect(try await f.scalar("SELECT sum(runs) FROM package_daily_stats WHERE package_id = $1", [package.id]) == "5")
            let fields = try #require(await WorkerMetrics.fetch(replica.redis))
            #expect((Int(fields["fold_rows"] ?? "") ?? 0) >= before + 5)
            let text = WorkerMetrics.render(fields)
            #expect(text.contains("# TYPE prpm_rollup_fold_rows_total counter"))
            #expect(text.contains("prpm_rollup_fold_duration_seconds_count "))
        }
    }
}
