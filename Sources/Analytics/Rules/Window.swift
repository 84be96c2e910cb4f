import Foundation
import Postgres

/// The `days` window of a read: the last `days` UTC calendar days including today.
public struct AnalyticsWindow: Sendable, Equatable, Hashable {
    public static let allowedDays = 1...365
    public static let defaultDays = 30

    public let days: Int
    /// Today's UTC date, as a count of days since 1970-01-01.
    public let today: Int

    public init(days: Int, now: Date = Date()) {
        precondition(Self.allowedDays.contains(days))
        self.days = days
        self.today = Int((now.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    /// Parses the `days` query parameter: absent → 30; anything but an integer 1…365 → nil.
    public static func parseDays(_ raw: String?) -> Int? {
        guard let raw else { return defaultDays }
        guard !raw.isEmpty, raw.count <= 3, raw.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let days = Int(raw),
            allowedDays.contains(days)
        else { return nil }
        return days
    }

    /// The first day of the window (days since epoch).
    public var firstDay: Int { today - (days - 1) }

    /// `YYYY-MM-DD` of the first day (a `date` parameter).
    public var startDate: String { DayFormat.string(firstDay) }

    /// The window start as a timestamp parameter (midnight UTC of the first day).
    public var startTimestamp: String { startDate + "T00:00:00Z" }

    /// Every day of the window, oldest first, as `YYYY-MM-DD`.
    public var dates: [String] { (firstDay...today).map(DayFormat.string) }
}

/// `YYYY-MM-DD` ↔ days since 1970-01-01 (proleptic Gregorian, UTC).
public enum DayFormat {
    public static func string(_ day: Int) -> String {
        let (y, m, d) = PostgresTimestamp.civilFromDays(day)
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    public static func day(_ text: String) -> Int? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        return PostgresTimestamp.daysFromCivil(y, m, d)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

/// ISO-8601 UTC timestamps ending in `Z` (`last_active`, `computedAt`).
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let day = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let second = seconds - day * 86_400
        let time = [second / 3600, (second % 3600) / 60, second % 60].map { $0 < 10 ? "0\($0)" : "\($0)" }.joined(separator: ":")
        return DayFormat.string(day) + "T" + time + "Z"
    }
}
