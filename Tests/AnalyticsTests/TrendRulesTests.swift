import Analytics
import Testing

@Suite("Week-over-week rules")
struct TrendRulesTests {
    @Test(arguments: [
        (12, 10, "rising"), (11, 10, "stable"), (8, 10, "falling"), (9, 10, "stable"), (6, 5, "rising"), (4, 5, "falling"),
        (1, 0, "new"), (0, 0, "stable"), (0, 3, "falling"), (120, 100, "rising"), (119, 100, "stable"), (81, 100, "stable"), (80, 100, "falling"),
    ])
    func trendBoundaries(this: Int, last: Int, expected: String) {
        #expect(TrendRules.trend(thisWeek: this, lastWeek: last) == expected)
    }

    @Test func changePercentage() {
        #expect(TrendRules.changePct(thisWeek: 12, lastWeek: 10) == 20)
        #expect(TrendRules.changePct(thisWeek: 8, lastWeek: 10) == -20)
        #expect(TrendRules.changePct(thisWeek: 1, lastWeek: 3) == -66.7)
        #expect(TrendRules.changePct(thisWeek: 2, lastWeek: 3) == -33.3)
        #expect(TrendRules.changePct(thisWeek: 1, lastWeek: 8) == -87.5)
        #expect(TrendRules.changePct(thisWeek: 17, lastWeek: 16) == 6.3)  // 6.25 → away from zero
        #expect(TrendRules.changePct(thisWeek: 15, lastWeek: 16) == -6.3)
        #expect(TrendRules.changePct(thisWeek: 5, lastWeek: 0) == nil)
        #expect(TrendRules.changePct(thisWeek: 0, lastWeek: 0) == nil)
    }
}
