import Analytics

/// The sentences the pages derive from an answer's figures ("v2.0 has 15% better ratings than
/// v1.5", "Use Sonnet for 28% faster results"). Pure rules, unit tested.
public enum Insights {
    /// Minutes one playground test saves against trying a prompt by hand: the default of
    /// `MINUTES_SAVED_PER_TEST`. The pages print the answers' own figure (`money.prices`); this
    /// is only for an answer cached before it had one.
    public static let minutesSavedPerTest = 3

    /// Hours saved by `runs` tests at `minutesSavedPerTest` each, one decimal.
    public static func hoursSaved(runs: Int) -> Double {
        Rounding.averageOneDecimal(runs * minutesSavedPerTest, 60) ?? 0
    }

    /// "4.8" hours and "3" minutes per test for a page: the answer's money figures, or (an
    /// answer cached before they existed) `hoursSaved(runs:)` at the default assumption.
    static func savedTimeTexts(hours: Double?, minutesPerTest: Double?, runs: Int) -> (hours: String, minutes: String) {
        (PageFormat.decimal(hours ?? hoursSaved(runs: runs)), PageFormat.decimal(minutesPerTest ?? Double(minutesSavedPerTest)))
    }

    /// The newest rated version against the next older rated one, when the newer is rated
    /// better by at least 1 %: `versions` come newest first (the answer's semantic-version order).
    public static func versionComparison(_ versions: [PackageStats.VersionBreakdown]) -> String? {
        let rated = versions.compactMap { version in version.avg_rating.map { (name: version.package_version, rating: $0) } }
        guard rated.count >= 2, rated[1].rating > 0 else { return nil }
        let (newer, older) = (rated[0], rated[1])
        let (newerTenths, olderTenths) = (Int((newer.rating * 10).rounded()), Int((older.rating * 10).rounded()))
        guard let percent = Rounding.average((newerTenths - olderTenths) * 100, olderTenths), percent >= 1 else {
            return nil
        }
        return "\(displayVersion(newer.name)) has \(percent)% better ratings than \(displayVersion(older.name))"
    }

    /// "2.0" → "v2.0"; names that do not start with a digit stay as they are.
    public static func displayVersion(_ version: String) -> String {
        version.first?.isNumber == true ? "v" + version : version
    }

    /// The fastest of the user's models against the one they use most, when it is at least 5 %
    /// faster and both have at least `minimumRuns` runs: (fastest model, percent faster).
    public static func modelEfficiency(_ models: [UserStats.ModelUsage], minimumRuns: Int = 3) -> (model: String, percentFaster: Int)? {
        let usable = models.filter { $0.runs >= minimumRuns && $0.avg_duration > 0 }
        guard let mostUsed = usable.max(by: { ($0.runs, $1.model) < ($1.runs, $0.model) }),
            let fastest = usable.min(by: { ($0.avg_duration, $0.model) < ($1.avg_duration, $1.model) }),
            fastest.model != mostUsed.model,
            let percent = Rounding.average((mostUsed.avg_duration - fastest.avg_duration) * 100, mostUsed.avg_duration), percent >= 5
        else { return nil }
        return (fastest.model, percent)
    }

    /// Change of `current` against `previous` in percent (one decimal); nil when `previous` is 0.
    public static func change(_ current: Int, from previous: Int) -> Double? {
        Rounding.percentage(current - previous, of: previous)
    }
}

extension PageFormat {
    /// 1.0 → "1", 4.75 → "4.75": a decimal without a trailing ".0".
    public static func decimal(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// A signed percentage: 15.0 → "+15%", -8.3 → "-8.3%", 0 → "0%".
    public static func signedPercent(_ value: Double) -> String {
        (value > 0 ? "+" : "") + decimal(value) + "%"
    }

    /// Milliseconds as people read them: 850 → "850 ms", 2140 → "2.1 s".
    public static func duration(milliseconds: Int) -> String {
        milliseconds < 1000 ? "\(milliseconds) ms" : decimal(Rounding.oneDecimal(Double(milliseconds) / 1000)) + " s"
    }

    /// A star rating's fill, in percent of five stars (4.7 → "94").
    public static func starFill(_ rating: Double) -> String {
        decimal(Rounding.oneDecimal(max(0, min(5, rating)) * 20))
    }
}
