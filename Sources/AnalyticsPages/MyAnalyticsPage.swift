import Analytics

/// `/me`: the signed-in user's return on testing, model efficiency, top prompts and activity.
public struct MyAnalyticsPage: Sendable {
    let title = "My analytics"
    let days: Int
    let windows: [PackagePage.Window]
    let totalRunsText: String
    let creditsText: String
    let hoursSavedText: String
    let minutesPerTest: String
    let hasMoney: Bool
    let subscriptionText: String
    let creditsValueText: String
    let packCostText: String
    let savedText: String
    let savedPctText: String
    let hasAdvice: Bool
    let adviceText: String
    let adviceSavingText: String
    let adviceMinimumRuns = CostAdvice.minimumRuns
    let adviceTolerance = CostAdvice.successTolerance
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
        let money = stats.money
        (hoursSavedText, minutesPerTest) = Insights.savedTimeTexts(
            hours: money?.hoursSaved, minutesPerTest: money?.prices.minutesSavedPerTest, runs: stats.totalRuns)
        hasMoney = money != nil
        subscriptionText = PageFormat.usd(money?.subscriptionUsd)
        creditsValueText = PageFormat.usd(money?.creditsValueUsd)
        packCostText = PageFormat.usd(money?.packCostUsd)
        savedText = PageFormat.usd(money?.savedUsd)
        savedPctText = money?.savedPct.map { PageFormat.decimal($0) + "%" } ?? "–"
        let advice = stats.costAdvice
        hasAdvice = advice != nil
        adviceText =
            advice.map {
                "You use \($0.model) \(PageFormat.grouped($0.runs)) times (\(PageFormat.usd($0.creditsUsd))): try \($0.suggestedModel) for "
                    + "\(PageFormat.decimal($0.savingPct))% cost savings"
            } ?? ""
        adviceSavingText = PageFormat.usd(advice?.savingUsd)
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
