/// Week-over-week rules of the contract: the last 7 complete UTC days against the 7 before.
public enum TrendRules {
    /// `(this − last) / last × 100`, one decimal (half away from zero); nil when last = 0.
    public static func changePct(thisWeek: Int, lastWeek: Int) -> Double? {
        Rounding.percentage(thisWeek - lastWeek, of: lastWeek)
    }

    /// `new` (last = 0, this > 0), `rising` (≥ 1.2×), `falling` (≤ 0.8×), else `stable`.
    public static func trend(thisWeek: Int, lastWeek: Int) -> String {
        if lastWeek == 0 { return thisWeek > 0 ? "new" : "stable" }
        if thisWeek * 5 >= lastWeek * 6 { return "rising" }
        if thisWeek * 5 <= lastWeek * 4 { return "falling" }
        return "stable"
    }
}
