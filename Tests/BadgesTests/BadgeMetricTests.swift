import Testing

@testable import Badges

@Suite("Metric badges")
struct BadgeMetricTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var metric: BadgeMetric
        var stats: BadgeStats
        var message: String
        var color: String
        var testDescription: String { "\(metric.rawValue): \(message)" }
    }

    static let cases: [Case] = [
        Case(metric: .runs, stats: BadgeStats(totalRuns: 0), message: "0 times", color: "lightgrey"),
        Case(metric: .runs, stats: BadgeStats(totalRuns: 1), message: "1 time", color: "yellow"),
        Case(metric: .runs, stats: BadgeStats(totalRuns: 9), message: "9 times", color: "yellow"),
        Case(metric: .runs, stats: BadgeStats(totalRuns: 10), message: "10 times", color: "yellowgreen"),
        Case(metric: .runs, stats: BadgeStats(totalRuns: 100), message: "100 times", color: "green"),
        Case(metric: .runs, stats: BadgeStats(totalRuns: 999), message: "999 times", color: "green"),
        Case(metric: .runs, stats: BadgeStats(totalRuns: 1_234), message: "1.2k times", color: "brightgreen"),
        Case(metric: .runs, stats: BadgeStats(totalRuns: 2_500_000), message: "2.5M times", color: "brightgreen"),
        Case(metric: .runs, stats: BadgeStats(totalRuns: -5), message: "0 times", color: "lightgrey"),
        Case(metric: .users, stats: BadgeStats(uniqueUsers: 0), message: "0 developers", color: "lightgrey"),
        Case(metric: .users, stats: BadgeStats(uniqueUsers: 1), message: "1 developer", color: "yellow"),
        Case(metric: .users, stats: BadgeStats(uniqueUsers: 89), message: "89 developers", color: "yellowgreen"),
        Case(metric: .users, stats: BadgeStats(uniqueUsers: 12_345), message: "12k developers", color: "brightgreen"),
        Case(metric: .rating, stats: BadgeStats(), message: "no ratings", color: "lightgrey"),
        Case(metric: .rating, stats: BadgeStats(avgRating: 4.7), message: "4.7/5", color: "brightgreen"),
        Case(metric: .rating, stats: BadgeStats(avgRating: 4.46), message: "4.5/5", color: "brightgreen"),
        Case(metric: .rating, stats: BadgeStats(avgRating: 4.44), message: "4.4/5", color: "green"),
        Case(metric: .rating, stats: BadgeStats(avgRating: 4), message: "4.0/5", color: "green"),
        Case(metric: .rating, stats: BadgeStats(avgRating: 3.5), message: "3.5/5", color: "yellowgreen"),
        Case(metric: .rating, stats: BadgeStats(avgRating: 3.25), message: "3.3/5", color: "yellow"),
        Case(metric: .rating, stats: BadgeStats(avgRating: 2), message: "2.0/5", color: "orange"),
        Case(metric: .rating, stats: BadgeStats(avgRating: 1.94), message: "1.9/5", color: "red"),
        Case(metric: .rating, stats: BadgeStats(avgRating: 5), message: "5.0/5", color: "brightgreen"),
        Case(metric: .rating, stats: BadgeStats(avgRating: .nan), message: "no ratings", color: "lightgrey"),
        Case(metric: .success, stats: BadgeStats(), message: "no runs", color: "lightgrey"),
        Case(metric: .success, stats: BadgeStats(successRate: 100), message: "100%", color: "brightgreen"),
        Case(metric: .success, stats: BadgeStats(successRate: 96.3), message: "96.3%", color: "brightgreen"),
        Case(metric: .success, stats: BadgeStats(successRate: 95), message: "95%", color: "brightgreen"),
        Case(metric: .success, stats: BadgeStats(successRate: 94.96), message: "95%", color: "brightgreen"),
        Case(metric: .success, stats: BadgeStats(successRate: 94.94), message: "94.9%", color: "green"),
        Case(metric: .success, stats: BadgeStats(successRate: 90), message: "90%", color: "green"),
        Case(metric: .success, stats: BadgeStats(successRate: 85.5), message: "85.5%", color: "yellow"),
        Case(metric: .success, stats: BadgeStats(successRate: 70), message: "70%", color: "orange"),
        Case(metric: .success, stats: BadgeStats(successRate: 12.35), message: "12.4%", color: "red"),
        Case(metric: .success, stats: BadgeStats(successRate: 0), message: "0%", color: "red"),
        Case(metric: .trend, stats: BadgeStats(), message: "no data", color: "lightgrey"),
        Case(metric: .trend, stats: BadgeStats(trend: "rising", changePct: 15), message: "+15% this week", color: "brightgreen"),
        Case(metric: .trend, stats: BadgeStats(trend: "rising", changePct: 20.04), message: "+20% this week", color: "brightgreen"),
        Case(metric: .trend, stats: BadgeStats(trend: "falling", changePct: -8.3), message: "-8.3% this week", color: "red"),
        Case(metric: .trend, stats: BadgeStats(trend: "falling", changePct: -25.0), message: "-25% this week", color: "red"),
        Case(metric: .trend, stats: BadgeStats(trend: "stable", changePct: 0.04), message: "0% this week", color: "blue"),
        Case(metric: .trend, stats: BadgeStats(trend: "stable", changePct: -0.04), message: "0% this week", color: "blue"),
        Case(metric: .trend, stats: BadgeStats(trend: "stable", changePct: 1.25), message: "+1.3% this week", color: "blue"),
        Case(metric: .trend, stats: BadgeStats(trend: "stable"), message: "stable", color: "blue"),
        Case(metric: .trend, stats: BadgeStats(trend: "new"), message: "new this week", color: "blue"),
        Case(metric: .trend, stats: BadgeStats(trend: "sideways", changePct: 3), message: "no data", color: "lightgrey"),
        Case(metric: .model, stats: BadgeStats(), message: "no runs", color: "lightgrey"),
        Case(metric: .model, stats: BadgeStats(bestModel: "  "), message: "no runs", color: "lightgrey"),
        Case(metric: .model, stats: BadgeStats(bestModel: "claude-3-5-sonnet-20241022"), message: "claude-3-5-sonnet", color: "blue"),
        Case(metric: .model, stats: BadgeStats(bestModel: "gpt-4o-mini-2024-07-18"), message: "gpt-4o-mini", color: "blue"),
        Case(metric: .model, stats: BadgeStats(bestModel: "claude-3-haiku@20240307"), message: "claude-3-haiku", color: "blue"),
        Case(metric: .model, stats: BadgeStats(bestModel: "gpt-4o"), message: "gpt-4o", color: "blue"),
        Case(metric: .model, stats: BadgeStats(bestModel: "gpt-4-0613"), message: "gpt-4-0613", color: "blue"),
        Case(metric: .model, stats: BadgeStats(bestModel: "model-12345678"), message: "model-12345678", color: "blue"),
        Case(metric: .model, stats: BadgeStats(bestModel: "-20241022"), message: "-20241022", color: "blue"),
    ]

    @Test("message and colour", arguments: cases)
    func messageAndColour(testCase: Case) {
        let badge = testCase.metric.badge(for: testCase.stats, label: nil)
        #expect(badge.message == testCase.message)
        #expect(badge.color == testCase.color)
        #expect(badge.label == testCase.metric.defaultLabel)
        #expect(badge.labelColor == nil)
    }

    @Test("default labels")
    func defaultLabels() {
        let labels = BadgeMetric.allCases.map { $0.badge(for: BadgeStats(), label: nil).label }
        #expect(labels == ["tested", "users", "rating", "success", "trend", "best on", "usage"])
    }

    @Test("the label override replaces the default; an empty label is kept empty", arguments: BadgeMetric.allCases)
    func labelOverride(metric: BadgeMetric) throws {
        let stats = BadgeStats(totalRuns: 1_234, uniqueUsers: 89, avgRating: 4.7, successRate: 96.3, trend: "rising", changePct: 15)
        #expect(metric.badge(for: stats, label: "prpm").label == "prpm")
        let messageOnly = metric.badge(for: stats, label: "")
        #expect(messageOnly.label == "")
        let svg = try ParsedSVG.parse(messageOnly.svg(style: .flat)).get()
        #expect(svg.all("title").first?.text == messageOnly.message)
        #expect(svg.root.attributes["aria-label"] == messageOnly.message)
    }

    @Test("metric names are the URL names")
    func rawValues() {
        #expect(BadgeMetric.allCases.map(\.rawValue) == ["runs", "users", "rating", "success", "trend", "model", "sparkline"])
        #expect(BadgeStyle.allCases.map(\.rawValue) == ["flat", "flat-square", "plastic", "for-the-badge", "social"])
        #expect(BadgeMetric(rawValue: "downloads") == nil)
    }
}
