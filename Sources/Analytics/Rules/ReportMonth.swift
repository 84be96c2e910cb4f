import Foundation
import Postgres

/// A UTC calendar month of the monthly report (`?month=YYYY-MM`).
public struct ReportMonth: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    /// 1…12.
    public let month: Int

    /// The earliest month a report can be asked for.
    public static let earliest = ReportMonth(year: 2000, month: 1)

    public init(year: Int, month: Int) {
        precondition((1...12).contains(month))
        self.year = year
        self.month = month
    }

    /// The month of `date` (UTC).
    public init(containing date: Date) {
        let day = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let (y, m, _) = PostgresTimestamp.civilFromDays(day)
        self.init(year: y, month: m)
    }

    /// Why a `month` parameter is refused.
    public enum Problem: Error, Equatable {
        /// Not `YYYY-MM` with a month 01…12 and a year from 2000.
        case malformed
        /// A month that has not started yet (UTC).
        case notStarted
    }

    /// The `month` parameter: absent → the last complete UTC month; `YYYY-MM` of a month that
    /// has started (the current month too: a report so far); anything else is a `Problem`.
    public static func parse(_ raw: String?, now: Date = Date()) throws(Problem) -> ReportMonth {
        let current = ReportMonth(containing: now)
        guard let raw else { return current.previous }
        let bytes = Array(raw.utf8)
        guard bytes.count == 7, bytes[4] == UInt8(ascii: "-"),
            bytes.enumerated().allSatisfy({ $0.offset == 4 || ($0.element >= 48 && $0.element <= 57) }),
            let year = Int(raw.prefix(4)), let month = Int(raw.suffix(2)), (1...12).contains(month)
        else { throw .malformed }
        let parsed = ReportMonth(year: year, month: month)
        guard parsed >= earliest else { throw .malformed }
        guard parsed <= current else { throw .notStarted }
        return parsed
    }

    public var previous: ReportMonth { month == 1 ? ReportMonth(year: year - 1, month: 12) : ReportMonth(year: year, month: month - 1) }
    public var next: ReportMonth { month == 12 ? ReportMonth(year: year + 1, month: 1) : ReportMonth(year: year, month: month + 1) }

    /// `YYYY-MM`.
    public var description: String { String(year) + "-" + (month < 10 ? "0" : "") + String(month) }

    /// `YYYYMM`: the `days` slot of the report's cache key.
    public var number: Int { year * 100 + month }

    /// Midnight UTC of the month's first day, as a timestamp parameter.
    public var startTimestamp: String { description + "-01T00:00:00Z" }

    /// "November 2026".
    public var title: String {
        let names = [
            "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
        ]
        return "\(names[month - 1]) \(year)"
    }

    public static func < (a: ReportMonth, b: ReportMonth) -> Bool { a.number < b.number }
}
