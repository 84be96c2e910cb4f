import Analytics
import Foundation

/// `/packages/:name`: the package's headline, charts, versions, rank and badges, from its answer.
public struct PackagePage: Sendable {
    let title: String
    let name: String
    let days: Int
    let windows: [Window]
    let headline: String
    let totalRunsText: String
    let uniqueUsersText: String
    let hasRating: Bool
    let ratingText: String
    let starFill: String
    let successRateText: String
    let avgDurationText: String
    let avgCostText: String
    let helpfulRateText: String
    let hasBestModel: Bool
    let bestModelText: String
    let hasTrend: Bool
    let trendText: String
    let trendDirection: String
    let hasRank: Bool
    let rankText: String
    let dailyChart: String
    let hasModels: Bool
    let modelChart: String
    let models: [Model]
    let hasVersions: Bool
    let versions: [Version]
    let hasVersionInsight: Bool
    let versionInsight: String
    let badges: [Badge]

    struct Window: Sendable {
        let days: Int
        let path: String
        let current: Bool
    }

    struct Model: Sendable {
        let model: String
        let runsText: String
        let durationText: String
        let successText: String
    }

    struct Version: Sendable {
        let version: String
        let runsText: String
        let ratingText: String
    }

    struct Badge: Sendable {
        let metric: String
        let imagePath: String
        let markdown: String
    }

    /// Badge metrics shown with a snippet, in the contract's order.
    public static let badgeMetrics = ["runs", "users", "rating", "success", "trend", "model", "sparkline"]

    /// `baseURL` (scheme and host, no trailing slash) makes the Markdown snippets absolute.
    public init(stats: PackageStats, baseURL: String) {
        let segment = PageFormat.pathSegment(stats.packageName)
        title = stats.packageName
        name = stats.packageName
        days = stats.days
        windows = [7, 30, 90, 365].map { Window(days: $0, path: "/packages/\(segment)?days=\($0)", current: $0 == stats.days) }
        headline =
            "Tested \(PageFormat.grouped(stats.totalRuns)) \(stats.totalRuns == 1 ? "time" : "times") by "
            + "\(PageFormat.grouped(stats.uniqueUsers)) \(stats.uniqueUsers == 1 ? "developer" : "developers")"
        totalRunsText = PageFormat.grouped(stats.totalRuns)
        uniqueUsersText = PageFormat.grouped(stats.uniqueUsers)
        hasRating = stats.avgRating != nil
        ratingText = stats.avgRating.map { PageFormat.decimal($0) } ?? "–"
        starFill = stats.avgRating.map(PageFormat.starFill) ?? "0"
        successRateText = stats.successRate.map { PageFormat.decimal($0) + "%" } ?? "–"
        avgDurationText = stats.avgDuration.map { PageFormat.duration(milliseconds: $0) } ?? "–"
        avgCostText = stats.avgCost.map { PageFormat.decimal($0) } ?? "–"
        helpfulRateText = stats.helpfulRate.map { PageFormat.decimal($0) + "%" } ?? "–"
        hasBestModel = stats.bestModel != nil
        bestModelText = stats.bestModel.map { "Best on \($0.model) (\(PageFormat.duration(milliseconds: $0.avg_duration)) avg)" } ?? ""
        let trend = stats.weekOverWeek
        hasTrend = trend != nil
        if let trend {
            if trend.trend == "new" {
                trendText = "New this week: \(PageFormat.grouped(trend.thisWeek)) runs"
            } else if let pct = trend.changePct {
                trendText = "\(PageFormat.signedPercent(pct)) usage this week"
            } else {
                trendText = "No runs last week"
            }
            trendDirection = trend.trend == "rising" || trend.trend == "new" ? "up" : trend.trend == "falling" ? "down" : "flat"
        } else {
            trendText = ""
            trendDirection = "flat"
        }
        hasRank = stats.popularityRank != nil
        rankText = stats.popularityRank.map { "#\(PageFormat.grouped($0))" } ?? ""
        dailyChart = SVGChart.daily(
            stats.dailyUsage.map { ChartPoint(label: $0.date, value: Double($0.runs)) }, title: "Runs per day, last \(stats.days) days", unit: "runs",
            width: 960, height: 220)
        hasModels = !stats.modelBreakdown.isEmpty
        modelChart = SVGChart.bars(
            stats.modelBreakdown.prefix(8).map {
                ChartBar(
                    label: $0.model, value: Double($0.runs),
                    valueText: "\(PageFormat.grouped($0.runs)) runs · \(PageFormat.duration(milliseconds: $0.avg_duration))")
            }, title: "Runs by model", width: 960)
        models = stats.modelBreakdown.map {
            Model(
                model: $0.model, runsText: PageFormat.grouped($0.runs), durationText: PageFormat.duration(milliseconds: $0.avg_duration),
                successText: PageFormat.decimal($0.success_rate) + "%")
        }
        hasVersions = !stats.versionBreakdown.isEmpty
        versions = stats.versionBreakdown.map {
            Version(
                version: Insights.displayVersion($0.package_version), runsText: PageFormat.grouped($0.runs),
                ratingText: $0.avg_rating.map { PageFormat.decimal($0) } ?? "–")
        }
        let insight = Insights.versionComparison(stats.versionBreakdown)
        hasVersionInsight = insight != nil
        versionInsight = insight ?? ""
        let packagePath = "/api/v1/analytics/package/\(segment)/badge"
        badges = Self.badgeMetrics.map { metric in
            Badge(
                metric: metric, imagePath: "\(packagePath)/\(metric).svg",
                markdown: "[![\(metric)](\(baseURL)\(packagePath)/\(metric).svg)](\(baseURL)/packages/\(segment))")
        }
    }
}
