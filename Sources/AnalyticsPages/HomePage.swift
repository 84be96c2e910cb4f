import Analytics

/// `/`: the site's totals, trending and popular packages, with links to their pages.
public struct HomePage: Sendable {
    let title = "Home"
    let totalRunsText: String
    let uniqueUsersText: String
    let packagesWithRunsText: String
    let trending: [Trend]
    let popular: [Popular]
    /// Stored, not computed: templates see stored properties only (they are read by reflection).
    let hasTrending: Bool
    let hasPopular: Bool

    struct Trend: Sendable {
        let name: String
        let path: String
        let thisWeekText: String
        let changeText: String
        let direction: String
    }

    struct Popular: Sendable {
        let rank: Int
        let name: String
        let path: String
        let runs: Int
        let runsText: String
    }

    public init(summary: SiteSummary, trending: TrendingPackages, popular: PopularPackages) {
        totalRunsText = PageFormat.grouped(summary.totalRuns)
        uniqueUsersText = PageFormat.grouped(summary.uniqueUsers)
        packagesWithRunsText = PageFormat.grouped(summary.packagesWithRuns)
        self.trending = trending.packages.map { entry in
            let change: String
            if entry.trend == "new" {
                change = "new"
            } else if let pct = entry.changePct {
                change = PageFormat.signedPercent(pct)
            } else {
                change = entry.trend
            }
            return Trend(
                name: entry.name, path: PageFormat.pathSegment(entry.name), thisWeekText: PageFormat.grouped(entry.thisWeek),
                changeText: change, direction: entry.trend == "rising" || entry.trend == "new" ? "up" : entry.trend == "falling" ? "down" : "flat")
        }
        self.popular = popular.packages.map {
            Popular(rank: $0.rank, name: $0.name, path: PageFormat.pathSegment($0.name), runs: $0.runs, runsText: PageFormat.grouped($0.runs))
        }
        hasTrending = !self.trending.isEmpty
        hasPopular = !self.popular.isEmpty
    }
}
