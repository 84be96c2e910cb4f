/// The statistics of one package that badges are made from (the HTTP layer fills it from the package stats).
public struct BadgeStats: Sendable, Equatable {
    /// Runs in the window.
    public var totalRuns: Int
    /// Distinct users in the window.
    public var uniqueUsers: Int
    /// Mean user rating on a 1–5 scale; nil when nobody rated.
    public var avgRating: Double?
    /// Share of successful runs as a percentage 0–100 (e.g. 96.3); nil when there were no runs.
    public var successRate: Double?
    /// Week-over-week trend: "new", "rising", "falling" or "stable"; nil when not computed yet.
    public var trend: String?
    /// Week-over-week change in percent (e.g. 15 or -8.3); nil when last week had no runs.
    public var changePct: Double?
    /// Model id with the most runs (e.g. "claude-3-5-sonnet-20241022"); nil when there were no runs.
    public var bestModel: String?
    /// Runs per day of the window, oldest first (the sparkline).
    public var dailyRuns: [Int]

    public init(
        totalRuns: Int = 0,
        uniqueUsers: Int = 0,
        avgRating: Double? = nil,
        successRate: Double? = nil,
        trend: String? = nil,
        changePct: Double? = nil,
        bestModel: String? = nil,
        dailyRuns: [Int] = []
    ) {
        self.totalRuns = totalRuns
        self.uniqueUsers = uniqueUsers
        self.avgRating = avgRating
        self.successRate = successRate
        self.trend = trend
        self.changePct = changePct
        self.bestModel = bestModel
        self.dailyRuns = dailyRuns
    }
}

/// The metrics a package badge can show (`/badge/:metric.svg`).
public enum BadgeMetric: String, CaseIterable, Sendable {
    case runs, users, rating, success, trend, model, sparkline
}

extension BadgeMetric {
    /// The label shown when `?label=` is absent: "tested", "users", "rating", "success", "trend", "best on".
    public var defaultLabel: String {
        switch self {
        case .runs: "tested"
        case .users: "users"
        case .rating: "rating"
        case .success: "success"
        case .trend: "trend"
        case .model: "best on"
        case .sparkline: "usage"
        }
    }

    /// The badge of this metric for `stats`; `label` (from `?label=`) replaces the default label, and an empty
    /// label gives a message-only badge. Messages and colours:
    ///
    /// - `runs`: "1.2k times" (`CompactNumber`), "1 time", "0 times"; brightgreen ≥ 1000, green ≥ 100,
    ///   yellowgreen ≥ 10, yellow ≥ 1, lightgrey for 0.
    /// - `users`: "89 developers", "1.2k developers", "1 developer", "0 developers"; colours as `runs`.
    /// - `rating`: "4.7/5" (one decimal, half away from zero), "no ratings" when nil; colour of the shown value:
    ///   brightgreen ≥ 4.5, green ≥ 4, yellowgreen ≥ 3.5, yellow ≥ 3, orange ≥ 2, red below, lightgrey when nil.
    /// - `success`: "96.3%" (at most one decimal, trailing ".0" dropped: "100%"), "no runs" when nil; colour of the
    ///   shown value: brightgreen ≥ 95, green ≥ 90, yellow ≥ 80, orange ≥ 70, red below, lightgrey when nil.
    /// - `trend`: "+15% this week" / "-8.3% this week" / "0% this week" (at most one decimal), "new this week" when
    ///   the trend is "new", the bare trend ("stable") when the change is unknown, "no data" when the trend is nil
    ///   or unknown; brightgreen rising, red falling, blue stable and new, lightgrey no data.
    /// - `model`: the best model without a trailing date ("claude-3-5-sonnet-20241022" → "claude-3-5-sonnet",
    ///   "gpt-4o-2024-08-06" → "gpt-4o"), "no runs" when nil or empty; blue (lightgrey for "no runs").
    /// - `sparkline`: the runs per day of the window as a line chart in the message box (SVG), the total as its
    ///   text ("1.2k runs", for the accessible title), and in shields JSON a text chart of block characters
    ///   ("▁▂▄█ 1.2k runs", the last 30 days at most); blue, lightgrey without runs.
    public func badge(for stats: BadgeStats, label: String?) -> Badge {
        let (message, color) = messageAndColor(for: stats)
        var badge = Badge(label: label ?? defaultLabel, message: message, color: color)
        if self == .sparkline { badge.sparkline = stats.dailyRuns.map { max(0, $0) } }
        return badge
    }

