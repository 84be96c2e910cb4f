import Analytics
import Foundation
import Postgres
import TestSupport
import Testing

@testable import AnalyticsWorker

extension WorkerSuites {
    /// Issue 27, item 7: nothing that ties a user to a day or a time outlives the 12 months
    /// retention keeps. The tables are listed from the catalog, so a table added later is
    /// covered too: this test fails until the fixture below fills it and retention expires it
    /// (or it is allow-listed with a reason).
    @Suite("Per-user data expires with the usage", .serialized)
    struct PerUserRetentionTests {
        /// Tables that hold a user id and a time but are no usage history.
        static let allowed: [String: String] = [
            // A current membership (role, team) with the time it began: it lasts as long as the
            // membership, not as long as the usage (and goes with the user: ON DELETE CASCADE).
            "organization_members": "membership"
                // Not listed because the catalog query does not match them: `users` (the user
                // itself: anonymized 30 days after deletion) and `usage_fold_queue` (a user id but
                // no time column: inserts wait there about a second; retention folds it first).
        ]

        /// One table of the public schema (partitions excluded: their parent is listed) with
        /// user-id columns (`user_id`, or a column with a foreign key to `users`) and date or
        /// timestamp columns.
        struct PerUserTable: CustomStringConvertible {
            let name: String
            let userColumns: [String]
            /// (column, type name)
            let timeColumns: [(name: String, type: String)]
            var description: String { name }

            /// SQL: the end of the newest period a row's time columns name: a timestamp itself, a
            /// `date` its whole UTC day, a `date` column named `month` (or `…_month`) its month.
            var periodEnd: String {
                let ends = timeColumns.map { column in
                    switch column.type {
                    case "date" where column.name == "month" || column.name.hasSuffix("_month"):
                        "((\(column.name) + interval '1 month')::timestamp AT TIME ZONE 'UTC')"
                    case "date": "((\(column.name) + 1)::timestamp AT TIME ZONE 'UTC')"
                    case "timestamp without time zone": "(\(column.name) AT TIME ZONE 'UTC')"
                    default: column.name
                    }
                }
                return ends.count == 1 ? ends[0] : "greatest(\(ends.joined(separator: ", ")))"
            }

            /// SQL: the row names a user (any user column set).
            var namesAUser: String { "(" + userColumns.map { "\($0) IS NOT NULL" }.joined(separator: " OR ") + ")" }
            /// SQL: the row names user $1.
            var namesUser: String { "(" + userColumns.map { "\($0) = $1" }.joined(separator: " OR ") + ")" }
            /// SQL: the row's whole period lies before the 12 months retention keeps.
            var expired: String { "\(periodEnd) <= now() - interval '12 months'" }
        }

        static func perUserTables(_ f: Fixture) async throws -> [PerUserTable] {
            let rows = try await f.postgres.withConnection { c in
                try c.query(
                    """
                    WITH tables AS (
                      SELECT c.oid, c.relname FROM pg_class c
                      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                    ), columns AS (
                      SELECT a.attrelid, a.attname::text AS name, format_type(a.atttypid, NULL) AS type,
                             a.attname = 'user_id' OR EXISTS (
                               SELECT 1 FROM pg_constraint k
                               WHERE k.conrelid = a.attrelid AND k.contype = 'f' AND k.confrelid = 'users'::regclass
                                 AND a.attnum = ANY (k.conkey)) AS is_user,
                             a.atttypid IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) AS is_time
                      FROM pg_attribute a JOIN tables t ON t.oid = a.attrelid
                      WHERE a.attnum > 0 AND NOT a.attisdropped
                    )
                    SELECT t.relname::text AS name,
                           string_agg(c.name, ',' ORDER BY c.name) FILTER (WHERE c.is_user) AS users,
                           string_agg(c.name || ':' || c.type, ',' ORDER BY c.name) FILTER (WHERE c.is_time) AS times
                    FROM tables t JOIN columns c ON c.attrelid = t.oid
                    GROUP BY t.relname HAVING bool_or(c.is_user) AND bool_or(c.is_time)
                    ORDER BY 1
                    """)
            }
            return try rows.map { row in
                let times = try row.decode("times", as: String.self).split(separator: ",").map { item in
                    let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                    return (name: parts[0], type: parts[1])
                }
                return PerUserTable(
                    name: try row.decode("name", as: String.self),
                    userColumns: try row.decode("users", as: String.self).split(separator: ",").map(String.init), timeColumns: times)
            }
        }

