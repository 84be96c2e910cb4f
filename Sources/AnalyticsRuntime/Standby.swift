import Analytics
import Foundation
import Logging
import Metrics
import Postgres
import Synchronization

/// Whether the hot standby may answer now: it answered its last check and its replication lag
/// was within the allowed bound. Checked every `StandbyMonitor.interval`; a failed query on the
/// standby closes the gate at once.
public final class StandbyGate: Sendable {
    public let maxLag: Duration
    private let state = Mutex<(usable: Bool, lagSeconds: Double?)>((false, nil))

    public init(maxLag: Duration) { self.maxLag = maxLag }

    public var isUsable: Bool { state.withLock { $0.usable } }
    /// The last measured lag in seconds (nil: the standby did not answer).
    public var lagSeconds: Double? { state.withLock { $0.lagSeconds } }

    /// A check's result: the lag, or nil when the standby did not answer.
    public func record(lagSeconds: Double?) {
        state.withLock { $0 = (lagSeconds.map { Duration.seconds($0) <= maxLag } ?? false, lagSeconds) }
    }

    func markDown() { state.withLock { $0.usable = false } }
}

/// Sends the cache-miss computations of public answers (package, trending, popular, summary,
/// package names) to the standby while its gate is open, and everything else (personal answers,
/// authorization: read-your-writes) to the primary. A standby that fails is left for the
/// primary at once, for this computation and the next ones until it passes a check again.
public struct StandbyRoutedReading: AnalyticsReading {
    let primary: AnalyticsQueries
    let standby: AnalyticsQueries
    let gate: StandbyGate

    public init(primary: AnalyticsQueries, standby: AnalyticsQueries, gate: StandbyGate) {
        self.primary = primary
        self.standby = standby
        self.gate = gate
    }

    /// Public answers add the queued inserts they read (migration 17) on the standby as on the
    /// primary, so the standby's answer lacks only what its lag lacks.
    private func publicRead<T: Sendable>(_ body: (AnalyticsQueries) async throws -> T) async throws -> T {
        guard gate.isUsable else { return try await body(primary) }
        do {
            return try await body(standby)
        } catch let error where !(error is CancellationError) && !(error is AnalyticsError) {
            gate.markDown()
            Counter(label: "prpm_postgres_standby_fallbacks_total").increment()
            return try await body(primary)
        }
    }

    public func resolvePackage(_ idOrName: String) async throws -> PackageRef? {
        // A package not on the standby yet may be on the primary (created a moment ago).
        if let found = try await publicRead({ try await $0.resolvePackage(idOrName) }) { return found }
        return gate.isUsable ? try await primary.resolvePackage(idOrName) : nil
    }

    public func packageStats(_ package: PackageRef, window: AnalyticsWindow) async throws -> PackageStats {
        try await publicRead { try await $0.packageStats(package, window: window) }
    }

    public func trending(limit: Int) async throws -> TrendingPackages { try await publicRead { try await $0.trending(limit: limit) } }

    public func popular(window: AnalyticsWindow, limit: Int) async throws -> PopularPackages {
        try await publicRead { try await $0.popular(window: window, limit: limit) }
    }

    public func summary() async throws -> SiteSummary { try await publicRead { try await $0.summary() } }

    public func userStats(userId: UUID, window: AnalyticsWindow) async throws -> UserStats {
        try await primary.userStats(userId: userId, window: window)
    }

    public func authorizeOrganizationAdmin(orgId: UUID, userId: UUID) async throws -> OrganizationRef {
        try await primary.authorizeOrganizationAdmin(orgId: orgId, userId: userId)
    }

    public func organizationStats(_ org: OrganizationRef, window: AnalyticsWindow) async throws -> OrganizationStats {
        try await primary.organizationStats(org, window: window)
    }

    public func organizationReport(_ org: OrganizationRef, month: ReportMonth) async throws -> OrganizationReport {
        try await primary.organizationReport(org, month: month)
    }
}

/// Measures the standby's replication lag every `interval` (0 when it has replayed all it
/// received; else the age of the last replayed transaction) into the gate and the gauge
/// `prpm_postgres_standby_lag_seconds` (-1 when it does not answer).
enum StandbyMonitor {
    static let interval: Duration = .seconds(1)
    static let lagSQL = """
        SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0
                    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                    ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8 AS lag
        """

    static func run(standby: PostgresClient, gate: StandbyGate, logger: Logger) async {
        let gauge = Gauge(label: "prpm_postgres_standby_lag_seconds")
        var wasUsable: Bool?
        while !Task.isCancelled {
            let lag = try? await standby.query(lagSQL).first?.decode("lag", as: Double.self)
            gate.record(lagSeconds: lag)
            gauge.record(lag ?? -1)
            if wasUsable != gate.isUsable {
                logger.info(
                    gate.isUsable ? "standby in use for public answers" : "standby not used: public answers read the primary",
                    metadata: ["lag_seconds": "\(lag.map { String($0) } ?? "no answer")"])
                wasUsable = gate.isUsable
            }
            try? await Task.sleep(for: interval)
        }
    }
}
