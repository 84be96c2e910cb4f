import Analytics
import Foundation
import Testing

@testable import AnalyticsPages

@Suite struct InsightsTests {
    typealias Version = PackageStats.VersionBreakdown
    typealias Model = UserStats.ModelUsage

    // Made as the API's JSON makes them (their initializers are the decoder's).
    func version(_ name: String, _ rating: Double?) -> Version {
        try! JSONDecoder().decode(
            Version.self, from: Data(#"{"package_version":"\#(name)","runs":10,"avg_rating":\#(rating.map { "\($0)" } ?? "null")}"#.utf8))
    }
    func model(_ name: String, runs: Int, ms: Int) -> Model {
        try! JSONDecoder().decode(Model.self, from: Data(#"{"model":"\#(name)","runs":\#(runs),"credits":\#(runs),"avg_duration":\#(ms)}"#.utf8))
    }

    @Test func theNewestRatedVersionIsComparedWithTheNextRatedOne() {
        // (4.6 − 4.0) / 4.0 = 15 %.
        #expect(Insights.versionComparison([version("2.0", 4.6), version("1.5", 4.0)]) == "v2.0 has 15% better ratings than v1.5")
        // Unrated versions are skipped on both sides.
        #expect(
            Insights.versionComparison([version("3.0-beta", nil), version("2.0", 4.6), version("1.9", nil), version("1.5", 4.0)])
                == "v2.0 has 15% better ratings than v1.5")
        // Only where it holds: worse, equal, under 1 %, or a single rated version say nothing.
        #expect(Insights.versionComparison([version("2.0", 3.9), version("1.5", 4.0)]) == nil)
        #expect(Insights.versionComparison([version("2.0", 4.0), version("1.5", 4.0)]) == nil)
        #expect(Insights.versionComparison([version("2.0", 4.0)]) == nil)
        #expect(Insights.versionComparison([]) == nil)
        // Half away from zero: (4.1 − 3.6) / 3.6 = 13.9 % → 14 %.
        #expect(Insights.versionComparison([version("next", 4.1), version("1.0", 3.6)]) == "next has 14% better ratings than v1.0")
    }

    @Test func theFastestModelIsComparedWithTheMostUsedOne() {
        let models = [model("gpt-4o", runs: 20, ms: 4000), model("sonnet", runs: 5, ms: 2880), model("opus", runs: 2, ms: 500)]
        // opus has too few runs; sonnet is (4000 − 2880) / 4000 = 28 % faster than gpt-4o.
        #expect(Insights.modelEfficiency(models)! == ("sonnet", 28))
        // The most used model is already the fastest, or the gain is under 5 %: no advice.
        #expect(Insights.modelEfficiency([model("a", runs: 9, ms: 1000), model("b", runs: 4, ms: 2000)]) == nil)
        #expect(Insights.modelEfficiency([model("a", runs: 9, ms: 1000), model("b", runs: 4, ms: 960)]) == nil)
        #expect(Insights.modelEfficiency([model("a", runs: 9, ms: 1000)]) == nil)
        #expect(Insights.modelEfficiency([]) == nil)
    }

    @Test func returnOnTestingAndChanges() {
        #expect(Insights.hoursSaved(runs: 0) == 0)
        #expect(Insights.hoursSaved(runs: 10) == 0.5)
        #expect(Insights.hoursSaved(runs: 1247) == 62.4)  // 3741 min = 62.35 h → 62.4
        #expect(Insights.change(6, from: 4) == 50)
        #expect(Insights.change(3, from: 4) == -25)
        #expect(Insights.change(5, from: 0) == nil)
    }

    @Test func figuresAsPeopleReadThem() {
        #expect(PageFormat.duration(milliseconds: 850) == "850 ms")
        #expect(PageFormat.duration(milliseconds: 2140) == "2.1 s")
        #expect(PageFormat.duration(milliseconds: 2150) == "2.2 s")
        #expect(PageFormat.duration(milliseconds: 15000) == "15 s")
        #expect(PageFormat.signedPercent(15) == "+15%")
        #expect(PageFormat.signedPercent(-8.3) == "-8.3%")
        #expect(PageFormat.signedPercent(0) == "0%")
        #expect(PageFormat.starFill(4.7) == "94")
        #expect(PageFormat.starFill(7) == "100")
        #expect(Insights.displayVersion("2.0") == "v2.0" && Insights.displayVersion("latest") == "latest")
    }
}