        @Test func everyTableWithAUserAndATimeKeepsOnlyTwelveMonths() async throws {
            let (worker, deps) = try await makeWorker()
            try await withCleanup({ await deps.shutdown() }) {
                let f = Fixture(postgres: deps.postgres)
                let tables = try await Self.perUserTables(f)
                let names = Set(tables.map(\.name))
                // The catalog query finds the tables this test knows of (it is not vacuous).
                for known in ["playground_usage", "package_daily_users", "package_user_last_day", "playground_sessions", "user_daily_stats"] {
                    #expect(names.contains(known), "\(known) is not found by the catalog query")
                }
                for table in Self.allowed.keys { #expect(names.contains(table), "allow-listed \(table) no longer holds a user and a time") }
                let checked = tables.filter { Self.allowed[$0.name] == nil }

                // One user: a package used only long ago, one used lately; an old and a new session.
                let user = try await f.user("per-user-days")
                let (old, recent) = (try await f.package("used-long-ago"), try await f.package("used-lately"))
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = TimeZone(identifier: "UTC")!
                let now = Date()
                func ago(months: Int, days: Int) -> Date {
                    calendar.date(byAdding: .day, value: -days, to: calendar.date(byAdding: .month, value: -months, to: now)!)!
                }
                var rows: [Fixture.Usage] = []
                for (package, at) in [(old.id, ago(months: 12, days: 40)), (old.id, ago(months: 12, days: 2)), (recent.id, ago(months: 0, days: 10))]
                {
                    var row = Fixture.Usage(user: user, package: package)
                    row.at = at
                    row.rating = 4
                    rows.append(row)
                }
                try await f.usage(rows)
                for (package, at) in [(old.id, ago(months: 13, days: 0)), (recent.id, ago(months: 0, days: 10))] {
                    try await f.exec(
                        "INSERT INTO playground_sessions (id, user_id, package_id, created_at) VALUES ($1, $2, $3, $4)", [UUID(), user, package, at])
                }
                try await f.fold()
                let publicFigures = "SELECT sum(runs)::text || '/' || sum(unique_users)::text FROM package_daily_stats WHERE package_id = $1"
                let publicBefore = try await f.scalar(publicFigures, [old.id])
                #expect(publicBefore == "2/2")

                // Every such table holds an expired row of this user: the fixture exercises it.
                for table in checked {
                    let count = try await f.scalar("SELECT count(*)::text FROM \(table.name) WHERE \(table.namesUser) AND \(table.expired)", [user])
                    #expect(
                        count != "0",
                        "\(table.name) holds a user id and a time: fill it in this test and expire it in retention (or allow-list it with a reason)")
                }

                let result = try await Jobs(deps: worker.deps).retention()

                #expect(result.failed.isEmpty, "\(result.failed)")
                for table in checked {
                    // No row of anyone older than 12 months still names a user…
                    #expect(
                        try await f.scalar("SELECT count(*)::text FROM \(table.name) WHERE \(table.namesAUser) AND \(table.expired)") == "0",
                        "\(table.name)")
                    // …and the recent ones stay.
                    #expect(
                        try await f.scalar("SELECT count(*)::text FROM \(table.name) WHERE \(table.namesUser) AND NOT (\(table.expired))", [user])
                            != "0", "\(table.name)")
                }
                // The public daily aggregates of the expired days are kept.
                #expect(try await f.scalar(publicFigures, [old.id]) == publicBefore)
            }
        }
    }
}