    private func messageAndColor(for stats: BadgeStats) -> (String, String) {
        switch self {
        case .runs:
            let runs = max(0, stats.totalRuns)
            return (Self.count(runs, "time", "times"), Self.volumeColor(runs))
        case .users:
            let users = max(0, stats.uniqueUsers)
            return (Self.count(users, "developer", "developers"), Self.volumeColor(users))
        case .rating:
            guard let rating = stats.avgRating, rating.isFinite else { return ("no ratings", "lightgrey") }
            let tenths = Self.tenths(min(max(rating, 0), 5))
            let color =
                switch tenths {
                case 45...: "brightgreen"
                case 40..<45: "green"
                case 35..<40: "yellowgreen"
                case 30..<35: "yellow"
                case 20..<30: "orange"
                default: "red"
                }
            return ("\(tenths / 10).\(tenths % 10)/5", color)
        case .success:
            guard let rate = stats.successRate, rate.isFinite else { return ("no runs", "lightgrey") }
            let tenths = Self.tenths(min(max(rate, 0), 100))
            let color =
                switch tenths {
                case 950...: "brightgreen"
                case 900..<950: "green"
                case 800..<900: "yellow"
                case 700..<800: "orange"
                default: "red"
                }
            return (Self.decimal(tenths) + "%", color)
        case .trend:
            return Self.trend(stats.trend, changePct: stats.changePct)
        case .model:
            guard let model = stats.bestModel?.trimmingWhitespace(), !model.isEmpty else { return ("no runs", "lightgrey") }
            return (Self.withoutDateSuffix(model), "blue")
        case .sparkline:
            let runs = max(0, stats.totalRuns)
            return (Self.count(runs, "run", "runs"), runs > 0 ? "blue" : "lightgrey")
        }
    }

    private static func trend(_ trend: String?, changePct: Double?) -> (String, String) {
        let color: String
        switch trend {
        case "rising": color = "brightgreen"
        case "falling": color = "red"
        case "stable": color = "blue"
        case "new": return ("new this week", "blue")
        default: return ("no data", "lightgrey")
        }
        guard let change = changePct, change.isFinite else { return (trend ?? "no data", color) }
        let tenths = tenths(change)
        let sign = tenths > 0 ? "+" : tenths < 0 ? "-" : ""
        return (sign + decimal(tenths.magnitude) + "% this week", color)
    }

    /// "1 time", "12 times", "1.2k times".
    private static func count(_ value: Int, _ singular: String, _ plural: String) -> String {
        CompactNumber.format(value) + " " + (value == 1 ? singular : plural)
    }

    private static func volumeColor(_ value: Int) -> String {
        switch value {
        case 1_000...: "brightgreen"
        case 100..<1_000: "green"
        case 10..<100: "yellowgreen"
        case 1..<10: "yellow"
        default: "lightgrey"
        }
    }

    /// `value` in tenths, rounded half away from zero.
    private static func tenths(_ value: Double) -> Int {
        Int((value * 10).rounded(.toNearestOrAwayFromZero))
    }

    /// Tenths as a decimal with at most one decimal place: 963 → "96.3", 1000 → "100".
    private static func decimal<T: BinaryInteger>(_ tenths: T) -> String {
        let (whole, fraction) = tenths.quotientAndRemainder(dividingBy: 10)
        return fraction == 0 ? "\(whole)" : "\(whole).\(fraction.magnitude)"
    }

    /// Drops a trailing release date: "-20241022", "-2024-07-18" (or with "@" instead of "-").
    static func withoutDateSuffix(_ model: String) -> String {
        let characters = Array(model)
        for pattern in ["@dddddddd", "@dddd-dd-dd"] where characters.count > pattern.count {
            let tail = characters.suffix(pattern.count)
            let matches = zip(tail, pattern).allSatisfy { character, rule in
                switch rule {
                case "@": character == "-" || character == "@"
                case "d": character.isASCII && character.isWholeNumber
                default: character == rule
                }
            }
            let year = String(tail.dropFirst().prefix(2))
            if matches && (year == "19" || year == "20") {
                return String(characters.dropLast(pattern.count))
            }
        }
        return model
    }
}
