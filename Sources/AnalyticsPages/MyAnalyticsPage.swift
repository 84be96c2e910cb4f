import Analytics

/// `/me`: the signed-in user's return on testing, model efficiency, top prompts and activity.
public struct MyAnalyticsPage: Sendable {
    let title = "My analytics"
    let days: Int
    let windows: [PackagePage.Window]
    let totalRunsText: String
    let creditsText: String
    let hoursSavedText: String
    let minutesPerTest = Insights.minutesSavedPerTest
    let avgResponseText: String
    let mostUsedModel: String
    let hasEfficiency: Bool
    let efficiencyText: String
    let hasModels: Bool
    let models: [Model]
    let hasPackages: Bool
    let packages: [TopPackage]
    let activityChart: String

    struct Model: Sendable {
        let model: String
        let runsText: String
        let creditsText: String
        let durationText: String
    }

    struct TopPackage: Sendable {
        let name: String
        let path: String
        let runsText: String
        let creditsText: String
        let ratingText: String
    }

    public init(stats: UserStats) {
        days = stats.days
        windows = [7, 30, 90, 365].map { PackagePage.Window(days: $0, path: "/me?days=\($0)", current: $0 == stats.days) }
        totalRunsText = PageFormat.grouped(stats.totalRuns)
        creditsText = PageFormat.grouped(stats.creditsSpent)
        hoursSavedText = PageFormat.decimal(Insights.hoursSaved(runs: stats.totalRuns))
        avgResponseText = stats.avgResponseTime.map { PageFormat.duration(milliseconds: $0) } ?? "–"
        mostUsedModel = stats.mostUsedModel ?? "–"
        let efficiency = Insights.modelEfficiency(stats.modelUsage)
        hasEfficiency = efficiency != nil
        efficiencyText = efficiency.map { "Use \($0.model) for \($0.percentFaster)% faster results" } ?? ""
        hasModels = !stats.modelUsage.isEmpty
        models = stats.modelUsage.map {
            Model(
                model: $0.model, runsText: PageFormat.grouped($0.runs), creditsText: PageFormat.grouped($0.credits),
                durationText: PageFormat.duration(milliseconds: $0.avg_duration))
        }
        hasPackages = !stats.topPackages.isEmpty
        packages = stats.topPackages.map {
            TopPackage(
                name: $0.name, path: PageFormat.pathSegment($0.name), runsText: PageFormat.grouped($0.runs),
                creditsText: PageFormat.grouped($0.credits), ratingText: $0.avg_rating.map { PageFormat.decimal($0) } ?? "–")
        }
        activityChart = SVGChart.daily(
            stats.dailyActivity.map { ChartPoint(label: $0.date, value: Double($0.runs)) }, title: "My runs per day, last \(stats.days) days",
            unit: "runs", width: 960, height: 220)
    }
}
