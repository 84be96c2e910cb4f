import Foundation

/// The retention periods of the design (contract section 7), in one place for the SQL of the
/// retention job and the checks of the write paths.
public enum RetentionRules {
    /// Usage rows, and everything that ties a user to a day or a time, are kept this long.
    public static let usageMonths = 12
    /// Feedback text on a run is kept this long (rating and helpfulness stay).
    public static let feedbackTextMonths = 6
    /// Users deleted this long ago are anonymized.
    public static let deletedUserDays = 30

    /// SQL: the instant before which usage expires, on the database's clock.
    public static let usageCutoffSQL = "now() - interval '\(usageMonths) months'"
    /// SQL: the instant before which feedback text expires, on the database's clock.
    public static let feedbackTextCutoffSQL = "now() - interval '\(feedbackTextMonths) months'"
    /// SQL: users deleted before this instant are anonymized.
    public static let deletedUserCutoffSQL = "now() - interval '\(deletedUserDays) days'"

    /// Whether feedback text on a run created at `createdAt` is past its retention: such text is
    /// refused (the retention job would clear it anyway). Calendar months in UTC, as Postgres
    /// subtracts `interval '6 months'` in the service's `TimeZone=UTC` sessions.
    public static func feedbackTextExpired(createdAt: Date, now: Date = Date()) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let cutoff = calendar.date(byAdding: .month, value: -feedbackTextMonths, to: now) else { return false }
        return createdAt < cutoff
    }
}
