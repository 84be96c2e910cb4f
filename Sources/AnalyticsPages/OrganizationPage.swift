import Analytics
import Foundation

/// `/orgs/:id`: the executive summary, leaderboard, popular prompts, cost by team and daily
/// usage of an organization, with the change against the previous period of the same length.
public struct OrganizationPage: Sendable {
    let title: String
    let orgName: String
    let days: Int
    let windows: [PackagePage.Window]
    let activeMembersText: String
    let totalMembersText: String
    let adoptionText: String
    let totalRunsText: String
    let creditsText: String
    let hoursSavedText: String
    let minutesPerTest: String
    let hasMoney: Bool
    let investmentText: String
    let orgPriceText: String
    let membersPriceText: String
    let valueText: String
    let hourlyText: String
    let roiText: String
    let reportPath: String
    let membersCSVPath: String
    let teamsCSVPath: String
    let hasPrevious: Bool
    let runsChange: Change
    let creditsChange: Change
    let hasMembers: Bool
    let members: [Member]
    let hasMoreMembers: Bool
    let moreMembersText: String
    let hasPackages: Bool
    let packages: [TopPackage]
    let teamChart: String
    let dailyChart: String

    struct Change: Sendable {
        let text: String
        let direction: String
    }

    struct Member: Sendable {
        let rank: Int
        let username: String
        let runsText: String
        let creditsText: String
        let lastActive: String
    }

    struct TopPackage: Sendable {
        let name: String
        let path: String
        let runsText: String
        let usersText: String
        let ratingText: String
    }

    /// Members shown on the leaderboard (the answer lists every active member).
    public static let leaderboardSize = 25

    /// Longest window with a previous period the API can answer (twice the window ≤ 365 days).
    public static let longestCompared = 182

    /// `previous` is the same organization's answer for twice the window (its first half is the
    /// previous period), or nil when the window is longer than `longestCompared`.
    public init(stats: OrganizationStats, doubled previous: OrganizationStats?) {
        let orgPath = "/orgs/\(stats.orgId.uuidString.lowercased())"
        title = stats.orgName
        orgName = stats.orgName
        days = stats.days
        windows = [7, 30, 90, 365].map { PackagePage.Window(days: $0, path: "\(orgPath)?days=\($0)", current: $0 == stats.days) }
        activeMembersText = PageFormat.grouped(stats.activeMembers)
        totalMembersText = PageFormat.grouped(stats.totalMembers)
        adoptionText = Rounding.percentage(stats.activeMembers, of: stats.totalMembers).map { PageFormat.decimal($0) + "%" } ?? "–"
        totalRunsText = PageFormat.grouped(stats.totalRuns)
        creditsText = PageFormat.grouped(stats.totalCredits)
        let money = stats.money
        (hoursSavedText, minutesPerTest) = Insights.savedTimeTexts(
            hours: money?.hoursSaved, minutesPerTest: money?.prices.minutesSavedPerTest, runs: stats.totalRuns)
        hasMoney = money != nil
        investmentText = PageFormat.usd(money?.investmentUsd)
        orgPriceText = PageFormat.usd(money?.orgPriceUsd)
        membersPriceText = PageFormat.usd(money?.membersPriceUsd)
        valueText = PageFormat.usd(money?.valueUsd)
        hourlyText = PageFormat.usd(money?.prices.hourlyValueUsd)
        roiText = PageFormat.multiple(money?.roiMultiple)
        reportPath = "\(orgPath)/report"
        membersCSVPath = "\(orgPath)/members.csv?days=\(stats.days)"
        teamsCSVPath = "\(orgPath)/teams.csv?days=\(stats.days)"
        let earlier = previous.map { Array($0.dailyUsage.prefix($0.dailyUsage.count - stats.days)) } ?? []
        hasPrevious = previous != nil
        func change(_ current: Int, _ before: Int) -> Change {
            guard let pct = Insights.change(current, from: before) else {
                return Change(text: before == current ? "no change" : "new", direction: "flat")
            }
            return Change(text: PageFormat.signedPercent(pct), direction: pct > 0 ? "up" : pct < 0 ? "down" : "flat")
        }
        runsChange = change(stats.totalRuns, earlier.reduce(0) { $0 + $1.runs })
        creditsChange = change(stats.totalCredits, earlier.reduce(0) { $0 + $1.credits })
        hasMembers = !stats.memberActivity.isEmpty
        hasMoreMembers = stats.memberActivity.count > Self.leaderboardSize
        moreMembersText = PageFormat.grouped(max(0, stats.memberActivity.count - Self.leaderboardSize))
        members = stats.memberActivity.prefix(Self.leaderboardSize).enumerated().map { index, member in
            Member(
                rank: index + 1, username: member.username, runsText: PageFormat.grouped(member.runs),
                creditsText: PageFormat.grouped(member.credits_spent), lastActive: String(member.last_active.prefix(10)))
        }
        hasPackages = !stats.topPackages.isEmpty
        packages = stats.topPackages.map {
            TopPackage(
                name: $0.name, path: PageFormat.pathSegment($0.name), runsText: PageFormat.grouped($0.runs),
                usersText: PageFormat.grouped($0.unique_users), ratingText: $0.avg_rating.map { PageFormat.decimal($0) } ?? "–")
        }
        teamChart = SVGChart.bars(
            stats.teamAllocation.map {
                ChartBar(
                    label: $0.team, value: Double($0.credits),
                    valueText: "\(PageFormat.grouped($0.credits)) credits · \(PageFormat.grouped($0.runs)) runs")
            }, title: "Credits by team", width: 480)
        let current = stats.dailyUsage.map { ChartPoint(label: $0.date, value: Double($0.runs)) }
        if previous != nil {
            dailyChart = SVGChart.comparison(
                current: current, previous: earlier.map { ChartPoint(label: $0.date, value: Double($0.runs)) },
                currentName: "Last \(stats.days) days", previousName: "The \(stats.days) days before", title: "Runs per day", unit: "runs",
                width: 960, height: 220)
        } else {
            dailyChart = SVGChart.daily(current, title: "Runs per day, last \(stats.days) days", unit: "runs", width: 960, height: 220)
        }
    }
}
