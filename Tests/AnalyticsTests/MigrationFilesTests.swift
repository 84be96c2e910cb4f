import Crypto
import Foundation
import Testing

@testable import Analytics

/// Migrations are frozen: a database that applied a file must never see it change. A new
/// schema change is a new file, whose checksum is added here in the same commit.
@Suite("Migration files")
struct MigrationFilesTests {
    static let released: [String: String] = [
        "0001_core_tables.sql": "afa745614803d345e40993a325f3cad6bf45c915f025f4d5b1f46074c4726d57",
        "0002_package_rollups.sql": "d76eef2e20201b9666090b282fd298b2f4b02650ddd04193c5c2bc1ab234dab8",
        "0003_trends_and_archive.sql": "0ba986fac4b1286040dea9be623f8f61c6430a94c562c918df3178e281b93b9f",
        "0004_rating_deltas.sql": "cadf215ac72bea77f87a817f84e0ffe6ece1641a0333af441a16dd0a126a3c0c",
        "0005_covering_indexes.sql": "43af6fc9633cf03387e570fd6761223a41faf66e21ab11a52a8aee10adde99e5",
        "0006_last_day_histogram.sql": "1974b9d2ddb527b9a88158c07eb0170427d6a3386e245205afef9a2b33274dc7",
        "0007_insert_trigger_transition_table.sql": "62c2979c481c66bb5c4538afc4b0e3faecbfa2b0aeff5c51f64f54a253b4fbba",
        "0008_rollup_locks.sql": "15daa58952ef943f482179050b58027f217df3f132b46c505d4b1b49dd1328e2",
        "0009_ingest_idempotency.sql": "5c3bb5fa8edac965895c923918c43e387e424f8c794ce28e2565ffed66d8aac2",
        "0010_job_fences.sql": "3fbc5957bb3092e5bc98d50e16c57c7a16c162f5a13300ae22bd3a8825233a5c",
        "0011_package_daily_extras.sql": "753fd99526a2fc888da7bb20d768ee276c57f0976eb43efb89737ef7cec65db0",
        "0012_usage_partitions.sql": "955658b7152b550db95b85b0131a4a14d18cc4b1d2a549dbe6702586af767142",
        "0013_rating_delta_without_temp_table.sql": "58cb05979a29f7cff95f373368a978e65805971f1ff6ea18340d1442e7e7b536",
        "0014_usage_partition_autovacuum.sql": "d097cf4b17f1cf9ec37bfb74060a5a7508dfa526793b2dc2fca1d46ee08aea91",
        "0015_last_day_only_forward.sql": "a672ae10603ca9232e2d1aa0382003d2d83c0d5a8ebb2d8b87b1472c75095765",
        "0016_user_rollups.sql": "fb78be60d8a74dd497e15ab3e1e0460c650b44fd3243d565c5325946de3135a9",
        "0017_fold_queue.sql": "ac6adf3984798e50477b83fa276088a58daded3b396c4ba00eea5ad870a33b20",
        "0018_user_cover_success.sql": "c2b69574f9c6b36d3174eb06d476c59c7fc0914bd400fe2c4fd5160799ef9260",
        "0019_retention_per_user_days.sql": "95133b8f7c37567edd0be6a89bcc218995ca0ea05450c9cd386468eda236e3a3",
    ]

    @Test func releasedMigrationsAreUnchangedAndEveryFileIsListed() throws {
        var seen: [String: String] = [:]
        for migration in Migrator.all {
            let digest = SHA256.hash(data: Data(migration.sql.utf8)).map { String(format: "%02x", $0) }.joined()
            seen[migration.file] = digest
            #expect(Self.released[migration.file] == digest, "\(migration.file) changed (or is new and not listed here)")
        }
        #expect(Set(seen.keys) == Set(Self.released.keys), "a released migration file is missing")
    }

    @Test func versionsAreTheFileNumbersOneByOneAndNamesComeFromTheFirstLine() {
        #expect(Migrator.all.map(\.version) == Array(1...Migrator.all.count))
        #expect(Migrator.all.first?.name == "core tables")
        #expect(Migrator.all.allSatisfy { $0.file.hasPrefix(String(format: "%04d_", $0.version)) && $0.file.hasSuffix(".sql") })
        #expect(Migrator.all.allSatisfy { !$0.name.isEmpty && !$0.name.hasSuffix(".sql") })
    }
}
